#include "net/tcp.hpp"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <system_error>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/error.hpp"

namespace net {

Fd listen_tcp(std::string_view host, std::uint16_t port, int backlog) {
    const auto endpoints = resolve(host, std::to_string(port), tcp_hints(AI_PASSIVE | AI_NUMERICSERV));
    const Endpoint& endpoint = endpoints.front();

    Fd listener{check(::socket(endpoint.family, endpoint.socktype | SOCK_CLOEXEC, endpoint.protocol), "socket")};
    const int on = 1;
    check(::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on), "setsockopt SO_REUSEADDR");
    if (::bind(listener.get(), endpoint.address.get(), endpoint.address.length) < 0) {
        throw_errno(fmt::format("bind {}", to_string(endpoint.address)));
    }
    check(::listen(listener.get(), backlog), "listen");
    return listener;
}

namespace {

// Connects one socket, waiting at most `timeout` for the handshake.
Fd connect_one(const Endpoint& endpoint, std::chrono::milliseconds timeout) {
    Fd sock{check(::socket(endpoint.family, endpoint.socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, endpoint.protocol),
                  "socket")};
    const std::string call = fmt::format("connect {}", to_string(endpoint.address));
    if (::connect(sock.get(), endpoint.address.get(), endpoint.address.length) < 0) {
        if (errno != EINPROGRESS) {
            throw_errno(call);
        }
        // A non-blocking connect finishes in the background; poll says when.
        pollfd waiting{sock.get(), POLLOUT, 0};
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            const int ready = ::poll(&waiting, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
            if (ready > 0) {
                break;
            }
            if (ready == 0) {
                throw_errno(call, ETIMEDOUT);
            }
            if (errno != EINTR) {
                throw_errno("poll");
            }
        }
        int error = 0;
        socklen_t length = sizeof error;
        check(::getsockopt(sock.get(), SOL_SOCKET, SO_ERROR, &error, &length), "getsockopt SO_ERROR");
        if (error != 0) {
            throw_errno(call, error);
        }
    }
    const int flags = check(::fcntl(sock.get(), F_GETFL), "fcntl F_GETFL");
    check(::fcntl(sock.get(), F_SETFL, flags & ~O_NONBLOCK), "fcntl F_SETFL");
    return sock;
}

}  // namespace

Fd connect_tcp(std::string_view host, std::uint16_t port, std::chrono::milliseconds timeout) {
    const auto endpoints = resolve(host, std::to_string(port), tcp_hints(AI_NUMERICSERV));
    std::system_error last_error(std::make_error_code(std::errc::host_unreachable), "connect");
    for (const Endpoint& endpoint : endpoints) {
        try {
            return connect_one(endpoint, timeout);
        } catch (const std::system_error& error) {
            last_error = error;
        }
    }
    throw last_error;
}

}  // namespace net
