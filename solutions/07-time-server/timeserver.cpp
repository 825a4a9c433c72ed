// Reference solution for exercise 07 — RFC 867/868 time over TCP and UDP,
// with timeouts: poll() with a deadline on the server's side, SO_RCVTIMEO
// (Python's settimeout) on the client's.
#include "timeserver.hpp"

#include <cerrno>
#include <ctime>
#include <poll.h>
#include <stdexcept>
#include <string_view>
#include <sys/socket.h>
#include <sys/time.h>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/error.hpp"
#include "net/stream.hpp"
#include "net/tcp.hpp"

namespace lesson07 {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// 1900-01-01 to 1970-01-01: 70 years of 365 days, plus 17 leap days.
constexpr std::int64_t seconds_1900_to_1970 = (70 * 365 + 17) * 86'400LL;
static_assert(seconds_1900_to_1970 == 2'208'988'800);

std::string as_text(const std::array<std::uint8_t, 4>& bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::string answer(Service service, Clock::time_point now) {
    return service == Service::daytime ? daytime_line(now) : as_text(time_bytes(now));
}

// Milliseconds left until `deadline`, rounded up so that a wait never ends a
// fraction early; 0 once it has passed.
int left_until(steady_clock::time_point deadline) {
    const auto left = std::chrono::ceil<milliseconds>(deadline - steady_clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// RFC 868's dialogue: the client closes, then the server (the RFC's prose has
// the server close at once; waiting keeps TIME_WAIT on the client's side).
// One deadline for the whole wait, so a client dripping a byte now and then
// cannot stretch it.
void wait_for_close(int fd, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    char discard[512];
    for (;;) {
        pollfd waiting{fd, POLLIN, 0};
        const int ready = ::poll(&waiting, 1, left_until(deadline));
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            net::throw_errno("poll");
        }
        if (ready == 0) {
            return;  // time is up: drop the client
        }
        const ssize_t n = ::recv(fd, discard, sizeof discard, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            return;  // the client has gone, as it should
        }
        if (n < 0 && errno != EINTR) {
            net::throw_errno("recv");
        }
        // Anything the client sends is thrown away (RFC 867/868 say so).
    }
}

// Python's sock.settimeout(t) in C++: recv gives up with EAGAIN after t.
// A zero timeval means "wait for ever", so the caller never passes 0 ms.
void set_receive_timeout(int fd, int ms) {
    const timeval limit{ms / 1000, (ms % 1000) * 1000};
    net::check(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), "setsockopt SO_RCVTIMEO");
}

// One recv that gives up at `deadline` with ETIMEDOUT.
ssize_t recv_before(int fd, void* buffer, std::size_t size, steady_clock::time_point deadline, std::string_view what) {
    for (;;) {
        const int left = left_until(deadline);
        if (left == 0) {
            net::throw_errno(fmt::format("{}: no answer in time", what), ETIMEDOUT);
        }
        set_receive_timeout(fd, left);  // re-armed with what is left, each time
        const ssize_t n = ::recv(fd, buffer, size, 0);
        if (n >= 0) {
            return n;
        }
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
            net::throw_errno(what);
        }
    }
}

Clock::time_point ask_over_tcp(const std::string& host, std::uint16_t port, milliseconds timeout,
                               steady_clock::time_point deadline) {
    // connect_tcp has its own deadline: a full accept queue drops SYNs silently.
    const net::Fd sock = net::connect_tcp(host, port, timeout);
    std::array<std::uint8_t, 4> bytes{};
    std::size_t received = 0;
    while (received < bytes.size()) {
        const ssize_t n = recv_before(sock.get(), bytes.data() + received, bytes.size() - received, deadline,
                                      fmt::format("recv from {}:{}", host, port));
        if (n == 0) {
            throw std::runtime_error(
                fmt::format("the time server closed after {} of the 4 bytes of RFC 868", received));
        }
        received += static_cast<std::size_t>(n);
    }
    return time_from_bytes(bytes);
}

Clock::time_point ask_over_udp(const std::string& host, std::uint16_t port, steady_clock::time_point deadline) {
    const auto endpoints = net::resolve(host, std::to_string(port), net::udp_hints(AI_NUMERICSERV));
    const net::Endpoint& server = endpoints.front();
    const net::Fd sock{net::check(::socket(server.family, server.socktype | SOCK_CLOEXEC, server.protocol), "socket")};
    // A connected UDP socket hears only from the server, and learns of an
    // ICMP "port unreachable" as ECONNREFUSED.
    if (::connect(sock.get(), server.address.get(), server.address.length) < 0) {
        const int err = errno;  // before formatting allocates
        net::throw_errno(fmt::format("connect {}", net::to_string(server.address)), err);
    }
    net::check(::send(sock.get(), nullptr, 0, 0), "send");  // RFC 868: an empty datagram asks
    std::array<std::uint8_t, 16> reply{};  // room for more than 4, to catch a wrong-sized reply
    const ssize_t n = recv_before(sock.get(), reply.data(), reply.size(), deadline,
                                  fmt::format("recv from {}", net::to_string(server.address)));
    if (n != 4) {
        throw std::runtime_error(fmt::format("an RFC 868 reply is 4 bytes; this one was {}", n));
    }
    return time_from_bytes(std::span<const std::uint8_t, 4>(reply.data(), 4));
}

}  // namespace

std::string daytime_line(Clock::time_point now) {
    const std::time_t seconds = std::chrono::floor<std::chrono::seconds>(now).time_since_epoch().count();
    std::tm utc{};
    if (::gmtime_r(&seconds, &utc) == nullptr) {
        throw std::runtime_error("gmtime_r: the time is out of range");
    }
    char text[80];
    const std::size_t length = std::strftime(text, sizeof text, "%A, %B %d, %Y %H:%M:%S-UTC\r\n", &utc);
    return {text, length};
}

std::array<std::uint8_t, 4> time_bytes(Clock::time_point now) {
    const std::int64_t unix_seconds = std::chrono::floor<std::chrono::seconds>(now).time_since_epoch().count();
    // Unsigned arithmetic wraps modulo 2^32: the 2036 rollover, as specified.
    const auto since_1900 = static_cast<std::uint32_t>(static_cast<std::uint64_t>(unix_seconds + seconds_1900_to_1970));
    return {static_cast<std::uint8_t>(since_1900 >> 24), static_cast<std::uint8_t>(since_1900 >> 16),
            static_cast<std::uint8_t>(since_1900 >> 8), static_cast<std::uint8_t>(since_1900)};
}

Clock::time_point time_from_bytes(std::span<const std::uint8_t, 4> bytes) {
    const std::uint32_t value = (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
                                (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
    std::int64_t since_1900 = value;
    if (value < 0x8000'0000u) {
        since_1900 += std::int64_t{1} << 32;  // after the 2036 wrap (SNTP's rule, RFC 4330 section 3)
    }
    return Clock::time_point{std::chrono::seconds{since_1900 - seconds_1900_to_1970}};
}

void serve_tcp_client(net::Fd client, Service service, milliseconds timeout) {
    net::send_all(client.get(), answer(service, Clock::now()));
    if (service == Service::time) {
        wait_for_close(client.get(), timeout);
    }
    // daytime: RFC 867 has the server close right away, which the Fd does now.
}

std::size_t serve_udp(int fd, Service service, const std::atomic<bool>& stop) {
    std::size_t answered = 0;
    char request[512];
    while (!stop.load()) {
        sockaddr_storage peer{};
        socklen_t peer_length = sizeof peer;  // in and out: reset for every call
        const ssize_t n =
            ::recvfrom(fd, request, sizeof request, 0, reinterpret_cast<sockaddr*>(&peer), &peer_length);
        if (n < 0) {
            if (errno == EINTR) {
                continue;  // the loop condition decides
            }
            net::throw_errno("recvfrom");
        }
        const std::string reply = answer(service, Clock::now());
        ssize_t sent = -1;
        do {
            sent = ::sendto(fd, reply.data(), reply.size(), 0, reinterpret_cast<const sockaddr*>(&peer),
                            peer_length);
        } while (sent < 0 && errno == EINTR);
        if (sent < 0) {
            continue;  // this peer cannot be answered (EACCES, EINVAL, ENOBUFS...): skip it, serve the next
        }
        ++answered;
    }
    return answered;
}

Clock::time_point ask_time(const std::string& host, std::uint16_t port, Transport transport, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    return transport == Transport::tcp ? ask_over_tcp(host, port, timeout, deadline)
                                       : ask_over_udp(host, port, deadline);
}

}  // namespace lesson07
