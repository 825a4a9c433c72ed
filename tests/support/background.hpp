#pragma once
// A server loop running on its own thread, stopped the way Ctrl-C stops a
// server program: set the stop flag, then signal the thread until the loop
// returns. For the lessons whose serve(…, stop) runs until told to stop
// (04's serve, 07's serve_tcp/serve_udp, and the servers after them).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <pthread.h>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <thread>

#include "harness.hpp"
#include "net/address.hpp"
#include "net/fd.hpp"

namespace harness {

// Runs body(stop) on its own thread. stop() sets the flag, then sends the
// thread harness::stop_signal (SIGUSR2, handler installed without
// SA_RESTART) until the body returns, so a blocked accept/recv/recvfrom
// returns EINTR and the loop gets to look at its flag — as a program's
// Ctrl-C handler does. What the body throws is recorded like a
// LoopbackServer's failure: the test's waits re-throw it at once.
//
//     harness::BackgroundServer server([&](const std::atomic<bool>& stop) {
//         return lesson07::serve_udp(socket.get(), lesson07::Service::time, stop);
//     }, [&] { ::shutdown(socket.get(), SHUT_RDWR); });
//     ... talk to it ...
//     CHECK(server.stop() == 3);   // serve's result, or its exception re-thrown
//
// BackgroundTcpServer and BackgroundUdpServer below also own the socket.
class BackgroundServer {
public:
    using Body = std::function<std::size_t(const std::atomic<bool>& stop)>;

    // `unblock` frees a body that signals cannot stop (a loop that retries
    // EINTR without looking at the flag): shut its socket down, say. stop()
    // calls it when its time runs out.
    explicit BackgroundServer(Body body, std::function<void()> unblock = {});
    // Stops the server (500 ms) if the test did not: a failed test.
    ~BackgroundServer();
    BackgroundServer(const BackgroundServer&) = delete;
    BackgroundServer& operator=(const BackgroundServer&) = delete;

    // Sets the stop flag only, as a signal handler would (safe from any
    // thread, the server's own included).
    void request_stop() noexcept { stop_.store(true); }

    // Sets the flag and signals the thread until the body returns; gives
    // back the body's result or re-throws its exception. After `timeout` it
    // calls `also_unblock` (to free a server stuck with one client) and the
    // constructor's `unblock`, and throws Timeout; if even that does not free
    // the thread, the process ends with a report.
    std::size_t stop(milliseconds timeout = milliseconds(1500), const std::function<void()>& also_unblock = {});

    // The server thread's kernel id, for wait_until_blocked (waits.hpp).
    [[nodiscard]] pid_t thread_id() const;
    // True once the body has returned (or thrown).
    [[nodiscard]] bool returned() const;

private:
    std::function<void()> unblock_;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    pthread_t handle_{};
    pid_t tid_ = 0;
    bool started_ = false;
    bool returned_ = false;
    bool stopped_ = false;
    std::size_t result_ = 0;
    std::exception_ptr error_;
    std::thread thread_;  // last: it uses everything above
};

// A BackgroundServer with its own TCP listener on 127.0.0.1 (or ::1) and a
// kernel-chosen port; a server stuck in accept is unblocked by shutdown().
//
//     harness::BackgroundTcpServer server([](int listener, const std::atomic<bool>& stop) {
//         return lesson04::serve(listener, shout, stop);
//     });
//     auto client = harness::Client::connect(server.port());
class BackgroundTcpServer {
public:
    using Body = std::function<std::size_t(int listener, const std::atomic<bool>& stop)>;
    explicit BackgroundTcpServer(Body body, std::string_view host = "127.0.0.1");

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] int listener() const noexcept { return listener_.get(); }
    [[nodiscard]] pid_t thread_id() const { return server_.thread_id(); }
    void request_stop() noexcept { server_.request_stop(); }
    std::size_t stop(milliseconds timeout = milliseconds(1500), const std::function<void()>& also_unblock = {}) {
        return server_.stop(timeout, also_unblock);
    }

private:
    net::Fd listener_;
    std::uint16_t port_;
    BackgroundServer server_;  // last: its thread uses the listener
};

// A BackgroundServer with its own UDP socket bound to 127.0.0.1 (or ::1) on
// a kernel-chosen port; a server stuck in recvfrom is unblocked by
// shutdown(), which makes recvfrom return 0.
//
//     harness::BackgroundUdpServer server([](int fd, const std::atomic<bool>& stop) {
//         return lesson07::serve_udp(fd, lesson07::Service::time, stop);
//     });
//     harness::UdpPeer client;
//     client.send_to(server.address(), "");
class BackgroundUdpServer {
public:
    using Body = std::function<std::size_t(int fd, const std::atomic<bool>& stop)>;
    explicit BackgroundUdpServer(Body body, std::string_view host = "127.0.0.1");

    [[nodiscard]] int fd() const noexcept { return socket_.get(); }
    [[nodiscard]] const net::Address& address() const noexcept { return address_; }
    [[nodiscard]] std::uint16_t port() const { return net::local_port(socket_.get()); }
    [[nodiscard]] pid_t thread_id() const { return server_.thread_id(); }
    void request_stop() noexcept { server_.request_stop(); }
    std::size_t stop(milliseconds timeout = milliseconds(1500), const std::function<void()>& also_unblock = {}) {
        return server_.stop(timeout, also_unblock);
    }

private:
    net::Fd socket_;
    net::Address address_;
    BackgroundServer server_;  // last: its thread uses the socket
};

}  // namespace harness
