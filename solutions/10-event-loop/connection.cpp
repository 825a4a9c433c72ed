// Solution 10 — one client of a non-blocking echo server (contract: connection.hpp).
#include "connection.hpp"

#include <cerrno>
#include <sys/socket.h>
#include <utility>

namespace lesson10 {

namespace {

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

}  // namespace

Connection::Connection(net::Fd socket, std::size_t output_limit)
    : socket_(std::move(socket)), output_limit_(output_limit) {}

Status Connection::on_readable() {
    char buffer[read_chunk];
    const ssize_t n = ::recv(socket_.get(), buffer, sizeof buffer, 0);
    if (n == 0) {
        // The client's FIN: it sends nothing more, but may still read (nc -N).
        peer_closed_ = true;
        return output_.empty() ? Status::closed : Status::open;
    }
    if (n < 0) {
        // A readiness report is a hint, not a promise: another reader, or a
        // checksum failure, can leave nothing to read.
        return (would_block(errno) || errno == EINTR) ? Status::open : Status::closed;
    }
    output_.append(buffer, static_cast<std::size_t>(n));
    return on_writable();
}

Status Connection::on_writable() {
    std::size_t sent = 0;
    Status status = Status::open;
    while (sent < output_.size()) {
        const ssize_t n = ::send(socket_.get(), output_.data() + sent, output_.size() - sent, MSG_NOSIGNAL);
        if (n >= 0) {
            sent += static_cast<std::size_t>(n);
        } else if (errno == EINTR) {
            continue;
        } else {
            if (!would_block(errno)) {
                status = Status::closed;  // EPIPE, ECONNRESET: nobody is reading any more
            }
            break;  // EAGAIN: the kernel's buffer is full; the rest waits for EPOLLOUT
        }
    }
    // One erase per call, not per send: erasing from the front is a memmove of the tail.
    output_.erase(0, sent);
    if (status == Status::open && peer_closed_ && output_.empty()) {
        return Status::closed;  // every reply owed to a client that half-closed is out
    }
    return status;
}

std::uint32_t Connection::interest() const {
    std::uint32_t events = 0;
    if (output_.size() < output_limit_ && !peer_closed_) {
        events |= EPOLLIN;
    }
    if (!output_.empty()) {
        events |= EPOLLOUT;
    }
    return events;
}

}  // namespace lesson10
