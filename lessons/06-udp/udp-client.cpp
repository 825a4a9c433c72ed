// udp-client — a request over UDP, with a timeout, retries and backoff.
//
//     udp-client --port 5000 "hello, datagrams"
//
// socket → connect (sends nothing: it fixes the peer) → send "<id> MESSAGE" →
// poll for the reply with a deadline → on timeout send it again and wait twice
// as long → after the last attempt, a clear error. Replies with another id
// are stale (a late or duplicated datagram) and are skipped.
// --no-timeout shows the naive client instead: one send, then a recv() that
// waits forever if that datagram or its reply was lost.
#include <cerrno>
#include <chrono>
#include <poll.h>
#include <random>
#include <string>
#include <sys/socket.h>
#include <system_error>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"

namespace {

// Waits up to `timeout` for something to read; false when the time is up.
bool wait_readable(int fd, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    pollfd waiting{fd, POLLIN, 0};
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        const int ready = ::poll(&waiting, 1, static_cast<int>(left.count()));
        if (ready > 0) {
            return true;
        }
        if (ready < 0 && errno != EINTR) {
            net::throw_errno("poll");
        }
        if (net::stop_requested()) {
            throw std::runtime_error("interrupted");
        }
    }
}

int run(const net::Args& args) {
    if (args.port() == 0) {
        throw net::UsageError("--port is required: the port the UDP echo server printed");
    }
    net::stop_on_signals();
    const std::string message = args.positional().empty() ? "hello, UDP" : args.positional()[0];
    const std::chrono::milliseconds first_timeout{args.integer("--timeout", 1, 60'000)};
    const auto attempts = static_cast<int>(args.integer("--attempts", 1, 20));

    const auto endpoints = net::resolve(args.host(), std::to_string(args.port()), net::udp_hints());
    const net::Endpoint& server = endpoints.front();
    const std::string where = net::to_string(server.address);

    net::Fd sock{net::check(::socket(server.family, server.socktype | SOCK_CLOEXEC, server.protocol), "socket")};
    net::log::step("socket(SOCK_DGRAM) = fd {}", sock.get());
    // On UDP, connect() sends nothing. It fixes the peer: send() needs no
    // address, the kernel drops datagrams from anyone else, and an ICMP "port
    // unreachable" comes back to us as ECONNREFUSED.
    if (::connect(sock.get(), server.address.get(), server.address.length) < 0) {
        const int error = errno;  // before anything else can overwrite it
        net::throw_errno(fmt::format("connect {}", where), error);
    }
    net::log::step("connect({}) from {}: no packet sent, the peer is just remembered", where,
                   net::to_string(net::local_address(sock.get())));

    // The id tells our reply from a stale one. Random, as DNS does it.
    std::random_device random;
    const auto id = std::uniform_int_distribution<std::uint32_t>(1, 99'999)(random);
    const std::string prefix = fmt::format("{} ", id);
    const std::string request = prefix + message;

    std::string reply(65536, '\0');  // fits any UDP datagram
    auto timeout = first_timeout;
    for (int attempt = 1; attempt <= attempts; ++attempt, timeout *= 2) {
        if (::send(sock.get(), request.data(), request.size(), 0) < 0) {
            const int error = errno;
            net::throw_errno(fmt::format("send to {}", where), error);
        }
        if (args.flag("--no-timeout")) {
            net::log::step("send() = {}: \"{}\"; now recv() with no timeout...", net::plural(request.size(), "byte"),
                           request);
        } else {
            net::log::step("send() = {}: \"{}\"  (attempt {} of {}, waiting up to {} ms)",
                           net::plural(request.size(), "byte"), request, attempt, attempts, timeout.count());
        }
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (!args.flag("--no-timeout")) {
                const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
                if (!wait_readable(sock.get(), left)) {
                    net::log::warn("no reply within {} ms: the request or its reply was lost", timeout.count());
                    break;
                }
            }
            const ssize_t n = ::recv(sock.get(), reply.data(), reply.size(), 0);
            if (n < 0) {
                const int error = errno;  // the warning below may overwrite errno: keep the recv's
                if (error == EINTR && !net::stop_requested()) {
                    continue;
                }
                if (error == EINTR) {
                    throw std::runtime_error("interrupted: no reply came, and nothing would have ended the wait");
                }
                if (error == ECONNREFUSED) {
                    net::log::warn("ICMP port unreachable: nothing listens at {}", where);
                }
                net::throw_errno(fmt::format("recv from {}", where), error);
            }
            const std::string_view got(reply.data(), static_cast<std::size_t>(n));
            if (!got.starts_with(prefix)) {
                net::log::warn("recv() = {} \"{}\": not id {}, a stale reply; skipped", net::plural(n, "byte"), got, id);
                continue;
            }
            net::log::step("recv() = {}: \"{}\"", net::plural(n, "byte"), got);
            net::log::good("answer: {}", got.substr(prefix.size()));
            return 0;
        }
    }
    throw std::system_error(std::make_error_code(std::errc::timed_out),
                            fmt::format("no reply from {} after {} attempts", where, attempts));
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "udp-client",
        .summary = "Sends \"<id> MESSAGE\" to a UDP server and waits for the reply with that id,\n"
                   "retrying with a doubled timeout each time nothing comes back.",
        .positional = "[MESSAGE]",
        .max_positional = 1,
        .options = {{"--timeout", "MS", "how long the first attempt waits for the reply", "250"},
                    {"--attempts", "N", "how many times to send the request", "4"},
                    {"--no-timeout", "", "the naive client: send once, wait in recv() forever"}},
    };
    return net::run_main(argc, argv, usage, run);
}
