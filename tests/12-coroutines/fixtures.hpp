#pragma once
// The server around exercise 12's handle_echo: an accept task on an
// AsyncListener spawns one task per client, each owning its Stream; the loop
// runs on its own thread until stop(). Everything a test inspects afterwards
// (errors, frames, watched fds) is read after the thread has been joined.
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "net/awaitables.hpp"
#include "net/error.hpp"
#include "net/event_loop.hpp"
#include "net/task.hpp"
#include "net/tcp.hpp"
#include "stream.hpp"

namespace fixtures {

class EchoServer {
public:
    // `idle` > 0: a client's handler is cancelled after that long (net::timeout),
    // which destroys its frame and with it the Stream: the socket closes.
    explicit EchoServer(std::chrono::milliseconds idle = std::chrono::milliseconds(0))
        : idle_(idle), listener_(loop_, net::listen_tcp("127.0.0.1", 0)) {
        harness::clear_server_failure();
        port_ = net::local_port(listener_.fd());
        accepting_ = net::spawn(accept_clients(), [this](std::exception_ptr e) { record(e); });
        thread_ = std::thread([this] {
            try {
                loop_.run();
            } catch (...) {
                record(std::current_exception());
            }
            done_.set_value();
        });
    }
    EchoServer(const EchoServer&) = delete;
    EchoServer& operator=(const EchoServer&) = delete;
    ~EchoServer() {
        stop();
        cancel_all();
    }

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

    // Stops the loop and joins its thread (with a deadline).
    void stop() {
        if (thread_.joinable()) {
            loop_.stop();
            if (done_future_.wait_for(harness::default_timeout) != std::future_status::ready) {
                harness::fatal_timeout("the echo server's loop did not stop");
            }
            thread_.join();
        }
    }
    // After stop(): destroys every task still suspended (clients still
    // connected, the accept loop), as a server shutting down would.
    void cancel_all() {
        for (net::Spawned& client : clients_) {
            client.cancel();
        }
        clients_.clear();
        accepting_.cancel();
    }

    // After stop(): what escaped the handlers, one line each.
    [[nodiscard]] const std::vector<std::string>& errors() const noexcept { return errors_; }
    [[nodiscard]] std::size_t handlers_timed_out() const noexcept { return timed_out_; }
    [[nodiscard]] net::EventLoop& loop() noexcept { return loop_; }

private:
    net::Task<void> accept_clients() {
        for (;;) {
            net::Accepted client = co_await listener_.accept();
            clients_.push_back(net::spawn(serve(std::move(client.connection)), [this](std::exception_ptr e) { record(e); }));
        }
    }

    net::Task<void> serve(net::Fd socket) {
        // A small send buffer: loopback autotunes it to megabytes, and a
        // write that never comes up short cannot show that short writes are handled.
        const int small = 16 * 1024;
        net::check(::setsockopt(socket.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), "setsockopt SO_SNDBUF");
        lesson12::Stream stream(loop_, std::move(socket));
        if (idle_.count() > 0) {
            try {
                co_await net::timeout(loop_, idle_, lesson12::handle_echo(stream));
            } catch (const net::TimedOut&) {
                ++timed_out_;  // the handler's frame is gone; the Stream goes with this one
            }
        } else {
            co_await lesson12::handle_echo(stream);
        }
    }

    void record(std::exception_ptr error) {
        harness::record_server_failure(error);  // the test's waits re-throw it at once
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            errors_.emplace_back(e.what());
        } catch (...) {
            errors_.emplace_back("an exception that is not a std::exception");
        }
    }

    std::chrono::milliseconds idle_;
    net::EventLoop loop_;
    net::AsyncListener listener_;
    std::uint16_t port_ = 0;
    net::Spawned accepting_;
    std::vector<net::Spawned> clients_;
    std::vector<std::string> errors_;
    std::size_t timed_out_ = 0;
    std::promise<void> done_;
    std::future<void> done_future_ = done_.get_future();
    std::thread thread_;
};

}  // namespace fixtures
