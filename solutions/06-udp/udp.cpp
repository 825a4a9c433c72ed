// Reference solution for exercise 06 — datagrams, truncation, timeouts and retries.
#include "udp.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <system_error>

#include <fmt/core.h>

#include "net/error.hpp"

namespace lesson06 {

namespace {

constexpr std::size_t max_datagram = 65536;  // more than any UDP payload (65,507 bytes over IPv4)

// Waits until `fd` has something to read (a datagram, or an error such as
// ECONNREFUSED) or `deadline` passes. False means the deadline passed.
bool wait_readable(int fd, std::chrono::steady_clock::time_point deadline) {
    pollfd waiting{fd, POLLIN, 0};
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        const int ready = ::poll(&waiting, 1, static_cast<int>(std::min<std::int64_t>(left.count(), INT_MAX)));
        if (ready > 0) {
            return true;
        }
        if (ready < 0 && errno != EINTR) {
            net::throw_errno("poll");
        }
        // A signal (EINTR) or poll's own rounding: wait for what is left.
    }
}

}  // namespace

Datagram receive_datagram(int fd, std::size_t capacity) {
    Datagram datagram;
    datagram.bytes.resize(capacity);
    for (;;) {
        datagram.from.length = sizeof datagram.from.storage;
        // MSG_TRUNC, Linux's input flag (recv(2)): return the datagram's real
        // length, even when only `capacity` bytes of it fit (and the rest is
        // gone for good). Elsewhere, recvmsg's msg_flags say only that it was cut.
        const ssize_t n = ::recvfrom(fd, datagram.bytes.data(), capacity, MSG_TRUNC, datagram.from.get(),
                                     &datagram.from.length);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            net::throw_errno("recvfrom");
        }
        datagram.size = static_cast<std::size_t>(n);
        datagram.bytes.resize(std::min(datagram.size, capacity));
        return datagram;
    }
}

Echo echo_one(int fd, std::size_t max_size) {
    const Datagram datagram = receive_datagram(fd, max_size);
    Echo echo{datagram.from, datagram.size, false};
    if (datagram.truncated()) {
        return echo;  // only a piece arrived: echoing it would pass it off as the whole
    }
    // No connection to answer on: the address recvfrom reported is the way back.
    // A UDP send is all or nothing, so there is no partial send to loop over.
    if (::sendto(fd, datagram.bytes.data(), datagram.bytes.size(), 0, datagram.from.get(), datagram.from.length) < 0) {
        const int err = errno;  // before formatting: allocating may change errno
        net::throw_errno(fmt::format("sendto {}", net::to_string(datagram.from)), err);
    }
    echo.echoed = true;
    return echo;
}

std::string request_with_retry(int fd, const net::Address& server, std::uint32_t id, std::string_view payload,
                               const Retry& retry) {
    if (retry.attempts < 1) {
        throw std::invalid_argument(fmt::format("request_with_retry: attempts must be at least 1, got {}", retry.attempts));
    }
    if (retry.first_timeout.count() <= 0) {
        throw std::invalid_argument(fmt::format("request_with_retry: first_timeout must be positive, got {} ms",
                                                retry.first_timeout.count()));
    }
    const std::string where = net::to_string(server);

    // connect() on a UDP socket sends nothing. It fixes the peer, so the
    // kernel drops datagrams from anyone else, and an ICMP "port unreachable"
    // comes back as ECONNREFUSED instead of being ignored.
    if (::connect(fd, server.get(), server.length) < 0) {
        const int err = errno;
        net::throw_errno(fmt::format("connect {}", where), err);
    }

    const std::string prefix = fmt::format("{} ", id);
    const std::string request = prefix + std::string(payload);
    std::string reply(max_datagram, '\0');
    auto timeout = retry.first_timeout;
    for (int attempt = 1; attempt <= retry.attempts; ++attempt, timeout *= 2) {
        if (::send(fd, request.data(), request.size(), 0) < 0) {
            const int err = errno;
            net::throw_errno(fmt::format("send to {}", where), err);  // ECONNREFUSED, EMSGSIZE ...
        }
        // Fixed once per attempt: a stale datagram that we skip must not buy
        // the server more time.
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (wait_readable(fd, deadline)) {
            const ssize_t n = ::recv(fd, reply.data(), reply.size(), 0);
            if (n < 0) {
                const int err = errno;
                if (err == EINTR) {
                    continue;
                }
                net::throw_errno(fmt::format("recv from {}", where), err);  // ECONNREFUSED: nothing listens
            }
            const std::string_view got(reply.data(), static_cast<std::size_t>(n));
            if (got.starts_with(prefix)) {
                return std::string(got.substr(prefix.size()));
            }
            // Another id: a late or duplicated reply to an earlier request. Skip it.
        }
    }
    throw std::system_error(std::make_error_code(std::errc::timed_out),
                            fmt::format("no reply from {} after {} attempts", where, retry.attempts));
}

}  // namespace lesson06
