// The three ways time-server waits for a client to close (wait-for-close.hpp).
// Each reads and throws away whatever the client sends until recv() says it
// has gone: 0 for a close (FIN), -1 ECONNRESET for a reset (RST).
#include "wait-for-close.hpp"

#include <algorithm>
#include <cerrno>
#include <string>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#include <fmt/core.h>

#include "net/error.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// The client has gone when recv() says so; narrates which way it went (and,
// given the milliseconds left before a deadline, how early).
bool client_left(ssize_t n, long long ms_left = -1) {
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

}  // namespace

bool wait_for_ever(int fd) {
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

void wait_with_sockopt(int fd, milliseconds timeout) {
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

void wait_with_deadline(int fd, milliseconds timeout) {
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
