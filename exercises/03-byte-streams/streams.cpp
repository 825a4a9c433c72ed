// Exercise 03 — send_all, recv_exact and a line reader. The contract is in streams.hpp.
// Replace each net::todo(...) with your code, then run: ./workbook check 03
#include "streams.hpp"

#include <cerrno>
#include <sys/socket.h>

#include "net/error.hpp"

namespace lesson03 {

void send_all([[maybe_unused]] int fd, [[maybe_unused]] std::string_view bytes) {
    net::todo("send_all: call send until every byte has gone, starting each time where the last one stopped");
}

void recv_exact([[maybe_unused]] int fd, [[maybe_unused]] std::span<char> into) {
    net::todo("recv_exact: call recv until the span is full; recv returning 0 means the peer closed");
}

std::optional<std::string> LineReader::read_line() {
    net::todo("LineReader::read_line: look for '\\n' in buffer_ first, recv more only when there is none");
}

}  // namespace lesson03
