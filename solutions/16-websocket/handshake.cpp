// Exercise 16, the handshake (RFC 6455 §4.2): an HTTP/1.1 GET that asks to
// become a WebSocket, answered 101 with the proof that the server read the key.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "http/text.hpp"
#include "websocket.hpp"

namespace ws {
namespace {

// True when the comma-separated list in `request`'s field `name` holds `token` (any case).
bool has_token(const http::Request& request, std::string_view name, std::string_view token) {
    const std::string* value = request.header(name);
    bool found = false;
    if (value != nullptr) {
        http::for_each_token(*value, [&](std::string_view each) { found = found || http::iequals(each, token); });
    }
    return found;
}

http::Response refuse(int status, std::string_view why) {
    http::Response response = http::Response::text(fmt::format("{}\n", why), status);
    // What this server speaks, so that a client of another version can retry (§4.4).
    response.headers.push_back({"Sec-WebSocket-Version", "13"});
    return response;
}

}  // namespace

std::string accept_key(std::string_view client_key) {
    const std::array<std::uint8_t, 20> digest = sha1(std::string(client_key) + std::string(handshake_guid));
    return base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

http::Response handshake(const http::Request& request) {
    if (request.method != "GET") {
        return refuse(400, "a WebSocket opens with a GET");
    }
    if (request.minor_version != 1) {
        return refuse(400, "a WebSocket needs HTTP/1.1");
    }
    if (!has_token(request, "Upgrade", "websocket")) {
        return refuse(400, "no 'Upgrade: websocket'");
    }
    if (!has_token(request, "Connection", "upgrade")) {
        return refuse(400, "no 'upgrade' in Connection");
    }
    const std::string* version = request.header("Sec-WebSocket-Version");
    if (version == nullptr || *version != "13") {
        return refuse(426, "this server speaks WebSocket version 13");
    }
    const std::string* key = request.header("Sec-WebSocket-Key");
    if (key == nullptr) {
        return refuse(400, "no Sec-WebSocket-Key");
    }
    const std::string_view trimmed = http::trim(*key);
    const std::optional<std::string> nonce = base64_decode(trimmed);
    if (!nonce || nonce->size() != 16) {
        return refuse(400, "Sec-WebSocket-Key is not 16 bytes in base64");
    }
    http::Response response;
    response.status = 101;
    response.content_type = "";
    response.headers = {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", accept_key(trimmed)}};
    return response;
}

}  // namespace ws
