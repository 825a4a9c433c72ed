// time-client — asks a time server for the time, and never waits for ever.
//
//     time-client --port 3700                      RFC 868 over TCP (what rdate does)
//     time-client --port 3700 --udp                RFC 868 over UDP (rdate -u)
//     time-client --port 1300 --service daytime    RFC 867: prints the line
//
// Every wait is bounded by --timeout (2000 ms): connect() by a deadline, each
// recv() by SO_RCVTIMEO set to the time that is left.
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/tcp.hpp"
#include "time-service.hpp"

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// recv() that gives up at `deadline`: SO_RCVTIMEO re-armed with the time left.
// (A zero timeval would mean "no timeout", so time that has run out is
// checked first.) Returns 0 at EOF.
ssize_t recv_before(int sock, char* buffer, std::size_t size, steady_clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::ceil<milliseconds>(deadline - steady_clock::now()).count();
        if (left <= 0) {
            net::throw_errno("recv: no answer in time", ETIMEDOUT);
        }
        const timeval limit{static_cast<time_t>(left / 1000), static_cast<suseconds_t>(left % 1000 * 1000)};
        net::check(::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), "setsockopt SO_RCVTIMEO");
        const ssize_t n = ::recv(sock, buffer, size, 0);
        if (n >= 0) {
            return n;
        }
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
            net::throw_errno("recv");
        }
    }
}

// The whole TCP answer: daytime until the server closes, time 4 bytes.
std::string ask_tcp(const net::Args& args, bool daytime, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    const net::Fd sock = net::connect_tcp(args.host(), args.port(), timeout);
    net::log::step("connect({}:{})", args.host(), args.port());
    std::string reply;
    char buffer[512];
    while (daytime || reply.size() < 4) {
        const std::size_t room = daytime ? sizeof buffer : 4 - reply.size();
        const ssize_t n = recv_before(sock.get(), buffer, room, deadline);
        if (n == 0) {
            break;
        }
        net::log::step("recv() = {} bytes", n);
        reply.append(buffer, static_cast<std::size_t>(n));
    }
    return reply;  // the Fd closes, whether or not the server has closed already
}

std::string ask_udp(const net::Args& args, bool daytime, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    const auto endpoints = net::resolve(args.host(), std::to_string(args.port()), net::udp_hints(AI_NUMERICSERV));
    const net::Endpoint& server = endpoints.front();
    const net::Fd sock{net::check(::socket(server.family, server.socktype | SOCK_CLOEXEC, server.protocol), "socket")};
    // connect() on UDP: only the server's datagrams get through, and an ICMP
    // "port unreachable" comes back as ECONNREFUSED instead of silence.
    net::check(::connect(sock.get(), server.address.get(), server.address.length), "connect");
    const std::string question = daytime ? "\n" : "";  // RFC 868: an empty datagram
    net::check(::send(sock.get(), question.data(), question.size(), 0), "send");
    net::log::step("send() = {} bytes to {}", question.size(), net::to_string(server.address));
    char buffer[512];
    const ssize_t n = recv_before(sock.get(), buffer, sizeof buffer, deadline);
    net::log::step("recv() = {} bytes", n);
    return {buffer, static_cast<std::size_t>(n)};
}

int run(const net::Args& args) {
    if (args.port() == 0) {
        throw net::UsageError("--port is required: the port time-server printed");
    }
    const bool daytime = time_service::service_option(args) == time_service::Service::daytime;
    const milliseconds timeout(args.integer("--timeout", 1, 3'600'000));

    const std::string reply = args.flag("--udp") ? ask_udp(args, daytime, timeout) : ask_tcp(args, daytime, timeout);
    if (daytime) {
        fmt::print("{}", reply);
        return 0;
    }
    if (reply.size() != 4) {
        net::log::error("an RFC 868 answer is 4 bytes; got {}", reply.size());
        return 1;
    }
    std::array<std::uint8_t, 4> bytes{};
    reply.copy(reinterpret_cast<char*>(bytes.data()), bytes.size());
    const std::time_t when = time_service::time_from_bytes(bytes);
    std::tm utc{};
    ::gmtime_r(&when, &utc);
    net::log::info("{} s since 1900 = {} s since 1970", static_cast<long long>(when) + time_service::seconds_1900_to_1970,
                   static_cast<long long>(when));
    fmt::print("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC\n", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
               utc.tm_hour, utc.tm_min, utc.tm_sec);
    net::log::info("this machine's clock differs by {} s", static_cast<long long>(std::time(nullptr) - when));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "time-client",
        .summary = "Asks an RFC 868 (time) or RFC 867 (daytime) server for the time, over TCP or UDP,\n"
                   "and gives up after --timeout instead of waiting for ever.",
        .options = {{"--service", "NAME", "time (RFC 868) or daytime (RFC 867)", "time"},
                    {"--udp", "", "ask over UDP instead of TCP"},
                    {"--timeout", "MS", "give up after this long", "2000"}},
    };
    return net::run_main(argc, argv, usage, run);
}
