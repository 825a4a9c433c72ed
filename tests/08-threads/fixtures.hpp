#pragma once
// Fixtures for tests/08-threads.cpp: the pool under test on a thread (stopped
// like Ctrl-C), the threads of this process counted from /proc, and line
// protocols for both ends: the key-value handler the workers run, and a
// client that reads answers line by line.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/types.h>
#include <utility>

#include "background.hpp"
#include "harness.hpp"
#include "net/error.hpp"
#include "net/stream.hpp"
#include "pool.hpp"
#include "store.hpp"
#include "waits.hpp"

namespace fixtures {

// The threads of this process right now ("Threads:" in /proc/self/status).
inline int thread_count() {
    std::ifstream status("/proc/self/status");
    std::string field;
    while (status >> field) {
        if (field == "Threads:") {
            int count = 0;
            status >> count;
            return count;
        }
    }
    throw std::runtime_error("no Threads: line in /proc/self/status");
}

// ---- the server side: what a worker runs -----------------------------------

// Reads lines from a connected socket (the handler's side). next() gives the
// next line without its newline, or nothing at EOF; a reset is an exception.
class LineReader {
public:
    explicit LineReader(int fd) : fd_(fd) {}

    std::optional<std::string> next() {
        for (;;) {
            if (const auto end = buffer_.find('\n'); end != std::string::npos) {
                std::string line = buffer_.substr(0, end);
                buffer_.erase(0, end + 1);
                return line;
            }
            if (buffer_.size() > 4096) {
                throw std::runtime_error("line too long");
            }
            char chunk[4096];
            const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                net::throw_errno("recv");
            }
            if (n == 0) {
                return std::nullopt;
            }
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

private:
    int fd_;
    std::string buffer_;
};

inline void send_line(int fd, std::string_view line) {
    net::send_all(fd, std::string(line) + "\n");
}

// The key-value protocol over `store`: one answer line per command line,
// "BYE" for QUIT. What the lesson's program serves, written for the tests.
inline lesson08::Handler kv_handler(lesson08::Store& store) {
    return [&store](int client) {
        LineReader lines(client);
        while (const std::optional<std::string> line = lines.next()) {
            if (*line == "QUIT") {
                send_line(client, "BYE");
                return;
            }
            send_line(client, store.execute(*line));
        }
    };
}

// ---- the pool under test -----------------------------------------------------

// Runs lesson08::serve_pool on its own thread. stop() plays the operator
// pressing Ctrl-C: it sets the stop flag, then signals the accepting thread
// until serve_pool returns (harness::BackgroundTcpServer).
class PoolServer {
public:
    PoolServer(lesson08::Handler handler, lesson08::PoolOptions options)
        : handler_(std::move(handler)),
          options_(options),
          server_([this](int listener, const std::atomic<bool>& stop) {
              const std::size_t served = lesson08::serve_pool(listener, handler_, options_, stop);
              returned_.store(true);
              return served;
          }) {}

    [[nodiscard]] std::uint16_t port() const { return server_.port(); }
    [[nodiscard]] pid_t thread_id() const { return server_.thread_id(); }
    [[nodiscard]] bool returned() const { return returned_.load(); }
    std::size_t stop(harness::milliseconds timeout = harness::milliseconds(3000)) { return server_.stop(timeout); }

private:
    lesson08::Handler handler_;
    lesson08::PoolOptions options_;
    std::atomic<bool> returned_{false};
    harness::BackgroundTcpServer server_;  // last: its thread uses everything above
};

// ---- the client side -----------------------------------------------------------

// A harness::Client that reads whole lines.
class LineClient {
public:
    explicit LineClient(std::uint16_t port) : client_(harness::Client::connect(port)) {}

    void send(std::string_view bytes) { client_.send(bytes); }

    // The next line without its newline; Timeout, or std::runtime_error if
    // the server closes first.
    std::string line(harness::milliseconds timeout = harness::default_timeout) {
        const harness::Deadline deadline(timeout);
        for (;;) {
            if (const auto end = pending_.find('\n'); end != std::string::npos) {
                std::string line = pending_.substr(0, end);
                pending_.erase(0, end + 1);
                return line;
            }
            const std::string more = client_.recv_some(std::max(deadline.remaining(), harness::milliseconds(1)));
            if (more.empty()) {
                throw std::runtime_error("the server closed the connection before a whole line: '" + pending_ + "'");
            }
            pending_ += more;
        }
    }

    [[nodiscard]] harness::Client& raw() { return client_; }

private:
    harness::Client client_;
    std::string pending_;
};

}  // namespace fixtures
