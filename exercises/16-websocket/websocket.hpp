#pragma once
// Exercise 16 — WebSocket (RFC 6455) on common/http's server.
//
// A browser opens a WebSocket with an ordinary HTTP/1.1 GET that asks to
// upgrade; the server answers 101 Switching Protocols and from then on both
// sides speak in frames on the same TCP connection. You write the two parts
// that decide what to trust:
//
//   handshake.cpp  accept_key() and handshake(): is this a WebSocket request,
//                  and what is the 101 (or the refusal)?
//   frames.cpp     valid_utf8() and FrameDecoder: bytes in, in any pieces;
//                  whole messages and control frames out, or a ProtocolError
//                  carrying the close code the connection must end with.
//
// Given, complete: sha1.cpp (SHA-1 and base64, below), encode.cpp (the
// server's frames), room.hpp/room.cpp (the connections after the upgrade:
// ping/pong, the close handshake, broadcast). Chapter 16 walks through them.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace ws {

// ---- given (sha1.cpp) -----------------------------------------------------------

// The 20-byte SHA-1 digest of `bytes` (FIPS 180-4). The handshake's only use
// of it; never for anything that needs a secure hash.
[[nodiscard]] std::array<std::uint8_t, 20> sha1(std::string_view bytes);
// Base64 with padding (RFC 4648 §4): "hello" → "aGVsbG8=".
[[nodiscard]] std::string base64_encode(std::string_view bytes);
// The bytes `text` encodes, or nullopt unless it is canonical padded base64.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);

// ---- the handshake (handshake.cpp: yours) ---------------------------------------

// RFC 6455 §1.3: the GUID every server appends to the client's key.
inline constexpr std::string_view handshake_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)).
// accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" (§1.3).
[[nodiscard]] std::string accept_key(std::string_view client_key);

// The answer to a request that asks for a WebSocket (RFC 6455 §4.2.1):
//   101 Switching Protocols, content_type "", with the fields
//       Upgrade: websocket / Connection: Upgrade / Sec-WebSocket-Accept: accept_key(key)
//   when all of these hold:
//     - the method is GET and the version HTTP/1.1 (minor_version 1)
//     - Upgrade is a list holding the token "websocket" (any case)
//     - Connection is a list holding the token "upgrade" (any case:
//       Firefox sends "keep-alive, Upgrade")
//     - Sec-WebSocket-Version is exactly "13"
//     - Sec-WebSocket-Key, trimmed, base64-decodes to exactly 16 bytes
//   Otherwise a refusal with a short text body saying why, and always the field
//   Sec-WebSocket-Version: 13 (what this server speaks):
//     426 Upgrade Required when Sec-WebSocket-Version is missing or not 13
//         (§4.4; checked after the method, version, Upgrade and Connection),
//     400 Bad Request for everything else.
// The answer never has `upgrade` set: ws::Room adds that to a 101.
[[nodiscard]] http::Response handshake(const http::Request& request);

// ---- frames (frames.cpp: yours) -------------------------------------------------

// RFC 6455 §5.2. 3-7 and 0xB-0xF are reserved: a frame with one is an error.
enum class Opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

// Close codes (RFC 6455 §7.4.1).
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;  // a frame breaks a rule of §5
inline constexpr std::uint16_t no_status = 1005;       // a close frame without a code (never sent)
inline constexpr std::uint16_t abnormal = 1006;        // the TCP connection ended without a close (never sent)
inline constexpr std::uint16_t invalid_data = 1007;    // text that is not UTF-8
inline constexpr std::uint16_t policy = 1008;
inline constexpr std::uint16_t too_big = 1009;         // a message over the size limit
}  // namespace close_code

// The connection must be failed (§7.1.7): send a close frame with code(),
// then close. what() says which rule was broken.
class ProtocolError : public std::runtime_error {
public:
    ProtocolError(std::uint16_t code, const std::string& why) : std::runtime_error(why), code_(code) {}
    [[nodiscard]] std::uint16_t code() const noexcept { return code_; }

private:
    std::uint16_t code_;
};

// What the decoder hands out: a whole data message (its fragments joined) or
// one control frame.
struct Message {
    Opcode opcode = Opcode::text;  // text, binary, close, ping or pong; never continuation
    std::string payload;           // unmasked; for close: the reason (after the code)
    std::uint16_t code = 0;        // close only: the code, close_code::no_status when the frame had none
};

// True when `bytes` is well-formed UTF-8 (RFC 3629): no overlong forms (C0 80),
// no surrogates (ED A0 80 is U+D800), nothing above U+10FFFF (F4 90 80 80),
// no sequence cut short at the end.
[[nodiscard]] bool valid_utf8(std::string_view bytes);

// Decodes a client's frames (§5.2), fed in pieces of any size.
//
//     FrameDecoder decoder(1 << 20);
//     decoder.feed(bytes_from_recv);
//     while (std::optional<Message> m = decoder.next()) { ... }   // may throw ProtocolError
//
// next() returns nullopt until a whole message or control frame has arrived,
// and throws ProtocolError as soon as the bytes it has break a rule, each with
// its code:
//   1002  a reserved bit (RSV1-3) set (no extension was agreed); an unknown
//         opcode; a frame without the MASK bit (§5.1: every client frame is
//         masked); a control frame (close, ping, pong) with FIN clear or a
//         payload over 125 bytes (§5.5); a continuation frame with no message
//         begun, or a text/binary frame while one is unfinished (§5.4); a
//         64-bit length with its top bit set (§5.2); a close payload of 1 byte,
//         or a close code that may not be sent (below 1000, 1004-1006,
//         1015-2999, 5000 and up; §7.4)
//   1007  a text message, or a close reason, that is not valid UTF-8 — the
//         message as a whole: a character may be cut between two fragments
//   1009  a data message whose payload, all fragments together, would be
//         more than `max_message` bytes: known from the length field, before
//         the payload arrives (a 2^40-byte frame is refused at its header)
// Lengths are big-endian: 0-125 in the 7 bits, 126 then 16 bits, 127 then 64
// bits. The masking key's 4 bytes follow the length; payload byte i is XORed
// with key[i % 4]. Control frames may come between a message's fragments and
// are handed out at once. After a ProtocolError the decoder is not used again.
class FrameDecoder {
public:
    explicit FrameDecoder(std::size_t max_message = 1 << 20) : max_message_(max_message) {}

    // Keeps `bytes` for next(); decodes nothing yet.
    void feed(std::string_view bytes);
    // The next whole message or control frame, nullopt until one has arrived.
    [[nodiscard]] std::optional<Message> next();

private:
    std::size_t max_message_;
    std::string buffer_;                   // fed, not decoded yet
    std::optional<Opcode> message_opcode_;  // text or binary while a fragmented message is unfinished
    std::string message_;                  // that message's payload so far
};

// ---- given (encode.cpp) ---------------------------------------------------------

// One server frame (§5.2): FIN set, not masked (a server never masks), the
// shortest length form.
[[nodiscard]] std::string encode_frame(Opcode opcode, std::string_view payload, bool fin = true);
// A close frame: the code big-endian, then the reason (≤ 123 bytes of UTF-8).
[[nodiscard]] std::string encode_close(std::uint16_t code, std::string_view reason = {});

}  // namespace ws
