#pragma once
// The peers test 07 plays that the shared harness has no use for elsewhere: a
// scripted UDP time server for the client, a TCP listener whose accept queue
// is full, and Unix-domain datagram sockets, whose replies the kernel can
// refuse for one peer.

#include <doctest/doctest.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <cstdint>
#include <functional>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <string>
#include <string_view>
#include <system_error>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

#include <fmt/core.h>

#include "harness.hpp"
#include "net/address.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/tcp.hpp"
#include "timeserver.hpp"
#include "udp_peer.hpp"

namespace test07 {

using namespace std::chrono_literals;
using harness::milliseconds;

// "@workbook-07-<pid>-<name>" in the abstract namespace: unique per process.
inline net::Address unix_address(std::string_view name) {
    net::Address address;
    auto& unix_name = reinterpret_cast<sockaddr_un&>(address.storage);
    unix_name.sun_family = AF_UNIX;
    const std::string text = fmt::format("workbook-07-{}-{}", ::getpid(), name);
    text.copy(unix_name.sun_path + 1, sizeof unix_name.sun_path - 1);  // sun_path[0] = '\0': abstract
    address.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + text.size());
    return address;
}

// A Unix-domain datagram socket, bound to an abstract name (no file to clean
// up) if `name` is given, else unnamed: its datagrams arrive from an empty
// address (length 0) that nobody can send a reply to.
inline net::Fd unix_datagram_socket(std::optional<std::string_view> name = std::nullopt) {
    net::Fd sock{net::check(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket AF_UNIX")};
    if (name) {
        const net::Address address = unix_address(*name);
        net::check(::bind(sock.get(), address.get(), address.length), "bind AF_UNIX");
    }
    return sock;
}

// A UDP server the test scripts for ask_time: answers the first datagram with
// respond(request), then returns. request() is what the client asked with.
class FakeUdpTimeServer {
public:
    explicit FakeUdpTimeServer(std::function<std::string(const std::string& request)> respond)
        : server_([this, respond = std::move(respond)](int fd) {
              harness::wait_readable(fd, harness::Deadline(3000ms), "the fake UDP server waiting for a question");
              char buffer[2048];
              net::Address from;
              from.length = sizeof from.storage;
              const ssize_t n = net::check(
                  ::recvfrom(fd, buffer, sizeof buffer, MSG_DONTWAIT, from.get(), &from.length), "fake's recvfrom");
              request_ = std::string(buffer, static_cast<std::size_t>(n));
              const std::string reply = respond(request_);
              net::check(::sendto(fd, reply.data(), reply.size(), 0, from.get(), from.length), "fake's sendto");
          }) {}

    [[nodiscard]] std::uint16_t port() const {
        return ntohs(reinterpret_cast<const sockaddr_in&>(server_.address().storage).sin_port);
    }
    // What the client asked with; call it after the client returned.
    [[nodiscard]] std::string request() {
        server_.join(3000ms);
        return request_;
    }

private:
    std::string request_ = "(no datagram arrived)";
    harness::UdpServer server_;
};

// Runs ask (an ask_time call) with `budget` to return, and expects it to give
// up with ETIMEDOUT between `earliest` and `latest` after it began; returning
// a time fails with `if_it_returns`. `unblock` frees an ask_time stuck past
// its budget (see harness::within).
inline void expect_timeout(std::string_view step, milliseconds budget, milliseconds earliest, milliseconds latest,
                           const std::function<lesson07::Clock::time_point()>& ask, std::string_view if_it_returns,
                           const std::function<void()>& unblock = {}) {
    const auto started = std::chrono::steady_clock::now();
    try {
        (void)harness::within(budget, step, ask, unblock);
        FAIL(if_it_returns);
    } catch (const std::system_error& error) {
        const auto waited = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
        INFO("what(): " << std::string(error.what()) << "; gave up after " << waited.count() << " ms");
        CHECK(error.code().value() == ETIMEDOUT);
        CHECK(waited >= earliest);
        CHECK(waited <= latest);
    }
}

// Waits up to `timeout` for the server to close the connection (EOF, or a
// reset when it closed with our bytes unread). False if it is still open.
inline bool server_closed_within(harness::Client& client, milliseconds timeout) {
    const harness::Deadline deadline(timeout);
    try {
        while (!deadline.expired()) {
            if (client.recv_some(deadline.remaining()).empty()) {
                return true;
            }
        }
    } catch (const harness::Timeout&) {
        return false;
    } catch (const std::system_error& error) {
        if (error.code().value() == ECONNRESET) {
            return true;
        }
        throw;
    }
    return false;
}

// RFC 868's prose has the server close right after its 4 bytes ("returns a
// 32-bit time value and closes the connection"); its dialogue, and this
// workbook's contract, have it wait for the client to close first, up to its
// timeout. Either is a correct server, so a test that watches the close takes
// both: a close within closes_at_once of the 4 bytes, or one after at least
// half the timeout and no more than 600 ms past it. A server that closes
// anywhere in between waited, but not as long as it was told to.
inline constexpr milliseconds closes_at_once{100};

inline void check_close_time(milliseconds waited, milliseconds timeout) {
    if (waited <= closes_at_once) {
        MESSAGE("the server closed first, right after its 4 bytes (RFC 868's prose): accepted");
        return;
    }
    INFO("the server closed " << waited.count() << " ms after its 4 bytes: it waited for the client to close first"
         << " (RFC 868's dialogue), so it must wait its whole timeout of " << timeout.count() << " ms");
    CHECK(waited >= timeout / 2);
    CHECK(waited <= timeout + 600ms);
}

// A listener (backlog 0) that never accepts, with its accept queue filled:
// connections were made until one did not complete, so the kernel is now
// dropping every SYN sent to port() without a word (verified on Linux 6.x:
// backlog 0 queues one connection; the next SYN, and its retries, vanish).
class FullListener {
public:
    FullListener() : listener_(net::listen_tcp("127.0.0.1", 0, 0)), port_(net::local_port(listener_.get())) {
        const net::Address to = net::local_address(listener_.get());
        for (int attempt = 0; attempt < 16; ++attempt) {
            net::Fd sock{net::check(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket")};
            if (::connect(sock.get(), to.get(), to.length) < 0 && errno != EINPROGRESS) {
                net::throw_errno("test's connect to the listener it is filling");
            }
            pollfd connecting{sock.get(), POLLOUT, 0};
            const bool completed = net::check(::poll(&connecting, 1, 300), "poll") == 1;
            queued_.push_back(std::move(sock));
            if (!completed) {
                return;  // the queue is full: this SYN was dropped
            }
        }
        FAIL("16 connections completed against a listener with backlog 0: the accept queue never filled");
    }

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    // Frees a client stuck in a blocking connect(): its next SYN gets a reset.
    void close() { listener_.reset(); }

private:
    net::Fd listener_;
    std::uint16_t port_;
    std::vector<net::Fd> queued_;
};

}  // namespace test07
