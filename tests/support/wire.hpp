#pragma once
// A loopback connection to hand to the code under test, and a thread to run
// that code on that can always be stopped.

#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <optional>
#include <ostream>
#include <string_view>
#include <thread>

#include "harness.hpp"
#include "net/fd.hpp"
#include "tcp_proxy.hpp"

namespace harness {

// One loopback TCP connection, for code under test that takes a connected
// socket: mine() is the end that code uses, peer() the test's end (with a
// transcript). Given ProxyOptions, the bytes pass through a TcpProxy.
//
//     harness::Wire wire(harness::ProxyOptions{});
//     INFO(wire);                                   // the proxy's seed
//     harness::CodeUnderTest code(wire.mine(), [&] { lesson::read_it(wire.mine()); });
//     wire.peer().send(data);
//     code.join(1s, "read_it reading what the test sent");
class Wire {
public:
    explicit Wire(std::optional<ProxyOptions> rechunk = std::nullopt);

    [[nodiscard]] int mine() const noexcept { return mine_.get(); }
    [[nodiscard]] Client& peer() { return *peer_; }
    [[nodiscard]] const TcpProxy* proxy() const noexcept { return proxy_ ? &*proxy_ : nullptr; }

private:
    net::Fd listener_;
    std::optional<TcpProxy> proxy_;
    net::Fd mine_;
    std::optional<Client> peer_;
};

// The proxy's description, or "a direct loopback connection".
std::ostream& operator<<(std::ostream& out, const Wire& wire);

// Runs the code under test on its own thread. If it throws, the test's own
// waits (Client's) stop at once and re-throw that: a stub's "not started"
// shows immediately instead of as a timeout.
class CodeUnderTest {
public:
    // `fd` is the socket the code uses: it is shut down to stop the code.
    CodeUnderTest(int fd, std::function<void()> body);
    ~CodeUnderTest();
    CodeUnderTest(const CodeUnderTest&) = delete;
    CodeUnderTest& operator=(const CodeUnderTest&) = delete;

    // Waits for the code to return and re-throws what it threw. After
    // `timeout` it stops the code (shutdown, and a non-socket put in the fd's
    // place for a loop that spins on recv() == 0) and throws Timeout naming `step`.
    void join(milliseconds timeout, std::string_view step);

    // The code's thread, for wait_until_blocked (waits.hpp).
    [[nodiscard]] pid_t thread_id() const;

    // For code running an InterruptStorm on its own thread: waits until
    // `count` of its signals have landed while the code was asleep in a
    // system call (InterruptStorm::landed), i.e. interrupted blocked calls.
    // Returns early if the code finishes first, re-throws its failure if it
    // fails first; Timeout after `timeout`.
    void await_interrupts(std::size_t count, milliseconds timeout = default_timeout) const;

private:
    void stop();

    int fd_;
    std::size_t interrupts_at_start_;
    std::shared_future<pid_t> thread_id_;
    std::future<void> done_;
    std::thread thread_;
};

}  // namespace harness
