// Given, complete: the server's frames (RFC 6455 §5.2). A server never masks
// (§5.1: a client must close the connection on a masked server frame), and
// uses the shortest length form.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "websocket.hpp"

namespace ws {

std::string encode_frame(Opcode opcode, std::string_view payload, bool fin) {
    std::string frame;
    frame += static_cast<char>((fin ? 0x80 : 0x00) | static_cast<std::uint8_t>(opcode));
    const std::uint64_t length = payload.size();
    if (length <= 125) {
        frame += static_cast<char>(length);  // MASK bit clear
    } else if (length <= 0xFFFF) {
        frame += static_cast<char>(126);
        frame += static_cast<char>(length >> 8);  // big-endian, network order
        frame += static_cast<char>(length & 0xFF);
    } else {
        frame += static_cast<char>(127);
        for (int shift = 56; shift >= 0; shift -= 8) {
            frame += static_cast<char>((length >> shift) & 0xFF);
        }
    }
    frame += payload;
    return frame;
}

std::string encode_close(std::uint16_t code, std::string_view reason) {
    std::string payload;
    payload += static_cast<char>(code >> 8);
    payload += static_cast<char>(code & 0xFF);
    // A control frame carries at most 125 bytes; cut the reason before a
    // character, never inside one (the reason must stay UTF-8).
    std::size_t length = reason.size() < 123 ? reason.size() : 123;
    while (length < reason.size() && length > 0 && (static_cast<std::uint8_t>(reason[length]) & 0xC0) == 0x80) {
        --length;
    }
    payload += reason.substr(0, length);
    return encode_frame(Opcode::close, payload);
}

}  // namespace ws
