// Exercise 16 — the opening handshake: see accept_key and handshake in websocket.hpp.
#include "websocket.hpp"

#include "net/error.hpp"

namespace ws {

std::string accept_key(std::string_view client_key) {
    (void)client_key;
    net::todo("accept_key: base64(SHA-1(key + GUID)) with the given sha1 and base64_encode (websocket.hpp)");
}

http::Response handshake(const http::Request& request) {
    (void)request;
    net::todo("handshake: 101 with Sec-WebSocket-Accept, or 400/426 saying why (websocket.hpp)");
}

}  // namespace ws
