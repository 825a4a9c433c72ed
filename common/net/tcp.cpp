#include "net/tcp.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <system_error>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/error.hpp"

namespace net {

namespace {

Fd listen_on(std::string_view host, std::uint16_t port, int backlog, bool reuse_port) {
    const auto endpoints = resolve(host, std::to_string(port), tcp_hints(AI_PASSIVE | AI_NUMERICSERV));
    const Endpoint& endpoint = endpoints.front();

    Fd listener{check(::socket(endpoint.family, endpoint.socktype | SOCK_CLOEXEC, endpoint.protocol), "socket")};
    const int on = 1;
    check(::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on), "setsockopt SO_REUSEADDR");
    if (reuse_port) {
        check(::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on), "setsockopt SO_REUSEPORT");
    }
    if (::bind(listener.get(), endpoint.address.get(), endpoint.address.length) < 0) {
        const int err = errno;  // before formatting: allocating may change errno
        throw_errno(fmt::format("bind {}", to_string(endpoint.address)), err);
    }
    check(::listen(listener.get(), backlog), "listen");
    return listener;
}

}  // namespace

Fd listen_tcp(std::string_view host, std::uint16_t port, int backlog) {
    return listen_on(host, port, backlog, false);
}

Fd listen_tcp_reuseport(std::string_view host, std::uint16_t port, int backlog) {
    return listen_on(host, port, backlog, true);
}

bool is_per_client_accept_error(int err) noexcept {
    switch (err) {
    case ECONNABORTED:  // the client reset (or was reset) while it waited in the queue
    case EPROTO:
    case EPERM:         // a firewall rule refused this one connection
    // accept(2), NOTES: errors already pending on the new connection, "treat them
    // like EAGAIN by retrying".
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
        return true;
    default:
        return false;
    }
}

Accepted accept_client(int listener, bool (*stop)()) {
    Accepted accepted;
    for (;;) {
        accepted.peer.length = sizeof accepted.peer.storage;
        const int fd = ::accept4(listener, accepted.peer.get(), &accepted.peer.length, SOCK_CLOEXEC);
        if (fd >= 0) {
            accepted.connection.reset(fd);
            return accepted;
        }
        const int err = errno;
        if (err == EINTR && !stop()) {
            continue;  // some other signal: nothing was lost, wait again
        }
        if (err == EINTR || is_per_client_accept_error(err)) {
            accepted.peer = Address{};
            accepted.error = err;
            return accepted;
        }
        throw_errno("accept", err);
    }
}

namespace {

// Connects one socket, waiting for the handshake until `deadline` at most.
Fd connect_one(const Endpoint& endpoint, std::chrono::steady_clock::time_point deadline) {
    Fd sock{check(::socket(endpoint.family, endpoint.socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, endpoint.protocol),
                  "socket")};
    if (::connect(sock.get(), endpoint.address.get(), endpoint.address.length) < 0) {
        const int err = errno;
        if (err != EINPROGRESS) {
            throw_errno(fmt::format("connect {}", to_string(endpoint.address)), err);
        }
        // A non-blocking connect finishes in the background; poll says when.
        pollfd waiting{sock.get(), POLLOUT, 0};
        for (;;) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            const int ready = ::poll(&waiting, 1, static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, INT32_MAX)));
            if (ready > 0) {
                break;
            }
            if (ready == 0) {
                throw_errno(fmt::format("connect {}", to_string(endpoint.address)), ETIMEDOUT);
            }
            if (errno != EINTR) {
                throw_errno("poll");
            }
        }
        int error = 0;
        socklen_t length = sizeof error;
        check(::getsockopt(sock.get(), SOL_SOCKET, SO_ERROR, &error, &length), "getsockopt SO_ERROR");
        if (error != 0) {
            throw_errno(fmt::format("connect {}", to_string(endpoint.address)), error);
        }
    }
    const int flags = check(::fcntl(sock.get(), F_GETFL), "fcntl F_GETFL");
    check(::fcntl(sock.get(), F_SETFL, flags & ~O_NONBLOCK), "fcntl F_SETFL");
    return sock;
}

}  // namespace

Fd connect_tcp(std::string_view host, std::uint16_t port, std::chrono::milliseconds timeout) {
    // One budget for the whole call: an address that timed out leaves nothing for the next.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const auto endpoints = resolve(host, std::to_string(port), tcp_hints(AI_NUMERICSERV));
    std::system_error last_error(std::make_error_code(std::errc::host_unreachable), "connect");
    for (const Endpoint& endpoint : endpoints) {
        try {
            return connect_one(endpoint, deadline);
        } catch (const std::system_error& error) {
            last_error = error;
        }
    }
    throw last_error;
}

}  // namespace net
