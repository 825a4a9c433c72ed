// echo-client — the client half: connect, send a message, read the echo back.
//
//     echo-client --port 5000 "hello, server"
//
// socket → connect → send → recv until the whole echo is back → close.
// When the host has several addresses, each gets its own socket and connect
// in turn, until one accepts.
//
// It sends the whole message before it reads anything. That is fine for a
// line, and a deadlock for a big message: the server blocks sending its echo
// once our receive buffer is full, so it stops reading, so our send blocks
// too, and both wait for ever (a few megabytes on loopback is enough).
// Sending and reading at once takes poll() or epoll: chapters 09 and 10.
#include <cerrno>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"

namespace {

int run(const net::Args& args) {
    if (args.port() == 0) {
        throw net::UsageError("--port is required: the port the echo server printed");
    }
    const std::string message = args.positional().empty() ? "hello, echo server\n" : args.positional()[0];

    const auto endpoints = net::resolve(args.host(), std::to_string(args.port()), net::tcp_hints());

    // One host can have several addresses (localhost: often ::1, then
    // 127.0.0.1). Try each in getaddrinfo's order until one connects.
    net::Fd sock;
    for (const net::Endpoint& endpoint : endpoints) {
        net::Fd attempt{net::check(::socket(endpoint.family, endpoint.socktype | SOCK_CLOEXEC, endpoint.protocol), "socket")};
        net::log::step("socket() = fd {}", attempt.get());

        // connect(): the three-way handshake happens here (SYN, SYN-ACK, ACK).
        if (::connect(attempt.get(), endpoint.address.get(), endpoint.address.length) == 0) {
            net::log::step("connect({}) from {}", net::to_string(endpoint.address),
                           net::to_string(net::local_address(attempt.get())));
            sock = std::move(attempt);
            break;
        }
        const int err = errno;  // before building the message: allocating may change errno
        if (&endpoint == &endpoints.back()) {
            net::throw_errno("connect " + net::to_string(endpoint.address), err);  // none left: give up
        }
        net::log::warn("connect({}): {}: trying the next address", net::to_string(endpoint.address), std::strerror(err));
    }  // a failed attempt's socket is closed here, by its Fd

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
    net::log::step("send() = {} bytes", sent);

    // TCP is a byte stream: the echo may arrive in several pieces, so keep
    // reading until as many bytes came back as were sent.
    std::string echo;
    while (echo.size() < message.size()) {
        char buffer[4096];
        const ssize_t n = ::recv(sock.get(), buffer, sizeof buffer, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            net::throw_errno("recv");
        }
        if (n == 0) {
            throw std::runtime_error("the server closed the connection before echoing everything");
        }
        net::log::step("recv() = {} bytes", n);
        echo.append(buffer, static_cast<std::size_t>(n));
    }
    net::log::good("echo: {}", echo);
    return echo == message ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "echo-client",
        .summary = "Connects to an echo server, sends MESSAGE and prints what comes back.",
        .positional = "[MESSAGE]",
        .max_positional = 1,
        .port_help = "the port the echo server printed (required)",
    };
    return net::run_main(argc, argv, usage, run);
}
