#pragma once
// An HTTP server of the lessons (exercise 14's http::Server, or common/http's
// with lesson 15's rules plugged in) on an event loop of its own thread, for
// as long as the test case lasts. Both servers take (loop, listener, router,
// options), so one template serves both:
//
//     using HttpServer = harness::HttpServerOnLoop<http::Server, http::Router, http::ServerOptions>;
//     HttpServer server(app);
//     auto client = harness::Client::connect(server.port());
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "background.hpp"
#include "net/error.hpp"
#include "net/event_loop.hpp"
#include "net/fd.hpp"

namespace harness {

template <typename Server, typename Router, typename Options>
class HttpServerOnLoop {
public:
    // `socket_buffer` > 0: SO_SNDBUF and SO_RCVBUF of the listener, which
    // accepted sockets inherit (no autotuning to megabytes on loopback).
    explicit HttpServerOnLoop(Router router, Options options = {}, int socket_buffer = 0)
        : router_(std::move(router)), options_(std::move(options)),
          server_([this](int listener, const std::atomic<bool>& stop) { return serve(listener, stop); }) {
        if (socket_buffer > 0) {
            for (const int option : {SO_SNDBUF, SO_RCVBUF}) {
                net::check(::setsockopt(server_.listener(), SOL_SOCKET, option, &socket_buffer, sizeof socket_buffer),
                           "setsockopt");
            }
        }
    }
    [[nodiscard]] std::uint16_t port() const noexcept { return server_.port(); }
    // Stops the loop; the number of requests the server answered.
    std::size_t stop() { return server_.stop(); }

private:
    std::size_t serve(int listener, const std::atomic<bool>& stop) {
        net::EventLoop loop;
        Server server(loop, net::Fd(net::check(::dup(listener), "dup")), router_, options_);
        while (!stop) {
            loop.run_once(std::chrono::milliseconds(50));
        }
        return static_cast<std::size_t>(server.requests());
    }

    Router router_;
    Options options_;
    BackgroundTcpServer server_;  // last: its thread uses everything above
};

}  // namespace harness
