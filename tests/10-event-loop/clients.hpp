#pragma once
// The clients of lessons 10 and 11's echo tests: one that sends and does not
// read (backpressure), one that sends and reads at once, and a drain of what
// a non-blocking socket holds.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <thread>

#include "harness.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"

namespace fixtures {

// A client that sends and does not read: a non-blocking socket with a small
// receive buffer, pushing `total` bytes until they are all sent or nothing
// more has gone out for `stalled` (the server stopped reading it).
struct NonReader {
    net::Fd socket;
    std::size_t sent = 0;

    explicit NonReader(std::uint16_t port) {
        socket.reset(net::check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
        const int small = 4096;
        net::check(::setsockopt(socket.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), "setsockopt SO_RCVBUF");
        // Not autotuned (up to tcp_wmem's 4 MiB): what goes in must reach the server.
        const int send_buffer = 64 * 1024;
        net::check(::setsockopt(socket.get(), SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer), "setsockopt SO_SNDBUF");
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        net::check(::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address), "connect");
        net::check(::fcntl(socket.get(), F_SETFL, O_NONBLOCK), "fcntl O_NONBLOCK");
    }

    // Returns 0, or the errno of a send that failed (the server hung up).
    int push(const std::string& data, std::chrono::milliseconds stalled) {
        while (sent < data.size()) {
            const ssize_t n = ::send(socket.get(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n > 0) {
                sent += static_cast<std::size_t>(n);
                continue;
            }
            if (errno != EAGAIN) {
                return errno;
            }
            pollfd writable{socket.get(), POLLOUT, 0};
            if (::poll(&writable, 1, static_cast<int>(stalled.count())) <= 0) {
                return 0;  // nothing went out for `stalled`: the server is not reading us
            }
        }
        return 0;
    }

    // Reads until `expected` bytes came back, the server closes, or nothing
    // more arrives for `stalled`.
    std::string read_back(std::size_t expected, std::chrono::milliseconds stalled) {
        std::string back;
        char buffer[65536];
        while (back.size() < expected) {
            pollfd readable{socket.get(), POLLIN, 0};
            if (::poll(&readable, 1, static_cast<int>(stalled.count())) <= 0) {
                break;
            }
            const ssize_t n = ::recv(socket.get(), buffer, sizeof buffer, 0);
            if (n <= 0) {
                break;
            }
            back.append(buffer, static_cast<std::size_t>(n));
        }
        return back;
    }
};

// Sends `data` on the client's socket from a second thread while this one
// reads the echo: neither side waits for the other. Returns the `data.size()`
// bytes that came back, or re-throws the read's or the send's failure.
inline std::string echo_while_sending(harness::Client& client, const std::string& data,
                                      std::chrono::milliseconds timeout) {
    std::exception_ptr send_failed;
    std::thread sender([&] {
        try {
            harness::Client writer(net::Fd{::dup(client.fd())});
            writer.send(data, timeout);
        } catch (...) {
            send_failed = std::current_exception();
        }
    });
    std::string back;
    try {
        back = client.recv_exact(data.size(), timeout);
    } catch (...) {
        ::shutdown(client.fd(), SHUT_RDWR);  // frees the sender
        sender.join();
        throw;
    }
    sender.join();
    if (send_failed) {
        std::rethrow_exception(send_failed);
    }
    return back;
}

// Everything a non-blocking read of `fd` finds now (the test's end of a socket pair).
inline std::string read_available(int fd) {
    std::string got;
    char buffer[65536];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT)) > 0;) {
        got.append(buffer, static_cast<std::size_t>(n));
    }
    return got;
}

}  // namespace fixtures
