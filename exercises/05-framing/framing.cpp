// Exercise 05 — length-prefixed frames. The contract is in framing.hpp.
// Replace each net::todo(...) with your code, then run: ./workbook check 05
#include "framing.hpp"

#include <cerrno>
#include <sys/socket.h>

#include "net/error.hpp"

namespace lesson05 {

std::string encode_frame([[maybe_unused]] std::string_view payload) {
    net::todo("encode_frame: the length as 4 big-endian bytes (shifts), then the payload");
}

void FrameDecoder::feed([[maybe_unused]] std::string_view bytes) {
    net::todo("FrameDecoder::feed: keep the bytes; frames are found in next_frame");
}

std::optional<std::string> FrameDecoder::next_frame() {
    net::todo("FrameDecoder::next_frame: 4 bytes of length, check it against the limit, then wait for the payload");
}

std::optional<std::string> recv_frame([[maybe_unused]] int fd, [[maybe_unused]] FrameDecoder& decoder) {
    net::todo("recv_frame: ask the decoder first; recv and feed only when it has no whole frame");
}

}  // namespace lesson05
