// Solution 11 — one client of an edge-triggered echo server (contract: edge_triggered.hpp).
#include "edge_triggered.hpp"

#include <cerrno>
#include <sys/socket.h>
#include <utility>

namespace lesson11 {

namespace {

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

// Sends from the front of `output` until it is empty or the kernel's buffer is
// full; erases what went. False if the connection broke.
bool flush(int fd, std::string& output) {
    std::size_t sent = 0;
    bool broken = false;
    while (sent < output.size()) {
        const ssize_t n = ::send(fd, output.data() + sent, output.size() - sent, MSG_NOSIGNAL);
        if (n >= 0) {
            sent += static_cast<std::size_t>(n);
        } else if (errno != EINTR) {
            broken = !would_block(errno);  // EAGAIN: the EPOLLOUT edge brings us back
            break;
        }
    }
    output.erase(0, sent);
    return !broken;
}

}  // namespace

Connection::Connection(net::Fd socket, std::size_t output_limit)
    : socket_(std::move(socket)), output_limit_(output_limit) {}

Status Connection::on_ready(std::uint32_t ready) {
    if (!flush(socket_.get(), output_)) {
        return Status::closed;
    }
    if (peer_closed_) {
        return output_.empty() ? Status::closed : Status::open;  // still owed replies: EPOLLOUT brings us back
    }
    // Read on an EPOLLIN edge, and also when an earlier call stopped at the
    // limit: those bytes are still in the kernel and their edge is spent.
    if ((ready & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0 && !reading_paused_) {
        return Status::open;
    }
    reading_paused_ = false;
    char buffer[read_chunk];
    for (;;) {
        if (output_.size() >= output_limit_) {
            reading_paused_ = true;  // backpressure: the rest waits in the kernel
            return Status::open;
        }
        const ssize_t n = ::recv(socket_.get(), buffer, sizeof buffer, 0);
        if (n == 0) {
            // The client sends nothing more, but may still be reading (a
            // half-close, nc -N): close once the replies it is owed are out.
            peer_closed_ = true;
            return output_.empty() ? Status::closed : Status::open;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return would_block(errno) ? Status::open : Status::closed;  // EAGAIN: drained, the next arrival is news
        }
        output_.append(buffer, static_cast<std::size_t>(n));
        if (!flush(socket_.get(), output_)) {
            return Status::closed;
        }
    }
}

}  // namespace lesson11
