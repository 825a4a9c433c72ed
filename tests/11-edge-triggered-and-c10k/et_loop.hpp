#pragma once
// The loop around exercise 11: the listener and every client registered
// edge-triggered, once; accept_all on the listener's edges, on_ready on each
// client's. The same wiring as lessons/11-edge-triggered-and-c10k/et-echo-server.cpp
// without the narration, plus the figures the tests look at, and a gate: the
// loop can be held back until clients are already queued, so that the one
// edge they make is all the listener ever gets.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>

#include "background.hpp"
#include "edge_triggered.hpp"
#include "net/error.hpp"
#include "net/event_loop.hpp"
#include "net/fd.hpp"

namespace fixtures {

struct EtFigures {
    std::atomic<std::size_t> accepted = 0;
    std::atomic<std::size_t> shed = 0;
    std::atomic<std::size_t> open = 0;
    std::atomic<std::size_t> most_buffered = 0;  // the largest output buffer seen after a handler
};

struct EtOptions {
    std::size_t output_limit = lesson11::Connection::default_output_limit;
    int socket_buffer = 0;  // bytes for each client's SO_SNDBUF and SO_RCVBUF; 0: the kernel's (autotuned)
    bool start_held = false;  // wait for EtEchoServer::start() before watching the listener
};

class EtEchoServer {
public:
    explicit EtEchoServer(EtOptions options = {})
        : options_(options), go_(!options.start_held),
          server_([this](int listener, const std::atomic<bool>& stop) { return serve(listener, stop); }) {}

    // Lets a server made with start_held watch its listener.
    void start() noexcept { go_ = true; }
    [[nodiscard]] std::uint16_t port() const noexcept { return server_.port(); }
    [[nodiscard]] pid_t thread_id() const { return server_.thread_id(); }
    std::size_t stop() { return server_.stop(); }

    EtFigures figures;

private:
    std::size_t serve(int listener, const std::atomic<bool>& stop) {
        net::check(::fcntl(listener, F_SETFL, ::fcntl(listener, F_GETFL) | O_NONBLOCK), "fcntl O_NONBLOCK");
        net::EventLoop loop;
        lesson11::ReserveFd reserve;
        std::map<int, std::unique_ptr<lesson11::Connection>> clients;

        auto on_client = [&](net::Fd socket) {
            const int fd = socket.get();
            if (options_.socket_buffer > 0) {
                const int size = options_.socket_buffer;
                net::check(::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size), "setsockopt SO_SNDBUF");
                net::check(::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size), "setsockopt SO_RCVBUF");
            }
            clients.emplace(fd, std::make_unique<lesson11::Connection>(std::move(socket), options_.output_limit));
            figures.open = clients.size();
            loop.watch(fd, lesson11::Connection::events, [&, fd](std::uint32_t events) {
                auto found = clients.find(fd);
                if (found == clients.end()) {
                    return;
                }
                if (found->second->on_ready(events) == lesson11::Status::closed) {
                    loop.unwatch(fd);
                    clients.erase(found);
                    figures.open = clients.size();
                    return;
                }
                figures.most_buffered = std::max(figures.most_buffered.load(), found->second->buffered());
            });
        };

        while (!go_ && !stop) {
            loop.run_once(std::chrono::milliseconds{5});  // held: the clients queue up meanwhile
        }
        loop.watch(listener, EPOLLIN | EPOLLET, [&](std::uint32_t) {
            const lesson11::AcceptCounts counts = lesson11::accept_all(listener, reserve, on_client);
            figures.accepted += counts.accepted;
            figures.shed += counts.shed;
        });
        while (!stop) {
            loop.run_once(std::chrono::milliseconds{200});
        }
        return figures.accepted;
    }

    EtOptions options_;
    std::atomic<bool> go_;
    harness::BackgroundTcpServer server_;  // last: its thread uses everything above
};

}  // namespace fixtures
