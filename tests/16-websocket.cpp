// Tests for exercise 16 — the WebSocket handshake and frame decoder
// (exercises/16-websocket/websocket.hpp). The decoder is fed tables of frames
// cut at every split point and a table of broken frames, each of which must
// end the connection with its RFC 6455 close code; then the given ws::Room on
// common/http's server is driven over loopback by a client written here.
#include <doctest/doctest.h>

#include <sys/socket.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "16-websocket/ws_fixture.hpp"
#include "harness.hpp"
#include "http/text.hpp"
#include "pieces.hpp"
#include "websocket.hpp"

using fixtures16::client_frame;
using fixtures16::close_payload;
using ws::Opcode;

namespace {

struct Decoded {
    std::vector<ws::Message> messages;
    std::uint16_t error = 0;  // the ProtocolError's code; 0: none
    std::string why;
};

// Feeds `bytes` in pieces cut at `cuts` (positions), draining next() after each.
Decoded decode(std::string_view bytes, const std::vector<std::size_t>& cuts = {}, std::size_t limit = 1 << 20) {
    ws::FrameDecoder decoder(limit);
    Decoded out;
    try {
        for (const std::string_view piece : harness::pieces(bytes, cuts)) {
            decoder.feed(piece);
            while (std::optional<ws::Message> message = decoder.next()) {
                out.messages.push_back(std::move(*message));
            }
        }
    } catch (const ws::ProtocolError& error) {
        out.error = error.code();
        out.why = error.what();
    }
    return out;
}

std::string describe(const Decoded& decoded) {
    std::string text = fmt::format("error {} ({})", decoded.error, decoded.why);
    for (const ws::Message& m : decoded.messages) {
        text += fmt::format("; opcode {} code {} \"{}\"", static_cast<int>(m.opcode), m.code, harness::escape(m.payload));
    }
    return text;
}

// A stream with one of everything: lengths of each form, a fragmented text
// whose 'é' is cut between fragments, a ping between fragments, a close.
std::string mixed_stream() {
    return client_frame(Opcode::text, "Hello") + client_frame(Opcode::binary, std::string(300, '\x5a')) +
           client_frame(Opcode::text, "caf\xc3", false) + client_frame(Opcode::ping, "are you there?") +
           client_frame(Opcode::continuation, "\xa9 au lait", true, 0x01020304) +
           client_frame(Opcode::close, close_payload(1000, "bye"));
}

void check_mixed(const Decoded& decoded) {
    INFO(describe(decoded));
    REQUIRE(decoded.error == 0);
    REQUIRE(decoded.messages.size() == 5);
    CHECK(decoded.messages[0].opcode == Opcode::text);
    CHECK(decoded.messages[0].payload == "Hello");
    CHECK(decoded.messages[1].opcode == Opcode::binary);
    CHECK(decoded.messages[1].payload == std::string(300, '\x5a'));
    CHECK(decoded.messages[2].opcode == Opcode::ping);
    CHECK(decoded.messages[2].payload == "are you there?");
    CHECK(decoded.messages[3].opcode == Opcode::text);
    CHECK(decoded.messages[3].payload == "caf\xc3\xa9 au lait");
    CHECK(decoded.messages[4].opcode == Opcode::close);
    CHECK(decoded.messages[4].code == 1000);
    CHECK(decoded.messages[4].payload == "bye");
}

}  // namespace

TEST_CASE("handshake: RFC 6455's sample key gives its accept value") {
    CHECK(ws::accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK(ws::accept_key("x3JJHMbDL1EzLkh9GBhXDw==") == "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

namespace {

http::Request upgrade_request_object() {
    http::Request request;
    request.method = "GET";
    request.target = request.path = "/ws";
    request.headers = {{"Host", "t"},
                       {"Upgrade", "websocket"},
                       {"Connection", "Upgrade"},
                       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                       {"Sec-WebSocket-Version", "13"}};
    return request;
}

// `request` with field `name` set to `value` ("" removes it).
http::Request with(std::string_view name, std::string_view value, http::Request request = upgrade_request_object()) {
    std::erase_if(request.headers, [&](const http::Field& f) { return f.name == name; });
    if (!value.empty()) {
        request.headers.push_back({std::string(name), std::string(value)});
    }
    return request;
}

}  // namespace

TEST_CASE("handshake: a table of requests, each a 101 or refused with 400 or 426 and Sec-WebSocket-Version: 13") {
    http::Request post = upgrade_request_object();
    post.method = "POST";
    http::Request old = upgrade_request_object();
    old.minor_version = 0;
    const struct {
        const char* what;
        http::Request request;
        int status;
    } table[] = {
        {"what a browser sends", upgrade_request_object(), 101},
        {"Firefox's Connection: keep-alive, Upgrade", with("Connection", "keep-alive, Upgrade"), 101},
        {"tokens in any case", with("Upgrade", "WebSocket", with("Connection", "UPGRADE")), 101},
        {"a key with spaces around it", with("Sec-WebSocket-Key", "  dGhlIHNhbXBsZSBub25jZQ==  "), 101},
        {"POST", post, 400},
        {"HTTP/1.0", old, 400},
        {"no Upgrade", with("Upgrade", ""), 400},
        {"Upgrade: h2c", with("Upgrade", "h2c"), 400},
        {"no Connection", with("Connection", ""), 400},
        {"Connection: keep-alive only", with("Connection", "keep-alive"), 400},
        {"Connection: upgraded (not the token)", with("Connection", "upgraded"), 400},
        {"no Sec-WebSocket-Version", with("Sec-WebSocket-Version", ""), 426},
        {"Sec-WebSocket-Version: 8", with("Sec-WebSocket-Version", "8"), 426},
        {"Sec-WebSocket-Version: 13, 8", with("Sec-WebSocket-Version", "13, 8"), 426},
        {"no key", with("Sec-WebSocket-Key", ""), 400},
        {"a key that is not base64", with("Sec-WebSocket-Key", "not base64 at all!!!!!!!"), 400},
        {"a key of 15 bytes", with("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25j"), 400},
        {"a key of 17 bytes", with("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZSE="), 400},
        {"a key without its padding", with("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ"), 400},
    };
    for (const auto& row : table) {
        CAPTURE(row.what);
        const http::Response response = ws::handshake(row.request);
        CHECK(response.status == row.status);
        CHECK_FALSE(response.upgrade);
        auto field = [&](std::string_view name) -> std::string {
            for (const http::Field& f : response.headers) {
                if (http::iequals(f.name, name)) {
                    return f.value;
                }
            }
            return "(none)";
        };
        if (row.status == 101) {
            CHECK(field("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
            CHECK(http::iequals(field("Upgrade"), "websocket"));
            CHECK(http::iequals(field("Connection"), "Upgrade"));
            CHECK(response.content_type == "");
        } else {
            CHECK(field("Sec-WebSocket-Version") == "13");
            CHECK(field("Sec-WebSocket-Accept") == "(none)");
        }
    }
}

TEST_CASE("frames: a stream of every kind of frame decodes the same, cut at every split point") {
    const std::string stream = mixed_stream();
    check_mixed(decode(stream));
    for (std::size_t cut = 1; cut < stream.size(); ++cut) {
        CAPTURE(cut);
        check_mixed(decode(stream, {cut}));
    }
    check_mixed(decode(stream, harness::every_byte(stream)));
}

TEST_CASE("frames: 16-bit and 64-bit lengths are big-endian") {
    for (const std::size_t size : {126u, 256u, 300u, 65535u, 65536u, 70000u}) {
        CAPTURE(size);
        const std::string payload = harness::random_bytes(size, size);
        const std::string frame = client_frame(Opcode::binary, payload) + client_frame(Opcode::text, "next");
        // Cut inside the length field and the key, and in the payload.
        const Decoded decoded = decode(frame, {1, 3, 9, 100});
        INFO(describe(decoded).substr(0, 200));
        REQUIRE(decoded.messages.size() == 2);
        CHECK(harness::first_difference(payload, decoded.messages[0].payload) == "");
        CHECK(decoded.messages[1].payload == "next");
    }
}

namespace {

std::string with_first_byte(std::string frame, std::uint8_t byte) {
    frame[0] = static_cast<char>(byte);
    return frame;
}

}  // namespace

TEST_CASE("frames: each broken rule ends the connection with its close code, whole or cut at any byte") {
    std::string top_bit = "\x82\xff";
    top_bit += std::string("\x80\x00\x00\x00\x00\x00\x00\x01", 8) + "\x01\x02\x03\x04";
    const struct {
        const char* what;
        std::string bytes;
        std::uint16_t code;
    } table[] = {
        {"an unmasked text frame", client_frame(Opcode::text, "hi", true, 0, false), 1002},
        {"an unmasked ping", client_frame(Opcode::ping, "", true, 0, false), 1002},
        {"RSV1 set", with_first_byte(client_frame(Opcode::text, "hi"), 0xC1), 1002},
        {"RSV2 set", with_first_byte(client_frame(Opcode::text, "hi"), 0xA1), 1002},
        {"RSV3 set", with_first_byte(client_frame(Opcode::text, "hi"), 0x91), 1002},
        {"opcode 3", with_first_byte(client_frame(Opcode::text, "hi"), 0x83), 1002},
        {"opcode 0xB", with_first_byte(client_frame(Opcode::text, ""), 0x8B), 1002},
        {"a ping with FIN clear", client_frame(Opcode::ping, "x", false), 1002},
        {"a close with FIN clear", client_frame(Opcode::close, close_payload(1000), false), 1002},
        {"a ping of 126 bytes", client_frame(Opcode::ping, std::string(126, 'p')), 1002},
        {"a pong of 200 bytes", client_frame(Opcode::pong, std::string(200, 'p')), 1002},
        {"a continuation with no message begun", client_frame(Opcode::continuation, "x"), 1002},
        {"a text frame inside a fragmented message",
         client_frame(Opcode::text, "a", false) + client_frame(Opcode::text, "b"), 1002},
        {"a binary frame inside a fragmented message",
         client_frame(Opcode::binary, "a", false) + client_frame(Opcode::binary, "b"), 1002},
        {"a 64-bit length with its top bit set", top_bit, 1002},
        {"a close payload of 1 byte", client_frame(Opcode::close, "\x03"), 1002},
        {"close code 999", client_frame(Opcode::close, close_payload(999)), 1002},
        {"close code 1004", client_frame(Opcode::close, close_payload(1004)), 1002},
        {"close code 1005", client_frame(Opcode::close, close_payload(1005)), 1002},
        {"close code 1006", client_frame(Opcode::close, close_payload(1006)), 1002},
        {"close code 1015", client_frame(Opcode::close, close_payload(1015)), 1002},
        {"close code 2999", client_frame(Opcode::close, close_payload(2999)), 1002},
        {"close code 5000", client_frame(Opcode::close, close_payload(5000)), 1002},
        {"a close reason that is not UTF-8", client_frame(Opcode::close, close_payload(1000, "\xff")), 1007},
        {"text with an overlong NUL", client_frame(Opcode::text, "a\xc0\x80"), 1007},
        {"text with a surrogate", client_frame(Opcode::text, "\xed\xa0\x80"), 1007},
        {"text above U+10FFFF", client_frame(Opcode::text, "\xf4\x90\x80\x80"), 1007},
        {"fragmented text, the second fragment broken",
         client_frame(Opcode::text, "ok ", false) + client_frame(Opcode::continuation, "\xff"), 1007},
    };
    for (const auto& row : table) {
        CAPTURE(row.what);
        const Decoded whole = decode(row.bytes);
        INFO(describe(whole));
        CHECK(whole.error == row.code);
        CHECK(whole.messages.empty());  // never handed out
        for (std::size_t cut = 1; cut < row.bytes.size(); ++cut) {
            CAPTURE(cut);
            CHECK(decode(row.bytes, {cut}).error == row.code);
        }
    }
}

TEST_CASE("frames: close frames give their code and reason, 1005 without one; control frames may come between fragments") {
    for (const std::uint16_t code : {1000, 1001, 1003, 1007, 1011, 3000, 4999}) {
        const Decoded decoded = decode(client_frame(Opcode::close, close_payload(code, "why")));
        INFO(describe(decoded));
        REQUIRE(decoded.messages.size() == 1);
        CHECK(decoded.messages[0].code == code);
        CHECK(decoded.messages[0].payload == "why");
    }
    const Decoded empty = decode(client_frame(Opcode::close, ""));
    REQUIRE(empty.messages.size() == 1);
    CHECK(empty.messages[0].code == ws::close_code::no_status);
    const Decoded between = decode(client_frame(Opcode::binary, "one ", false) + client_frame(Opcode::pong, "p") +
                                   client_frame(Opcode::continuation, "two ", false) + client_frame(Opcode::ping, "q") +
                                   client_frame(Opcode::continuation, "three"));
    INFO(describe(between));
    REQUIRE(between.messages.size() == 3);
    CHECK(between.messages[0].opcode == Opcode::pong);
    CHECK(between.messages[1].opcode == Opcode::ping);
    CHECK(between.messages[1].payload == "q");
    CHECK(between.messages[2].opcode == Opcode::binary);
    CHECK(between.messages[2].payload == "one two three");
}

TEST_CASE("frames: valid_utf8 refuses overlong forms, surrogates, code points above U+10FFFF and cut sequences") {
    const std::vector<std::pair<std::string, bool>> table = {
        {"", true}, {"plain ASCII", true}, {"caf\xc3\xa9", true}, {"\xe2\x82\xac", true},
        {"\xf0\x9f\x98\x80", true}, {"\xed\x9f\xbf", true}, {"\xee\x80\x80", true}, {"\xef\xbf\xbf", true},
        {"\xf4\x8f\xbf\xbf", true}, {std::string("nul \0 is fine", 13), true},
        {"\xc0\x80", false}, {"\xc1\xbf", false}, {"\xe0\x9f\xbf", false}, {"\xf0\x8f\xbf\xbf", false},
        {"\xed\xa0\x80", false}, {"\xed\xbf\xbf", false}, {"\xf4\x90\x80\x80", false}, {"\xf8\x88\x80\x80\x80", false},
        {"\xff", false}, {"\x80", false}, {"\xe2\x82", false}, {"caf\xc3", false}, {"\xc3\x28", false},
    };
    for (const auto& [bytes, valid] : table) {
        CAPTURE(harness::escape(bytes));
        CHECK(ws::valid_utf8(bytes) == valid);
    }
}

TEST_CASE("frames: UTF-8 is checked over the whole message, so a character may be cut between fragments") {
    // "€" (E2 82 AC) cut after each of its bytes; then each fragment valid on
    // its own but not together, and a message whose last fragment ends mid-character.
    for (std::size_t cut = 1; cut < 3; ++cut) {
        const std::string euro = "\xe2\x82\xac";
        const Decoded decoded = decode(client_frame(Opcode::text, euro.substr(0, cut), false) +
                                       client_frame(Opcode::continuation, euro.substr(cut)));
        INFO(describe(decoded));
        REQUIRE(decoded.messages.size() == 1);
        CHECK(decoded.messages[0].payload == euro);
    }
    const Decoded cut_short = decode(client_frame(Opcode::text, "ok", false) + client_frame(Opcode::continuation, "\xe2\x82"));
    CHECK(cut_short.error == 1007);
}

TEST_CASE("frames: a message over the limit is refused with 1009 at its header, all fragments counted") {
    // A 2^40-byte frame: only its 10 header bytes ever arrive.
    std::string huge = "\x82\xff";
    huge += std::string("\x00\x00\x01\x00\x00\x00\x00\x00", 8);
    CHECK(decode(huge, {}, 1000).error == 1009);
    CHECK(decode(client_frame(Opcode::binary, std::string(1000, 'a')), {}, 1000).error == 0);
    CHECK(decode(client_frame(Opcode::binary, std::string(1001, 'a')).substr(0, 8), {}, 1000).error == 1009);
    const std::string three = client_frame(Opcode::text, std::string(400, 'a'), false) +
                              client_frame(Opcode::continuation, std::string(400, 'b'), false) +
                              client_frame(Opcode::continuation, std::string(400, 'c'));
    CHECK(decode(three, {}, 1000).error == 1009);
    CHECK(decode(three, {}, 1200).messages.size() == 1);
}

TEST_CASE("given: server frames are unmasked in the shortest length form; a long close reason is cut before a character") {
    CHECK(ws::encode_frame(Opcode::text, "hi") == std::string("\x81\x02hi"));
    CHECK(ws::encode_frame(Opcode::binary, std::string(300, 'b')).substr(0, 4) == std::string("\x82\x7e\x01\x2c"));
    CHECK(ws::encode_frame(Opcode::binary, std::string(65536, 'b')).substr(0, 10) ==
          std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
    std::string long_reason;
    for (int i = 0; i < 70; ++i) {
        long_reason += "\xc3\xa9";  // 140 bytes of 'é'
    }
    const std::string frame = ws::encode_close(1000, long_reason);
    CHECK(frame.size() <= 2 + 125);
    CHECK(frame.substr(0, 4) == std::string("\x88\x7c\x03\xe8"));
    CHECK(ws::valid_utf8(frame.substr(4)));
}

// ---- over loopback: common/http's server, the given ws::Room, your code inside ----

TEST_CASE("server: the upgrade over loopback, then messages echoed (the first one sent with the request)") {
    fixtures16::EchoServer server;
    fixtures16::WsClient client(server.port());
    INFO(client.raw());
    // The first frame rides in the same send as the request: the HTTP server
    // has read it already and must hand it over with the connection.
    REQUIRE(client.open(client_frame(Opcode::text, "early bird")) == "");
    fixtures16::Frame frame = client.read_frame();
    CHECK(frame.fin);
    CHECK(frame.opcode == 0x1);
    CHECK(frame.payload == "early bird");
    client.send_text("h\xc3\xa9llo");
    CHECK(client.read_frame().payload == "h\xc3\xa9llo");
    const std::string big = harness::random_bytes(70'000, 16);
    client.send(client_frame(Opcode::binary, big));
    frame = client.read_frame();
    CHECK(frame.opcode == 0x2);
    CHECK(harness::first_difference(big, frame.payload) == "");
}

TEST_CASE("server: a fragmented message is echoed whole, and a ping between its fragments gets its pong first") {
    fixtures16::EchoServer server;
    fixtures16::WsClient client(server.port());
    INFO(client.raw());
    REQUIRE(client.open() == "");
    client.send(client_frame(Opcode::text, "frag", false));
    client.send(client_frame(Opcode::ping, "ping payload"));
    client.send(client_frame(Opcode::continuation, "men", false) + client_frame(Opcode::continuation, "ted"));
    const fixtures16::Frame pong = client.read_frame();
    CHECK(pong.opcode == 0xA);
    CHECK(pong.payload == "ping payload");
    const fixtures16::Frame echo = client.read_frame();
    CHECK(echo.opcode == 0x1);
    CHECK(echo.payload == "fragmented");
}

TEST_CASE("server: a close is echoed with its code, then the server closes the connection") {
    fixtures16::EchoServer server;
    for (const std::uint16_t code : {1000, 1001, 4321}) {
        CAPTURE(code);
        fixtures16::WsClient client(server.port());
        INFO(client.raw());
        REQUIRE(client.open() == "");
        client.send(client_frame(Opcode::close, close_payload(code, "done")));
        CHECK(client.read_close() == code);
    }
    fixtures16::WsClient client(server.port());
    REQUIRE(client.open() == "");
    client.send(client_frame(Opcode::close, ""));  // no code: answered without one
    const fixtures16::Frame frame = client.read_frame();
    CHECK(frame.opcode == 0x8);
    CHECK(frame.payload.empty());
    client.raw().expect_eof();
}

TEST_CASE("server: a broken frame is never echoed: a close with 1002, 1007 or 1009 comes instead") {
    fixtures16::EchoServer server(64 * 1024);
    std::string huge_header = "\x82\xff";
    huge_header += std::string("\x00\x00\x00\x00\x00\x10\x00\x00", 8) + "\x01\x02\x03\x04";
    const struct {
        const char* what;
        std::string bytes;
        std::uint16_t code;
    } table[] = {
        {"unmasked", client_frame(Opcode::text, "echo me", true, 0, false), 1002},
        {"a fragmented ping", client_frame(Opcode::ping, "x", false), 1002},
        {"not UTF-8", client_frame(Opcode::text, "\xc0\xaf"), 1007},
        {"a 1 MiB frame over a 64 KiB limit (its header only)", huge_header, 1009},
        {"65 KiB in two fragments", client_frame(Opcode::binary, std::string(40'000, 'a'), false) +
                                        client_frame(Opcode::continuation, std::string(26'000, 'b')), 1009},
    };
    for (const auto& row : table) {
        CAPTURE(row.what);
        fixtures16::WsClient client(server.port());
        INFO(client.raw());
        REQUIRE(client.open() == "");
        client.send(row.bytes);
        CHECK(client.read_close() == row.code);
    }
}

TEST_CASE("server: refused upgrades are plain HTTP answers, and other routes still work") {
    fixtures16::EchoServer server;
    harness::Client client = harness::Client::connect(server.port());
    INFO(client);
    client.send("GET /ws HTTP/1.1\r\nHost: t\r\n\r\n");
    std::string reply = client.recv_some();
    CHECK(reply.rfind("HTTP/1.1 400 ", 0) == 0);
    CHECK(reply.find("Sec-WebSocket-Version: 13\r\n") != std::string::npos);
    std::string request = fixtures16::upgrade_request();
    request.replace(request.find("Version: 13"), 11, "Version: 8");
    client.send(request);
    reply = client.recv_some();
    CHECK(reply.rfind("HTTP/1.1 426 ", 0) == 0);
    client.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    reply = client.recv_until_eof();
    CHECK(reply.rfind("HTTP/1.1 200 ", 0) == 0);
}

TEST_CASE("server: a peer vanishing mid-frame or mid-handshake never takes the server down") {
    fixtures16::EchoServer server;
    const std::string frame = client_frame(Opcode::binary, std::string(5000, 'x'));
    for (int i = 0; i < 4; ++i) {
        CAPTURE(i);
        fixtures16::WsClient client(server.port());
        if (i == 3) {  // half an upgrade request, then a reset
            client.send(fixtures16::upgrade_request().substr(0, 40));
            client.raw().close_with_reset();
            continue;
        }
        REQUIRE(client.open() == "");
        client.send(frame.substr(0, i == 0 ? 1 : 2500));  // one byte, or half the frame
        if (i == 2) {
            client.raw().close_with_reset();
        } else {
            client.raw().close();  // a FIN in the middle of a frame
        }
    }
    fixtures16::WsClient client(server.port());
    INFO(client.raw());
    REQUIRE(client.open() == "");
    client.send_text("still here");
    CHECK(client.read_frame().payload == "still here");
    server.stop();
}

TEST_CASE("server: a client that sends but never reads is dropped at the output limit; the others are served") {
    fixtures16::EchoServer server(1 << 20, 256 * 1024);
    fixtures16::WsClient greedy(server.port());
    REQUIRE(greedy.open() == "");
    const int small = 4096;  // and no autotuning: its window stays small
    net::check(::setsockopt(greedy.raw().fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), "setsockopt SO_RCVBUF");
    // Every message is echoed to a client that reads nothing: the echoes
    // pile up in the server until it drops the client, and the next send
    // fails (a reset). 64 MiB without that is a server holding it all.
    const std::string frame = client_frame(Opcode::binary, std::string(64 * 1024, 'g'));
    std::size_t sent = 0;
    bool dropped = false;
    while (!dropped && sent < (64u << 20)) {
        try {
            greedy.send(frame);
            sent += frame.size();
        } catch (const harness::Timeout&) {
            throw;
        } catch (const std::exception& error) {
            dropped = true;
            MESSAGE("dropped after ", sent, " bytes: ", std::string(error.what()));
        }
    }
    CHECK(dropped);
    fixtures16::WsClient client(server.port());
    INFO(client.raw());
    REQUIRE(client.open() == "");
    client.send_text("served");
    CHECK(client.read_frame().payload == "served");
}

TEST_CASE("server: a broadcast reaches everyone in the room") {
    fixtures16::EchoServer server;
    fixtures16::WsClient alice(server.port());
    fixtures16::WsClient bob(server.port());
    REQUIRE(alice.open() == "");
    REQUIRE(bob.open() == "");
    alice.send_text("/all");
    CHECK(alice.read_frame().payload == "to everyone");
    CHECK(bob.read_frame().payload == "to everyone");
}
