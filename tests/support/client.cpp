// harness::Client and its Transcript: a TCP peer whose every wait has a deadline.
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>

#include <fmt/core.h>

#include "harness.hpp"
#include "net/address.hpp"
#include "net/error.hpp"
#include "net/tcp.hpp"

namespace harness {

void Transcript::sent(std::string_view bytes) { entries_.push_back({'>', std::string(bytes)}); }
void Transcript::received(std::string_view bytes) { entries_.push_back({'<', std::string(bytes)}); }
void Transcript::note(std::string_view event) { entries_.push_back({'!', std::string(event)}); }

std::string Transcript::str() const {
    if (entries_.empty()) {
        return "  (nothing sent or received)\n";
    }
    std::string out;
    for (const Entry& entry : entries_) {
        switch (entry.direction) {
        case '>': out += fmt::format("  test sent     \"{}\" ({} bytes)\n", escape(entry.bytes), entry.bytes.size()); break;
        case '<': out += fmt::format("  test received \"{}\" ({} bytes)\n", escape(entry.bytes), entry.bytes.size()); break;
        default: out += fmt::format("  {}\n", entry.bytes); break;
        }
    }
    return out;
}

namespace {

// How long a failing wait gives a server that is still running to record the
// failure that caused it (its sockets close while its exception unwinds).
constexpr milliseconds server_failure_grace{250};

}  // namespace

void Client::fail_call(std::string_view call, int error) {
    rethrow_server_failure(server_failure_grace);
    transcript_.note(fmt::format("{} failed: {}", call, std::strerror(error)));
    net::throw_errno(fmt::format("test's {} {} the {}", call, call == "send" ? "to" : "from", peer_), error);
}

Client::Client(net::Fd fd, std::string peer_name) : fd_(std::move(fd)), peer_(std::move(peer_name)) {}

Client Client::connect(std::uint16_t port, std::string_view host, milliseconds timeout) {
    Step step(fmt::format("connecting to {}:{}", host, port));
    Client client(net::connect_tcp(host, port, timeout));
    client.transcript_.note(fmt::format("connected to {}", net::to_string(net::peer_address(client.fd()))));
    return client;
}

void Client::send(std::string_view bytes, milliseconds timeout) {
    const Deadline deadline(timeout);
    const std::string step = fmt::format("sending {} bytes to the {}", bytes.size(), peer_);
    std::size_t done = 0;
    while (done < bytes.size()) {
        wait_writable(fd(), deadline, step);
        const ssize_t n = ::send(fd(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            fail_call("send", errno);
        }
        done += static_cast<std::size_t>(n);
    }
    transcript_.sent(bytes);
}

std::string Client::recv_some(milliseconds timeout) {
    const Deadline deadline(timeout);
    const std::string step = fmt::format("waiting for the {} to send something", peer_);
    char buffer[65536];
    for (;;) {
        wait_readable(fd(), deadline, step);
        const ssize_t n = ::recv(fd(), buffer, sizeof buffer, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            fail_call("recv", errno);
        }
        if (n == 0) {
            transcript_.note(fmt::format("the {} closed the connection (EOF)", peer_));
            return {};
        }
        std::string bytes(buffer, static_cast<std::size_t>(n));
        transcript_.received(bytes);
        return bytes;
    }
}

std::string Client::recv_exact(std::size_t n, milliseconds timeout) {
    const Deadline deadline(timeout);
    std::string bytes;
    while (bytes.size() < n) {
        const Step step(fmt::format("waiting for {} bytes from the {}, {} arrived so far", n, peer_, bytes.size()));
        const auto left = deadline.remaining();
        if (left.count() <= 0) {
            throw Timeout(current_step(), timeout);
        }
        std::string piece;
        try {
            piece = recv_some(left);
        } catch (const Timeout&) {
            throw Timeout(current_step(), timeout);
        }
        if (piece.empty()) {
            rethrow_server_failure(server_failure_grace);
            throw std::runtime_error(fmt::format("the {} closed the connection after {} of the {} bytes expected",
                                                 peer_, bytes.size(), n));
        }
        bytes += piece;
    }
    if (bytes.size() > n) {
        throw std::runtime_error(fmt::format("expected {} bytes from the {} but {} arrived: \"{}\"", n, peer_,
                                             bytes.size(), escape(bytes)));
    }
    return bytes;
}

std::string Client::recv_until_eof(milliseconds timeout, std::size_t limit) {
    const Deadline deadline(timeout);
    std::string bytes;
    for (;;) {
        const auto left = deadline.remaining();
        if (left.count() <= 0) {
            throw Timeout(fmt::format("waiting for the {} to close the connection ({} bytes arrived)", peer_,
                                      bytes.size()),
                          timeout);
        }
        std::string piece;
        try {
            piece = recv_some(left);
        } catch (const Timeout&) {
            throw Timeout(fmt::format("waiting for the {} to close the connection ({} bytes arrived)", peer_,
                                      bytes.size()),
                          timeout);
        }
        if (piece.empty()) {
            return bytes;
        }
        bytes += piece;
        if (bytes.size() > limit) {
            throw std::runtime_error(fmt::format("the {} sent more than {} bytes", peer_, limit));
        }
    }
}

void Client::expect_eof(milliseconds timeout) {
    std::string piece;
    try {
        piece = recv_some(timeout);
    } catch (const Timeout&) {
        throw Timeout(fmt::format("waiting for the {} to close the connection", peer_), timeout);
    }
    if (!piece.empty()) {
        throw std::runtime_error(
            fmt::format("expected the {} to close the connection, but it sent \"{}\"", peer_, escape(piece)));
    }
}

void Client::shutdown_write() {
    net::check(::shutdown(fd(), SHUT_WR), "shutdown SHUT_WR");
    transcript_.note("test called shutdown(SHUT_WR): no more data from the test");
}

void Client::close_with_reset() {
    const linger reset{1, 0};
    net::check(::setsockopt(fd(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset), "setsockopt SO_LINGER");
    fd_.reset();
    transcript_.note("test closed the connection with a reset (RST)");
}

void Client::close() {
    fd_.reset();
    transcript_.note("test closed the connection");
}

std::ostream& operator<<(std::ostream& out, const Client& client) {
    return out << "what went over the wire:\n" << client.transcript().str();
}

}  // namespace harness
