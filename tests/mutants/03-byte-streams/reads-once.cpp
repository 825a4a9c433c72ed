// MUTANT: recv_exact calls recv once and returns, as if one recv brought the whole message.
// The tests must reject this file (tests/mutants/README.md explains mutants).
#include "streams.hpp"

#include <algorithm>
#include <cerrno>
#include <sys/socket.h>

#include <fmt/core.h>

#include "net/error.hpp"

namespace lesson03 {

void send_all(int fd, std::string_view bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;  // interrupted before anything moved: just ask again
            }
            net::throw_errno("send");
        }
        sent += static_cast<std::size_t>(n);  // a short count: the rest goes next time round
    }
}

void recv_exact(int fd, std::span<char> into) {
    if (into.empty()) {
        return;
    }
    const ssize_t n = ::recv(fd, into.data(), into.size(), 0);  // one recv = one message (wrong)
    if (n < 0) {
        net::throw_errno("recv");
    }
    if (n == 0) {
        throw PeerClosed(fmt::format("the peer closed the connection after 0 of {} bytes", into.size()));
    }
}

std::optional<std::string> LineReader::read_line() {
    // Where to look for the '\n': bytes already searched hold none.
    std::size_t searched = 0;
    for (;;) {
        const std::size_t newline = buffer_.find('\n', searched);
        if (newline != std::string::npos) {
            if (newline > max_line_) {
                throw LineTooLong(fmt::format("a line of {} bytes, more than the limit of {}", newline, max_line_));
            }
            std::string line = buffer_.substr(0, newline);
            buffer_.erase(0, newline + 1);  // keep what follows: the next line's start
            return line;
        }
        if (buffer_.size() > max_line_) {
            throw LineTooLong(fmt::format("more than {} bytes without a newline", max_line_));
        }
        searched = buffer_.size();

        // Read no more than the longest line could still need, plus its '\n'
        // and one byte to notice it is too long: memory stays bounded.
        char chunk[4096];
        const std::size_t wanted = std::min(sizeof chunk, max_line_ + 2 - buffer_.size());
        const ssize_t n = ::recv(fd_, chunk, wanted, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            net::throw_errno("recv");
        }
        if (n == 0) {
            if (buffer_.empty()) {
                return std::nullopt;  // a clean end, between lines
            }
            throw PeerClosed(fmt::format("the peer closed the connection in the middle of a line ({} bytes of it)",
                                         buffer_.size()));
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
    }
}

}  // namespace lesson03
