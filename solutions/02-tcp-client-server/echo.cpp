// Reference solution for exercise 02 — the echo server's and client's halves.
#include "echo.hpp"

#include <cerrno>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <utility>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/error.hpp"

namespace lesson02 {

std::size_t serve_client(net::Fd client) {
    std::size_t echoed = 0;
    char buffer[4096];
    for (;;) {
        const ssize_t received = ::recv(client.get(), buffer, sizeof buffer, 0);
        if (received < 0) {
            if (errno == EINTR) {
                continue;  // a signal interrupted the wait; nothing was lost
            }
            net::throw_errno("recv");
        }
        if (received == 0) {
            return echoed;  // the client closed its side: we are done
        }
        // Send exactly what arrived; send may take only part of it.
        ssize_t sent = 0;
        while (sent < received) {
            const ssize_t n = ::send(client.get(), buffer + sent, static_cast<std::size_t>(received - sent), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                net::throw_errno("send");
            }
            sent += n;
        }
        echoed += static_cast<std::size_t>(received);
    }
}

std::string echo_once(const std::string& host, std::uint16_t port, std::string_view message) {
    const auto endpoints = net::resolve(host, std::to_string(port), net::tcp_hints());

    // Every address in getaddrinfo's order ("localhost" is often ::1, then
    // 127.0.0.1), a fresh socket for each, until one connects.
    net::Fd sock;
    for (const net::Endpoint& endpoint : endpoints) {
        net::Fd attempt{net::check(::socket(endpoint.family, endpoint.socktype | SOCK_CLOEXEC, endpoint.protocol), "socket")};
        if (::connect(attempt.get(), endpoint.address.get(), endpoint.address.length) == 0) {
            sock = std::move(attempt);
            break;
        }
        const int err = errno;  // formatting the message may change errno
        if (&endpoint == &endpoints.back()) {
            net::throw_errno(fmt::format("connect {}", net::to_string(endpoint.address)), err);
        }
    }  // a failed attempt's socket closes here

    std::size_t sent = 0;
    while (sent < message.size()) {
        const ssize_t n = ::send(sock.get(), message.data() + sent, message.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            net::throw_errno("send");
        }
        sent += static_cast<std::size_t>(n);
    }

    // The echo may come back in pieces: keep reading until all of it is here.
    std::string echo;
    char buffer[4096];
    while (echo.size() < message.size()) {
        const ssize_t n = ::recv(sock.get(), buffer, sizeof buffer, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            net::throw_errno("recv");
        }
        if (n == 0) {
            throw std::runtime_error(
                fmt::format("the server closed the connection after {} of {} bytes", echo.size(), message.size()));
        }
        echo.append(buffer, static_cast<std::size_t>(n));
    }
    return echo;
}

}  // namespace lesson02
