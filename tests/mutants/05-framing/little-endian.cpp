// MUTANT: writes and reads the length little-endian (least significant byte first), not in network byte order.
// The tests must reject this file (tests/mutants/README.md explains mutants).
#include "framing.hpp"

#include <cerrno>
#include <sys/socket.h>

#include <fmt/core.h>

#include "net/error.hpp"

namespace lesson05 {

std::string encode_frame(std::string_view payload) {
    if (payload.size() > max_encodable) {
        throw std::length_error(fmt::format("a payload of {} bytes does not fit a 4-byte length", payload.size()));
    }
    const auto length = static_cast<std::uint32_t>(payload.size());
    std::string frame;
    frame.reserve(header_size + payload.size());
    // Most significant byte first (big-endian), whatever this machine uses.
    frame += static_cast<char>(length & 0xff);
    frame += static_cast<char>((length >> 8) & 0xff);
    frame += static_cast<char>((length >> 16) & 0xff);
    frame += static_cast<char>((length >> 24) & 0xff);
    frame += payload;
    return frame;
}

void FrameDecoder::feed(std::string_view bytes) { buffer_ += bytes; }

std::optional<std::string> FrameDecoder::next_frame() {
    if (buffer_.size() < header_size) {
        return std::nullopt;  // not even the length yet
    }
    // Widen each byte to 64 bits *before* shifting: a char is signed, and
    // header_size + length must not wrap around for a length near 4 GiB.
    const auto byte = [this](std::size_t i) { return std::uint64_t{static_cast<unsigned char>(buffer_[i])}; };
    const std::uint64_t length = (byte(3) << 24) | (byte(2) << 16) | (byte(1) << 8) | byte(0);

    // Check before anything is allocated or awaited: the length is the
    // peer's claim, not a fact.
    if (length > max_payload_) {
        throw FrameTooLarge(length, max_payload_);
    }
    if (buffer_.size() < header_size + length) {
        return std::nullopt;  // the payload is still on its way
    }
    std::string payload = buffer_.substr(header_size, length);
    buffer_.erase(0, header_size + length);  // the next frame (if any) now starts at 0
    return payload;
}

std::optional<std::string> recv_frame(int fd, FrameDecoder& decoder) {
    char chunk[16 * 1024];
    for (;;) {
        // First what is already here: one recv may have brought several frames.
        if (std::optional<std::string> payload = decoder.next_frame()) {
            return payload;
        }
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            net::throw_errno("recv");
        }
        if (n == 0) {
            if (decoder.buffered() == 0) {
                return std::nullopt;  // a clean end, between frames
            }
            throw PeerClosed(fmt::format("the peer closed the connection in the middle of a frame ({} bytes of it)",
                                         decoder.buffered()));
        }
        decoder.feed(std::string_view(chunk, static_cast<std::size_t>(n)));
    }
}

}  // namespace lesson05
