// Exercise 16 — the client's frames: see valid_utf8 and FrameDecoder in websocket.hpp.
#include "websocket.hpp"

#include "net/error.hpp"

namespace ws {

bool valid_utf8(std::string_view bytes) {
    (void)bytes;
    net::todo("valid_utf8: RFC 3629, no overlong forms, surrogates or code points above U+10FFFF (websocket.hpp)");
}

void FrameDecoder::feed(std::string_view bytes) {
    (void)bytes;
    net::todo("FrameDecoder::feed: keep the bytes for next() (websocket.hpp)");
}

std::optional<Message> FrameDecoder::next() {
    net::todo("FrameDecoder::next: header, length, mask, payload; each broken rule a ProtocolError (websocket.hpp)");
}

}  // namespace ws
