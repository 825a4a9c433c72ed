#pragma once
// Fixtures for tests/04-server-lifecycle.cpp: SIGPIPE caught in the act, the
// server under test on a thread (stopped like Ctrl-C), TIME_WAIT read from
// the kernel's table, and the requests and replies the tests use.

#include <algorithm>
#include <atomic>
#include <cctype>
#include <csignal>
#include <cstdint>
#include <fstream>
#include <functional>
#include <optional>
#include <pthread.h>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/core.h>

#include "background.hpp"
#include "harness.hpp"
#include "interrupts.hpp"
#include "lifecycle.hpp"
#include "net/error.hpp"

namespace fixtures {

// ---- SIGPIPE caught in the act ---------------------------------------------

// Blocks SIGPIPE in the calling thread: a send without MSG_NOSIGNAL then
// leaves it pending here (instead of killing the process) for us to see.
inline void block_sigpipe() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    if (const int rc = ::pthread_sigmask(SIG_BLOCK, &pipe, nullptr); rc != 0) {
        net::throw_errno("pthread_sigmask", rc);
    }
}

// True if a send in this thread raised SIGPIPE; consumes it.
inline bool took_pending_sigpipe() {
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

inline constexpr const char* sigpipe_verdict =
    "a send raised SIGPIPE: without MSG_NOSIGNAL this kills the whole server process";

// ---- the server under test --------------------------------------------------

// Runs lesson04::serve on its own thread with SIGPIPE blocked there (and,
// if asked, an InterruptStorm on it). stop() plays the operator pressing
// Ctrl-C: it sets the stop flag, then signals the server's thread until
// serve returns (harness::BackgroundTcpServer).
class ServeInBackground {
public:
    explicit ServeInBackground(lesson04::Handler handler, bool interrupt_storm = false)
        : handler_(std::move(handler)),
          server_([this, interrupt_storm](int listener, const std::atomic<bool>& stop) {
              block_sigpipe();
              std::size_t served = 0;
              {
                  std::optional<harness::InterruptStorm> storm;
                  if (interrupt_storm) {
                      storm.emplace(::pthread_self());
                  }
                  served = lesson04::serve(listener, [this](std::string_view request) {
                      ++handled_;
                      return handler_(request);
                  }, stop);
              }
              sigpipe_.store(took_pending_sigpipe());
              return served;
          }) {}

    [[nodiscard]] std::uint16_t port() const { return server_.port(); }
    [[nodiscard]] pid_t thread_id() const { return server_.thread_id(); }

    // Sets the stop flag only, as a signal handler would (and may be called
    // from the handler, on the server's thread).
    void request_stop() { server_.request_stop(); }

    // Sets the stop flag and signals the server's thread until serve returns;
    // gives back serve's result, or re-throws its exception. If serve has not
    // returned within `timeout`, calls `unblock` (to free a server stuck with
    // a client) and throws harness::Timeout.
    std::size_t stop(harness::milliseconds timeout = harness::milliseconds(1500),
                     const std::function<void()>& unblock = {}) {
        return server_.stop(timeout, unblock);
    }

    [[nodiscard]] int handled() const { return handled_.load(); }
    [[nodiscard]] bool raised_sigpipe() const { return sigpipe_.load(); }

private:
    lesson04::Handler handler_;
    std::atomic<int> handled_{0};
    std::atomic<bool> sigpipe_{false};
    harness::BackgroundTcpServer server_;  // last: its thread uses everything above
};

// ---- requests and replies ---------------------------------------------------

inline std::string shout(std::string_view request) {
    std::string reply(request);
    std::transform(reply.begin(), reply.end(), reply.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return fmt::format("{} bytes: {}", request.size(), reply);
}

// A reply far larger than the socket buffers can hold (about 4 MB on
// loopback), so the server is still sending when the client resets.
inline const std::string& huge_reply() {
    static const std::string reply(16 << 20, 'z');
    return reply;
}

// shutdown(SHUT_WR) on the client; if the connection is already gone, the
// server's own failure (a stub's "not started", say) is the better report.
inline void end_request(harness::Client& client) {
    try {
        client.shutdown_write();
    } catch (const std::system_error&) {
        harness::rethrow_server_failure();
        throw;
    }
}

// ---- TIME_WAIT, read from the kernel's own table ----------------------------

// Connections in TIME_WAIT (state 06 in /proc/net/tcp) whose local port is `port`.
inline int time_wait_count(std::uint16_t port) {
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

}  // namespace fixtures
