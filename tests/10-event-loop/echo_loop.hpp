#pragma once
// The loop around the exercise: accept clients on a non-blocking listener,
// give each a lesson10::Connection, and after every handler watch the
// socket for what interest() asks. The same wiring as
// lessons/10-event-loop/echo-server.cpp, without the narration, plus the
// figures the tests look at.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <map>
#include <memory>

#include <fmt/core.h>

#include "background.hpp"
#include "connection.hpp"
#include "net/error.hpp"
#include "net/event_loop.hpp"
#include "net/fd.hpp"

namespace fixtures {

struct LoopFigures {
    std::atomic<std::size_t> accepted = 0;
    std::atomic<std::size_t> open = 0;
    std::atomic<std::size_t> most_buffered = 0;  // the largest output buffer seen after a handler
};

// Runs the echo loop on `listener` until `stop`; returns how many clients it served.
// `send_buffer` (bytes, 0: the kernel's default) shrinks each client's
// SO_SNDBUF, so that a client that stops reading fills it within kilobytes,
// and its SO_RCVBUF: autotuned, a loopback receive buffer grows to
// tcp_rmem's maximum (32 MiB on Linux 6.x), enough to swallow a whole
// 8 MiB flood that the server is no longer reading.
inline std::size_t serve_echo(int listener, const std::atomic<bool>& stop, LoopFigures& figures,
                              std::size_t output_limit, int send_buffer) {
    net::EventLoop loop;
    std::map<int, std::unique_ptr<lesson10::Connection>> clients;

    auto after_handler = [&](lesson10::Connection& client, lesson10::Status status) {
        const int fd = client.fd();
        if (status == lesson10::Status::closed) {
            loop.unwatch(fd);
            clients.erase(fd);
            figures.open = clients.size();
            return;
        }
        figures.most_buffered = std::max(figures.most_buffered.load(), client.buffered());
        loop.change(fd, client.interest());
    };

    loop.watch(listener, EPOLLIN, [&](std::uint32_t) {
        const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            return;  // EAGAIN (another turn took it), or a client that reset while queued
        }
        net::Fd socket{fd};
        if (send_buffer > 0) {
            net::check(::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer), "setsockopt SO_SNDBUF");
            net::check(::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &send_buffer, sizeof send_buffer), "setsockopt SO_RCVBUF");
        }
        auto client = std::make_unique<lesson10::Connection>(std::move(socket), output_limit);
        lesson10::Connection& ref = *client;
        clients.emplace(fd, std::move(client));
        ++figures.accepted;
        figures.open = clients.size();
        loop.watch(fd, ref.interest(), [&, fd](std::uint32_t events) {
            auto found = clients.find(fd);
            if (found == clients.end()) {
                return;
            }
            lesson10::Connection& c = *found->second;
            lesson10::Status status = lesson10::Status::open;
            if ((events & EPOLLOUT) != 0) {
                status = c.on_writable();
            }
            if (status == lesson10::Status::open && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
                status = c.on_readable();
            }
            after_handler(c, status);
        });
    });

    while (!stop) {
        loop.run_once(std::chrono::milliseconds{200});
    }
    return figures.accepted;
}

// The echo loop on a thread of its own (harness::BackgroundTcpServer).
class EchoServer {
public:
    explicit EchoServer(std::size_t output_limit = lesson10::Connection::default_output_limit, int send_buffer = 0)
        : server_([this, output_limit, send_buffer](int listener, const std::atomic<bool>& stop) {
              net::check(::fcntl(listener, F_SETFL, ::fcntl(listener, F_GETFL) | O_NONBLOCK), "fcntl O_NONBLOCK");
              return serve_echo(listener, stop, figures, output_limit, send_buffer);
          }) {}
    [[nodiscard]] std::uint16_t port() const noexcept { return server_.port(); }
    [[nodiscard]] pid_t thread_id() const { return server_.thread_id(); }
    std::size_t stop() { return server_.stop(); }

    LoopFigures figures;

private:
    harness::BackgroundTcpServer server_;  // last: its thread uses the figures
};

// Nanoseconds thread `tid` of this process has spent on a CPU (schedstat).
inline std::uint64_t cpu_time_ns(pid_t tid) {
    std::ifstream stat(fmt::format("/proc/self/task/{}/schedstat", tid));
    std::uint64_t on_cpu = 0;
    if (!(stat >> on_cpu)) {
        throw std::runtime_error(fmt::format("cannot read /proc/self/task/{}/schedstat", tid));
    }
    return on_cpu;
}

}  // namespace fixtures
