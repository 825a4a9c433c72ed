// Exercise 16, the frames (RFC 6455 §5): a client's bytes, in pieces of any
// size, decoded into whole messages and control frames; every rule a hostile
// or broken client could break is a ProtocolError with its close code.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/core.h>

#include "websocket.hpp"

namespace ws {
namespace {

bool is_control(std::uint8_t opcode) { return (opcode & 0x8) != 0; }

bool known(std::uint8_t opcode) { return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA); }

// A code a peer may put in a close frame (§7.4.1, §7.4.2): 1004-1006 and
// 1015 are reserved, 1016-2999 for future RFCs, 3000-4999 for applications.
bool sendable_code(std::uint16_t code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

[[noreturn]] void fail(std::uint16_t code, const std::string& why) { throw ProtocolError(code, why); }

}  // namespace

bool valid_utf8(std::string_view bytes) {
    std::size_t i = 0;
    while (i < bytes.size()) {
        const auto lead = static_cast<std::uint8_t>(bytes[i]);
        std::size_t length = 0;
        std::uint32_t point = 0;
        std::uint32_t smallest = 0;  // below it the form is overlong
        if (lead < 0x80) {
            ++i;
            continue;
        } else if ((lead & 0xE0) == 0xC0) {
            length = 2, point = lead & 0x1F, smallest = 0x80;
        } else if ((lead & 0xF0) == 0xE0) {
            length = 3, point = lead & 0x0F, smallest = 0x800;
        } else if ((lead & 0xF8) == 0xF0) {
            length = 4, point = lead & 0x07, smallest = 0x10000;
        } else {
            return false;  // a continuation byte with no lead, or F8-FF
        }
        if (bytes.size() - i < length) {
            return false;  // cut short at the end
        }
        for (std::size_t j = 1; j < length; ++j) {
            const auto next = static_cast<std::uint8_t>(bytes[i + j]);
            if ((next & 0xC0) != 0x80) {
                return false;
            }
            point = (point << 6) | (next & 0x3F);
        }
        if (point < smallest || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF)) {
            return false;  // overlong, beyond Unicode, or a UTF-16 surrogate
        }
        i += length;
    }
    return true;
}

void FrameDecoder::feed(std::string_view bytes) { buffer_.append(bytes); }

std::optional<Message> FrameDecoder::next() {
    for (;;) {
        if (buffer_.size() < 2) {
            return std::nullopt;
        }
        // Everything the first two bytes say is checked before waiting for more.
        const auto b0 = static_cast<std::uint8_t>(buffer_[0]);
        const auto b1 = static_cast<std::uint8_t>(buffer_[1]);
        const bool fin = (b0 & 0x80) != 0;
        const std::uint8_t opcode = b0 & 0x0F;
        if ((b0 & 0x70) != 0) {
            fail(close_code::protocol_error, "a reserved bit is set, and no extension was agreed");
        }
        if (!known(opcode)) {
            fail(close_code::protocol_error, fmt::format("unknown opcode {:#x}", opcode));
        }
        if ((b1 & 0x80) == 0) {
            fail(close_code::protocol_error, "a client frame without a mask");
        }
        const std::uint8_t length7 = b1 & 0x7F;
        if (is_control(opcode) && (!fin || length7 > 125)) {
            fail(close_code::protocol_error, "a control frame fragmented or over 125 bytes");
        }
        if (opcode == 0 && !message_opcode_) {
            fail(close_code::protocol_error, "a continuation frame with no message begun");
        }
        if ((opcode == 1 || opcode == 2) && message_opcode_) {
            fail(close_code::protocol_error, "a new message before the last one's final fragment");
        }
        // The length: 7 bits, or 126 and 16 bits, or 127 and 64 bits, big-endian.
        const std::size_t extra = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
        if (buffer_.size() < 2 + extra) {
            return std::nullopt;
        }
        std::uint64_t length = length7;
        if (extra > 0) {
            length = 0;
            for (std::size_t i = 0; i < extra; ++i) {
                length = (length << 8) | static_cast<std::uint8_t>(buffer_[2 + i]);
            }
        }
        if ((length >> 63) != 0) {
            fail(close_code::protocol_error, "a 64-bit length with its top bit set");
        }
        if (!is_control(opcode) && length > max_message_ - message_.size()) {
            fail(close_code::too_big, fmt::format("a message over {} bytes", max_message_));
        }
        const std::size_t header = 2 + extra + 4;  // + the masking key
        if (buffer_.size() < header || buffer_.size() - header < length) {
            return std::nullopt;
        }
        const std::string_view key = std::string_view(buffer_).substr(2 + extra, 4);
        std::string payload = buffer_.substr(header, static_cast<std::size_t>(length));
        for (std::size_t i = 0; i < payload.size(); ++i) {
            payload[i] = static_cast<char>(payload[i] ^ key[i % 4]);
        }
        buffer_.erase(0, header + static_cast<std::size_t>(length));

        if (is_control(opcode)) {
            Message control{static_cast<Opcode>(opcode), std::move(payload)};
            if (control.opcode == Opcode::close) {
                if (control.payload.size() == 1) {
                    fail(close_code::protocol_error, "a close frame with a 1-byte payload");
                }
                control.code = close_code::no_status;
                if (control.payload.size() >= 2) {
                    control.code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(control.payload[0]) << 8) |
                                                              static_cast<std::uint8_t>(control.payload[1]));
                    if (!sendable_code(control.code)) {
                        fail(close_code::protocol_error, fmt::format("close code {} may not be sent", control.code));
                    }
                    control.payload.erase(0, 2);
                    if (!valid_utf8(control.payload)) {
                        fail(close_code::invalid_data, "a close reason that is not UTF-8");
                    }
                }
            }
            return control;  // handed out at once, even between a message's fragments
        }
        if (opcode != 0) {
            message_opcode_ = static_cast<Opcode>(opcode);
        }
        message_ += payload;
        if (!fin) {
            continue;  // more fragments to come: maybe already buffered
        }
        Message message{*message_opcode_, std::exchange(message_, {})};
        message_opcode_.reset();
        // The whole message: a character may straddle two fragments.
        if (message.opcode == Opcode::text && !valid_utf8(message.payload)) {
            fail(close_code::invalid_data, "a text message that is not UTF-8");
        }
        return message;
    }
}

}  // namespace ws
