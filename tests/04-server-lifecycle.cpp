// Tests for exercise 04 — a server that behaves (exercises/04-server-lifecycle/lifecycle.hpp).
// The test plays the clients over real loopback sockets; every wait has a
// deadline. SIGPIPE is blocked in the server's thread, so a send that raises
// it is reported by name instead of ending the test run.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <system_error>
#include <thread>

#include <fmt/core.h>

#include "harness.hpp"
#include "interrupts.hpp"
#include "lifecycle.hpp"
#include "net/address.hpp"
#include "net/error.hpp"

using namespace std::chrono_literals;

namespace {

// ---- signals: the stop signal, and SIGPIPE caught in the act ------------

// Blocks SIGPIPE in the calling thread: a send without MSG_NOSIGNAL then
// leaves it pending here (instead of killing the process) for us to see.
void block_sigpipe() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    if (const int rc = ::pthread_sigmask(SIG_BLOCK, &pipe, nullptr); rc != 0) {
        net::throw_errno("pthread_sigmask", rc);
    }
}

// True if a send in this thread raised SIGPIPE; consumes it.
bool took_pending_sigpipe() {
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) != 1) {
        return false;
    }
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    const timespec now{0, 0};
    ::sigtimedwait(&pipe, nullptr, &now);
    return true;
}

constexpr const char* sigpipe_verdict =
    "a send raised SIGPIPE: without MSG_NOSIGNAL this kills the whole server process";

// ---- the server under test ----------------------------------------------

// Runs lesson04::serve on a LoopbackServer thread. stop() plays the operator
// pressing Ctrl-C: it sets the stop flag, then signals the server's thread
// until serve returns.
class ServeInBackground {
public:
    explicit ServeInBackground(lesson04::Handler handler, bool interrupt_storm = false)
        : handler_(std::move(handler)),
          server_([this, interrupt_storm](int listener) {
              const MarkReturned mark(*this);
              thread_.set_value(::pthread_self());
              block_sigpipe();
              {
                  std::optional<harness::InterruptStorm> storm;
                  if (interrupt_storm) {
                      storm.emplace(::pthread_self());
                  }
                  served_ = lesson04::serve(listener, [this](std::string_view request) {
                      ++handled_;
                      return handler_(request);
                  }, stop_);
              }
              sigpipe_ = took_pending_sigpipe();
          }) {
        harness::install_stop_signal();
    }

    ~ServeInBackground() {
        if (!stopped_) {
            try {
                (void)stop(500ms);  // the test failed before stopping us
            } catch (...) {
                // the test's own failure is what gets reported
            }
        }
    }

    ServeInBackground(const ServeInBackground&) = delete;
    ServeInBackground& operator=(const ServeInBackground&) = delete;

    [[nodiscard]] std::uint16_t port() const { return server_.port(); }

    // Sets the stop flag only, as a signal handler would (and may be called
    // from the handler, on the server's thread).
    void request_stop() { stop_.store(true); }

    // Sets the stop flag and signals the server's thread until serve returns;
    // gives back serve's result, or re-throws its exception. If serve has not
    // returned within `timeout`, calls `unblock` (to free a server stuck with
    // a client) and throws harness::Timeout.
    std::size_t stop(harness::milliseconds timeout = 1500ms, const std::function<void()>& unblock = {}) {
        const harness::Step step("stopping the server: stop flag set, signalling its thread until serve returns");
        stopped_ = true;
        stop_.store(true);
        if (thread_future_.wait_for(timeout) != std::future_status::ready) {
            server_.join(timeout);  // the server function never started: report why
        }
        const pthread_t target = thread_future_.get();
        std::unique_lock lock(alive_);
        const harness::Deadline deadline(timeout);
        while (!returned_ && !deadline.expired()) {
            // Holding the lock, the server thread cannot have finished:
            // pthread_kill never sees a thread that is gone.
            ::pthread_kill(target, harness::stop_signal);
            returned_changed_.wait_for(lock, 500us);
        }
        const bool returned = returned_;
        lock.unlock();
        if (!returned) {
            if (unblock) {
                unblock();
            }
            server_.join(3000ms);
            throw harness::Timeout("serve did not return after the stop flag was set and its thread signalled",
                                   timeout);
        }
        server_.join(timeout);
        return served_;
    }

    [[nodiscard]] int handled() const { return handled_.load(); }
    [[nodiscard]] bool raised_sigpipe() const { return sigpipe_; }

private:
    // Records, on every way out of the server function, that it has returned.
    struct MarkReturned {
        ServeInBackground& self;
        ~MarkReturned() {
            const std::lock_guard lock(self.alive_);
            self.returned_ = true;
            self.returned_changed_.notify_all();
        }
    };

    lesson04::Handler handler_;
    std::atomic<bool> stop_{false};
    std::atomic<int> handled_{0};
    std::size_t served_ = 0;
    bool sigpipe_ = false;
    bool stopped_ = false;
    std::mutex alive_;
    std::condition_variable returned_changed_;
    bool returned_ = false;
    std::promise<pthread_t> thread_;
    std::shared_future<pthread_t> thread_future_ = thread_.get_future().share();
    harness::LoopbackServer server_;  // last: its thread uses everything above
};

std::string shout(std::string_view request) {
    std::string reply(request);
    std::transform(reply.begin(), reply.end(), reply.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return fmt::format("{} bytes: {}", request.size(), reply);
}

// A reply far larger than the socket buffers can hold (about 4 MB on
// loopback), so the server is still sending when the client resets.
const std::string& huge_reply() {
    static const std::string reply(16 << 20, 'z');
    return reply;
}

// ---- TIME_WAIT, read from the kernel's own table --------------------------

// Connections in TIME_WAIT (state 06 in /proc/net/tcp) whose local port is `port`.
int time_wait_count(std::uint16_t port) {
    int count = 0;
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line);  // the header
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            std::string slot, local, remote, state;
            fields >> slot >> local >> remote >> state;  // local is "0100007F:1F90", hex
            const auto colon = local.rfind(':');
            if (colon != std::string::npos && local.substr(colon + 1) == fmt::format("{:04X}", port) &&
                state == "06") {
                ++count;
            }
        }
    }
    return count;
}

// shutdown(SHUT_WR) on the client; if the connection is already gone, the
// server's own failure (a stub's "not started", say) is the better report.
void end_request(harness::Client& client) {
    try {
        client.shutdown_write();
    } catch (const std::system_error&) {
        harness::rethrow_server_failure();
        throw;
    }
}

}  // namespace

// ---- open_listener --------------------------------------------------------

TEST_CASE("open_listener listens on 127.0.0.1 by default, on a port the kernel picks") {
    const net::Fd listener = lesson04::open_listener(0);
    REQUIRE(listener.valid());
    const std::uint16_t port = net::local_port(listener.get());
    CHECK(port != 0);
    CHECK(net::to_string(net::local_address(listener.get())) == fmt::format("127.0.0.1:{}", port));
    auto client = harness::Client::connect(port);
    const net::Fd accepted = harness::accept_within(listener.get(), 1000ms);
    CHECK(accepted.valid());
}

TEST_CASE("open_listener listens on ::1 when asked") {
    const net::Fd listener = lesson04::open_listener(0, "::1");
    const std::uint16_t port = net::local_port(listener.get());
    CHECK(net::to_string(net::local_address(listener.get())) == fmt::format("[::1]:{}", port));
    auto client = harness::Client::connect(port, "::1");
    CHECK(harness::accept_within(listener.get(), 1000ms).valid());
}

TEST_CASE("open_listener: a server restarted right after closing a connection first binds again (SO_REUSEADDR)") {
    std::uint16_t port = 0;
    {
        const net::Fd listener = lesson04::open_listener(0);
        port = net::local_port(listener.get());
        auto client = harness::Client::connect(port);
        net::Fd accepted = harness::accept_within(listener.get(), 1000ms);
        accepted.reset();      // the server closes first: its side will wait in TIME_WAIT
        client.expect_eof(1000ms);
        client.close();        // the client's FIN completes the close
    }                          // and the old server exits
    // The kernel processes a loopback FIN at once; allow it a moment anyway.
    const harness::Deadline settle(500ms);
    while (time_wait_count(port) == 0 && !settle.expired()) {
        std::this_thread::sleep_for(1ms);
    }
    INFO("connections in TIME_WAIT on port " << port << ": " << time_wait_count(port));
    REQUIRE(time_wait_count(port) >= 1);  // the situation a restart runs into

    try {
        const net::Fd restarted = lesson04::open_listener(port);
        CHECK(net::local_port(restarted.get()) == port);
        auto client = harness::Client::connect(port);
        CHECK(harness::accept_within(restarted.get(), 1000ms).valid());
    } catch (const std::system_error& error) {
        FAIL("the restarted server could not listen on port " << port << ": " << std::string(error.what())
             << "\n  a connection the old server closed first is in TIME_WAIT; set SO_REUSEADDR "
                "before bind() (the accepted sockets inherit it from the listener)");
    }
}

TEST_CASE("open_listener refuses a port another server listens on, with an error naming bind") {
    const net::Fd first = lesson04::open_listener(0);
    const std::uint16_t port = net::local_port(first.get());
    try {
        const net::Fd second = lesson04::open_listener(port);
        FAIL("two servers listen on 127.0.0.1:" << port
             << " at once: SO_REUSEPORT allows that; SO_REUSEADDR alone does not");
    } catch (const std::system_error& error) {
        INFO("what(): " << std::string(error.what()));
        CHECK(error.code().value() == EADDRINUSE);
        CHECK(std::string(error.what()).find("bind") != std::string::npos);
    }
}

// ---- serve_client ---------------------------------------------------------

TEST_CASE("serve_client: the client half-closes (shutdown SHUT_WR) and still gets the whole reply") {
    std::string request_seen;
    harness::LoopbackServer server([&](int listener) {
        lesson04::serve_client(harness::accept_within(listener), [&](std::string_view request) {
            request_seen = request;
            return shout(request);
        });
    });
    auto client = harness::Client::connect(server.port());
    INFO(client);
    client.send("banana\n");
    {
        INFO("the request is everything up to the client's EOF: nothing may come back before it");
        REQUIRE_THROWS_AS((void)client.recv_some(30ms), harness::Timeout);
    }
    client.send("apple\ncherry");
    end_request(client);
    REQUIRE(client.recv_until_eof(2000ms) == "19 bytes: BANANA\nAPPLE\nCHERRY");
    server.join();
    CHECK(request_seen == "banana\napple\ncherry");
}

TEST_CASE("serve_client: a request of 300 KB and a reply of 2 MB arrive whole") {
    const std::string request = harness::random_bytes(300'000, 4);
    const std::string reply = harness::random_bytes(2'000'000, 5);
    std::string request_seen;
    harness::LoopbackServer server([&](int listener) {
        lesson04::serve_client(harness::accept_within(listener), [&](std::string_view got) {
            request_seen = got;
            return reply;
        });
    });
    auto client = harness::Client::connect(server.port());
    client.send(request);
    end_request(client);
    const std::string back = client.recv_until_eof(3000ms);
    server.join();
    CHECK(request_seen.size() == request.size());
    CHECK(request_seen == request);
    REQUIRE(back.size() == reply.size());
    CHECK(back == reply);
}

TEST_CASE("serve_client refuses a request over max_request without calling the handler") {
    bool handler_called = false;
    std::string refusal;
    harness::LoopbackServer server([&](int listener) {
        try {
            lesson04::serve_client(harness::accept_within(listener), [&](std::string_view) {
                handler_called = true;
                return std::string("should not be sent");
            });
        } catch (const std::runtime_error& error) {
            refusal = error.what();
        }
    });
    auto client = harness::Client::connect(server.port());
    try {
        client.send(std::string(lesson04::max_request + 1, 'a'), 3000ms);
        end_request(client);
        (void)client.recv_until_eof(3000ms);
    } catch (const std::system_error&) {
        // a reset is a fine way to be refused, too
    }
    server.join();
    CHECK_FALSE(handler_called);
    INFO("serve_client should throw std::runtime_error for a request of max_request + 1 bytes");
    CHECK_FALSE(refusal.empty());
}

TEST_CASE("serve_client: a client that resets mid-reply raises no SIGPIPE; send fails with EPIPE or ECONNRESET") {
    std::optional<std::system_error> failure;
    bool sigpipe = false;
    harness::LoopbackServer server([&](int listener) {
        block_sigpipe();
        try {
            lesson04::serve_client(harness::accept_within(listener),
                                   [](std::string_view) { return huge_reply(); });
        } catch (const std::system_error& error) {
            failure = error;
        }
        sigpipe = took_pending_sigpipe();
    });
    auto client = harness::Client::connect(server.port());
    INFO(client);
    client.send("give me everything");
    end_request(client);
    REQUIRE(client.recv_some(2000ms).size() > 0);  // the reply has started
    client.close_with_reset();                      // and the client vanishes
    server.join();
    INFO(sigpipe_verdict);
    CHECK_FALSE(sigpipe);
    REQUIRE(failure.has_value());
    INFO("what(): " << std::string(failure->what()));
    CHECK((failure->code().value() == EPIPE || failure->code().value() == ECONNRESET));
    CHECK(std::string(failure->what()).find("send") != std::string::npos);
}

// ---- serve ----------------------------------------------------------------

TEST_CASE("serve serves clients one after another, then returns how many when stopped") {
    const int before = harness::open_fd_count();
    {
        ServeInBackground server(shout);
        for (const std::string name : {"one", "two", "three"}) {
            auto client = harness::Client::connect(server.port());
            INFO(client);
            client.send(name);
            end_request(client);
            REQUIRE(client.recv_until_eof(2000ms) == shout(name));
        }
        CHECK(server.stop() == 3);
        CHECK_FALSE(server.raised_sigpipe());
    }
    CHECK(harness::open_fd_count() == before);  // every accepted socket was closed
}

TEST_CASE("serve: a client that resets mid-reply does not stop the server from serving the next one") {
    ServeInBackground server([](std::string_view request) {
        return request == "huge" ? huge_reply() : shout(request);
    });
    {
        auto rude = harness::Client::connect(server.port());
        INFO(rude);
        rude.send("huge");
        end_request(rude);
        REQUIRE(rude.recv_some(2000ms).size() > 0);
        rude.close_with_reset();
    }
    auto next = harness::Client::connect(server.port());
    INFO(next);
    next.send("still there?");
    end_request(next);
    REQUIRE(next.recv_until_eof(2000ms) == shout("still there?"));
    CHECK(server.stop() == 1);  // the rude client was not served in full
    INFO(sigpipe_verdict);
    CHECK_FALSE(server.raised_sigpipe());
}

TEST_CASE("serve: a graceful stop finishes the client in flight, then accepts no one") {
    const std::size_t reply_size = 8 << 20;  // twice what the socket buffers hold
    std::promise<void> handling;
    std::atomic<bool> handling_announced{false};
    ServeInBackground server([&](std::string_view request) {
        if (!handling_announced.exchange(true)) {
            server.request_stop();  // Ctrl-C arrives while this client is being served
            handling.set_value();
        }
        return shout(request) + huge_reply().substr(0, reply_size);
    });
    auto in_flight = harness::Client::connect(server.port());
    INFO(in_flight);
    in_flight.send("first");
    auto queued = harness::Client::connect(server.port());  // waits in the accept queue
    end_request(in_flight);
    {
        const harness::Step step("waiting for serve to call the handler for the client in flight");
        const auto called = handling.get_future();
        const harness::Deadline deadline(2000ms);
        while (called.wait_for(5ms) != std::future_status::ready) {
            harness::rethrow_server_failure();  // a server that failed will never call it
            if (deadline.expired()) {
                throw harness::Timeout(harness::current_step(), deadline.budget());
            }
        }
    }

    // The stop signals keep coming while the reply is still on its way.
    auto stopping = std::async(std::launch::async, [&] {
        return server.stop(1500ms, [&] { queued.close(); });
    });
    const std::string reply = in_flight.recv_until_eof(3000ms);
    const std::size_t served = stopping.get();
    INFO("stop signals delivered to the server's thread: " << harness::stop_signals_delivered());
    INFO("the client in flight must get its whole reply: a stop signal interrupting send (EINTR, or a "
         "short count) is retried, and the stop flag only keeps the next client out");
    REQUIRE(reply.size() == shout("first").size() + reply_size);
    CHECK(reply.starts_with(shout("first")));
    CHECK(served == 1);
    CHECK(server.handled() == 1);  // the queued client was never accepted
}

TEST_CASE("serve stops at once when asked before any client comes") {
    ServeInBackground server(shout);
    CHECK(server.stop(1000ms) == 0);
    CHECK(server.handled() == 0);
}

TEST_CASE("serve keeps serving through a storm of signals: EINTR is not an error") {
    const std::string reply = harness::random_bytes(1'000'000, 7);
    ServeInBackground server([&](std::string_view) { return reply; }, /*interrupt_storm=*/true);
    for (int i = 0; i < 3; ++i) {
        auto client = harness::Client::connect(server.port());
        INFO(client);
        const std::string request = harness::random_bytes(200'000, static_cast<std::uint64_t>(i));
        client.send(request);
        end_request(client);
        const std::string back = client.recv_until_eof(3000ms);
        REQUIRE(back.size() == reply.size());
        CHECK(back == reply);
    }
    INFO("SIGUSR1 interrupts delivered: " << harness::interrupts_delivered());
    CHECK(server.stop() == 3);
}
