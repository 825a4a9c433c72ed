#pragma once
// RFC 868's dialogue ends "U: Close the connection. S: Close the connection.":
// the server has sent its 4 bytes, and waits for the client to close first
// (the RFC's prose has the server close at once; waiting is this book's
// choice, so that TIME_WAIT stays with the client). Three ways to wait, from
// worst to best; time-server's --timeout and --timeout-style pick one. Each
// reads and throws away whatever the client sends until recv() says it has
// gone: 0 for a close (FIN), -1 ECONNRESET for a reset (RST).
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#include <fmt/core.h>

#include "net/error.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"

namespace wait_for_close {

using std::chrono::milliseconds;
using std::chrono::steady_clock;


// The client has gone when recv() says so; narrates which way it went (and,
// given the milliseconds left before a deadline, how early).
inline bool client_left(ssize_t n, long long ms_left = -1) {
    const bool reset = n < 0 && errno == ECONNRESET;
    if (n != 0 && !reset) {
        return false;
    }
    const std::string early = ms_left < 0 ? "" : fmt::format(", {} ms before the deadline", ms_left);
    if (reset) {
        net::log::step("recv() = -1 ECONNRESET: the client reset the connection{}", early);
    } else {
        net::log::step("recv() = 0: the client closed{}", early);
    }
    return true;
}

// As long as it takes: one silent client freezes a one-at-a-time server.
// Returns false if a stop signal (Ctrl-C) interrupted the wait.
inline bool for_ever(int fd) {
    net::log::step("waiting for the client to close, for as long as it takes");
    char discard[512];
    for (;;) {
        const ssize_t n = ::recv(fd, discard, sizeof discard, 0);
        if (client_left(n)) {
            return true;
        }
        if (n < 0 && errno != EINTR) {
            net::throw_errno("recv");
        }
        if (n < 0 && net::stop_requested()) {
            return false;
        }
        if (n > 0) {
            net::log::step("recv() = {}, thrown away", net::plural(n, "byte"));
        }
    }
}

// SO_RCVTIMEO, Python's settimeout: each recv() gives up after `timeout`,
// but every byte that arrives starts the clock again.
inline void with_sockopt(int fd, milliseconds timeout) {
    const timeval limit{static_cast<time_t>(timeout.count() / 1000),
                        static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    net::check(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), "setsockopt SO_RCVTIMEO");
    net::log::step("setsockopt(SO_RCVTIMEO, {} ms)", timeout.count());
    char discard[512];
    for (;;) {
        const ssize_t n = ::recv(fd, discard, sizeof discard, 0);
        if (client_left(n)) {
            return;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            net::log::warn("recv() = -1 EAGAIN: quiet for {} ms, dropping the client", timeout.count());
            return;
        }
        if (n < 0 && errno != EINTR) {
            net::throw_errno("recv");
        }
        if (n < 0 && net::stop_requested()) {
            return;
        }
        if (n > 0) {
            net::log::step("recv() = {}, thrown away (and SO_RCVTIMEO starts again)", net::plural(n, "byte"));
        }
    }
}

// One deadline for the whole wait: poll() gets only the time that is left.
inline void with_deadline(int fd, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    const auto left = [deadline] {
        return std::max<long long>(std::chrono::ceil<milliseconds>(deadline - steady_clock::now()).count(), 0);
    };
    char discard[512];
    for (;;) {
        pollfd waiting{fd, POLLIN, 0};
        const int ready = ::poll(&waiting, 1, static_cast<int>(left()));
        if (ready == 0) {
            net::log::warn("poll() = 0: no close within {} ms, dropping the client", timeout.count());
            return;
        }
        if (ready < 0 && errno == EINTR) {
            if (net::stop_requested()) {
                return;
            }
            continue;
        }
        if (ready < 0) {
            net::throw_errno("poll");
        }
        const ssize_t n = ::recv(fd, discard, sizeof discard, 0);
        if (client_left(n, left())) {
            return;
        }
        if (n < 0 && errno != EINTR) {
            net::throw_errno("recv");
        }
        if (n > 0) {
            net::log::step("recv() = {}, thrown away ({} ms left)", net::plural(n, "byte"), left());
        }
    }
}

}  // namespace wait_for_close
