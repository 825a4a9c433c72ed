#pragma once
// Exercise 05 — framing: messages on a byte stream, with a length prefix.
//
// TCP has no messages (chapter 03), so a protocol must say where each one
// ends. Here every message travels as a *frame*: a 4-byte length in network
// byte order (big-endian, chapter 01), then that many bytes of payload.
//
//     00 00 00 05  68 65 6c 6c 6f   00 00 00 00   00 00 00 02  68 69
//     └─ length 5 ┘ h  e  l  l  o   └─ length 0 ┘  └─ length 2 ┘ h  i
//
// Chapter 05 (book/src/05-framing.md) builds a server and client that talk
// this way. Here you write the encoder, an incremental decoder that accepts
// bytes in whatever pieces they arrive, and a recv loop around it.
// Edit framing.cpp, then run ./workbook check 05.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace lesson05 {

// Bytes before each payload: its length, as a big-endian 32-bit number.
inline constexpr std::size_t header_size = 4;
// The longest payload a 4-byte length can announce: 4 GiB - 1.
inline constexpr std::uint64_t max_encodable = 0xFFFFFFFF;

// A frame whose header announces more than the decoder's limit. Thrown as
// soon as the header is complete, before any of the payload is awaited or
// stored: a peer that says "4 GiB follow" must not make you allocate 4 GiB.
class FrameTooLarge : public std::runtime_error {
public:
    FrameTooLarge(std::uint64_t announced, std::size_t limit)
        : std::runtime_error("a frame of " + std::to_string(announced) + " bytes was announced; the limit is " +
                             std::to_string(limit)),
          announced_(announced), limit_(limit) {}
    [[nodiscard]] std::uint64_t announced() const noexcept { return announced_; }
    [[nodiscard]] std::size_t limit() const noexcept { return limit_; }

private:
    std::uint64_t announced_;
    std::size_t limit_;
};

// The peer closed the connection in the middle of a frame (header or payload).
class PeerClosed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The frame for `payload`: its length as 4 big-endian bytes, then the payload.
// encode_frame("hi") == std::string("\0\0\0\x02hi", 6). Write the length with
// shifts, so the result is the same on every machine.
// A payload longer than max_encodable cannot be framed: throw std::length_error.
[[nodiscard]] std::string encode_frame(std::string_view payload);

// Turns bytes, fed in pieces of any size, back into frames.
//
//     lesson05::FrameDecoder decoder(1 << 20);         // payloads up to 1 MiB
//     decoder.feed(bytes_from_one_recv);
//     while (std::optional<std::string> payload = decoder.next_frame()) {
//         handle(*payload);
//     }
//
// One feed may hold part of a header, part of a payload, several frames, or
// the end of one frame and the start of the next: feed the bytes exactly as
// they came, and the decoder finds the frames in them.
class FrameDecoder {
public:
    // Frames with a payload longer than `max_payload` bytes are refused.
    explicit FrameDecoder(std::size_t max_payload = 1 << 20) : max_payload_(max_payload) {}

    // Appends bytes as they arrived. Never throws for a partial frame.
    void feed(std::string_view bytes);

    // The payload of the next complete frame (an empty payload is a frame
    // too: ""), removed from the buffer; std::nullopt while the header or the
    // payload is still incomplete. Throws FrameTooLarge as soon as a complete
    // header announces more than max_payload bytes: check the length before
    // allocating or waiting for anything of that size.
    //
    // Memory follows the bytes that arrived, never the length announced: do
    // not allocate or reserve room for a payload before its bytes are here.
    // A peer may announce max_payload bytes and send three, on a thousand
    // connections at once; only what it really sent may cost you memory.
    std::optional<std::string> next_frame();

    // Bytes fed but not yet returned as frames. Non-zero when the peer closes
    // means it closed in the middle of a frame.
    [[nodiscard]] std::size_t buffered() const noexcept { return buffer_.size(); }

private:
    std::size_t max_payload_;
    std::string buffer_;  // fed, not yet returned: a frame's start, or several frames
};

// Receives from the connected, blocking TCP socket `fd` until `decoder` holds
// a whole frame, and returns its payload.
//
// - A frame already in the decoder (several can arrive in one recv) is
//   returned without calling recv at all.
// - Returns std::nullopt when the peer closes between frames (recv returns 0
//   and the decoder holds nothing); throws PeerClosed when it closes in the
//   middle of a frame. FrameTooLarge from the decoder passes through.
// - EINTR is not an error (retry); other failures throw std::system_error
//   naming "recv".
std::optional<std::string> recv_frame(int fd, FrameDecoder& decoder);

}  // namespace lesson05
