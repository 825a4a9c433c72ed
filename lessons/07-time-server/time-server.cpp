// time-server — RFC 867 daytime and RFC 868 time, over TCP or UDP, with a
// timeout on every client.
//
//     time-server --port 3700                      then:  rdate -p -o 3700 127.0.0.1
//     time-server --port 1300 --service daytime    then:  nc -d 127.0.0.1 1300
//     time-server --port 3700 --udp                then:  rdate -p -u -o 3700 127.0.0.1
//
// daytime sends a line and closes. time sends 4 bytes, then waits for the
// client to close first (RFC 868's order), at most --timeout ms. How it waits:
//   --timeout-style poll     one deadline for the whole wait (the default)
//   --timeout-style sockopt  SO_RCVTIMEO, Python's settimeout: per recv call
//   --timeout 0              for ever: one silent client freezes the server
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"
#include "net/tcp.hpp"

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// 1900-01-01 to 1970-01-01: 70 years of 365 days, plus 17 leap days.
constexpr long long seconds_1900_to_1970 = 2'208'988'800;

struct Settings {
    bool daytime = false;
    milliseconds timeout{0};
    bool sockopt_style = false;
};

// RFC 867: any line of text will do. This one is UTC in the RFC's example style.
std::string daytime_line(std::time_t now) {
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char text[80];
    const std::size_t length = std::strftime(text, sizeof text, "%A, %B %d, %Y %H:%M:%S-UTC\r\n", &utc);
    return {text, length};
}

// RFC 868: seconds since 1900 in 32 bits, most significant byte first.
std::string time_bytes(std::time_t now) {
    const auto since_1900 = static_cast<std::uint32_t>(now + seconds_1900_to_1970);  // wraps in 2036
    return {static_cast<char>(since_1900 >> 24), static_cast<char>(since_1900 >> 16),
            static_cast<char>(since_1900 >> 8), static_cast<char>(since_1900)};
}

std::string answer(const Settings& settings) {
    const std::time_t now = std::time(nullptr);
    if (settings.daytime) {
        const std::string line = daytime_line(now);
        net::log::info("the daytime: {}", line.substr(0, line.size() - 2));
        return line;
    }
    const std::string bytes = time_bytes(now);
    net::log::info("the time: {} s since 1900 = {:02x} {:02x} {:02x} {:02x} (big-endian)",
                   now + seconds_1900_to_1970, static_cast<unsigned char>(bytes[0]),
                   static_cast<unsigned char>(bytes[1]), static_cast<unsigned char>(bytes[2]),
                   static_cast<unsigned char>(bytes[3]));
    return bytes;
}

// Reads and discards until EOF, with no limit: what a server without a
// timeout does. Returns false if a stop signal interrupted it.
bool wait_for_ever(int fd) {
    char discard[512];
    for (;;) {
        const ssize_t n = ::recv(fd, discard, sizeof discard, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            net::log::step("recv() = 0: the client closed");
            return true;
        }
        if (n < 0 && errno != EINTR) {
            net::throw_errno("recv");
        }
        if (n < 0 && net::stop_requested()) {
            return false;
        }
        if (n > 0) {
            net::log::step("recv() = {} byte{}, thrown away", n, n == 1 ? "" : "s");
        }
    }
}

// Python's settimeout: SO_RCVTIMEO makes each recv give up with EAGAIN after
// `timeout`. Each call: a client that sends a byte now and then never times out.
void wait_with_sockopt(int fd, milliseconds timeout) {
    const timeval limit{static_cast<time_t>(timeout.count() / 1000),
                        static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    net::check(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), "setsockopt SO_RCVTIMEO");
    net::log::step("setsockopt(SO_RCVTIMEO, {} ms)", timeout.count());
    char discard[512];
    for (;;) {
        const ssize_t n = ::recv(fd, discard, sizeof discard, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            net::log::step("recv() = 0: the client closed");
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
            net::log::step("recv() = {} byte{}, thrown away (and SO_RCVTIMEO starts again)", n, n == 1 ? "" : "s");
        }
    }
}

// One deadline for the whole wait: poll() gets only the time that is left.
void wait_with_poll(int fd, milliseconds timeout) {
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
        if (ready < 0) {
            if (errno == EINTR && !net::stop_requested()) {
                continue;
            }
            if (errno == EINTR) {
                return;
            }
            net::throw_errno("poll");
        }
        const ssize_t n = ::recv(fd, discard, sizeof discard, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            net::log::step("recv() = 0: the client closed, {} ms before the deadline", left());
            return;
        }
        if (n < 0 && errno != EINTR) {
            net::throw_errno("recv");
        }
        if (n > 0) {
            net::log::step("recv() = {} byte{}, thrown away ({} ms left)", n, n == 1 ? "" : "s", left());
        }
    }
}

void serve_client(int client, const Settings& settings) {
    const std::string reply = answer(settings);
    if (::send(client, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) {
        net::throw_errno("send");
    }
    net::log::step("send() = {} bytes", reply.size());
    if (settings.daytime) {
        return;  // RFC 867: the server closes first
    }
    // RFC 868: the client closes first. How long will we wait for it?
    if (settings.timeout.count() == 0) {
        net::log::step("waiting for the client to close, for as long as it takes");
        (void)wait_for_ever(client);
    } else if (settings.sockopt_style) {
        wait_with_sockopt(client, settings.timeout);
    } else {
        wait_with_poll(client, settings.timeout);
    }
}

void serve_tcp(const net::Args& args, const Settings& settings) {
    const net::Fd listener = net::listen_tcp(args.host(), args.port());
    const auto port = net::local_port(listener.get());
    net::log::info("listening on TCP {}  (try: {})", net::to_string(net::local_address(listener.get())),
                   settings.daytime ? fmt::format("nc -d {} {}", args.host(), port)
                                    : fmt::format("rdate -p -o {} {}", port, args.host()));
    while (!net::stop_requested()) {
        net::Address peer;
        peer.length = sizeof peer.storage;
        const int fd = ::accept4(listener.get(), peer.get(), &peer.length, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            net::throw_errno("accept");
        }
        const net::Fd client{fd};
        const std::string who = net::to_string(peer);
        net::log::step("accept() = fd {} from {}", client.get(), who);
        try {
            serve_client(client.get(), settings);
        } catch (const std::system_error& error) {
            net::log::warn("client {}: {}", who, error.what());  // its trouble, not the server's
        }
        net::log::step("close(fd {})", client.get());
    }
}

void serve_udp(const net::Args& args, const Settings& settings) {
    const auto endpoints =
        net::resolve(args.host(), std::to_string(args.port()), net::udp_hints(AI_PASSIVE | AI_NUMERICSERV));
    const net::Endpoint& endpoint = endpoints.front();
    const net::Fd sock{net::check(::socket(endpoint.family, endpoint.socktype, endpoint.protocol), "socket")};
    net::check(::bind(sock.get(), endpoint.address.get(), endpoint.address.length), "bind");
    const auto port = net::local_port(sock.get());
    net::log::info("listening on UDP {}  (try: {})", net::to_string(net::local_address(sock.get())),
                   settings.daytime ? fmt::format("printf '\\n' | nc -u -W 1 {} {}", args.host(), port)
                                    : fmt::format("rdate -p -u -o {} {}", port, args.host()));
    char request[512];
    while (!net::stop_requested()) {
        net::Address peer;
        peer.length = sizeof peer.storage;
        const ssize_t n = ::recvfrom(sock.get(), request, sizeof request, 0, peer.get(), &peer.length);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            net::throw_errno("recvfrom");
        }
        net::log::step("recvfrom() = {} bytes from {}", n, net::to_string(peer));
        const std::string reply = answer(settings);
        if (::sendto(sock.get(), reply.data(), reply.size(), 0, peer.get(), peer.length) < 0) {
            net::log::warn("sendto {}: {}", net::to_string(peer), std::strerror(errno));
            continue;
        }
        net::log::step("sendto() = {} bytes to {}", reply.size(), net::to_string(peer));
    }
}

int run(const net::Args& args) {
    Settings settings;
    const std::string service = args.value("--service");
    if (service != "time" && service != "daytime") {
        throw net::UsageError(fmt::format("--service must be time or daytime, got '{}'", service));
    }
    settings.daytime = service == "daytime";
    settings.timeout = milliseconds(args.integer("--timeout", 0, 3'600'000));
    const std::string style = args.value("--timeout-style");
    if (style != "poll" && style != "sockopt") {
        throw net::UsageError(fmt::format("--timeout-style must be poll or sockopt, got '{}'", style));
    }
    settings.sockopt_style = style == "sockopt";

    net::stop_on_signals();
    if (args.flag("--udp")) {
        serve_udp(args, settings);
    } else {
        serve_tcp(args, settings);
    }
    net::log::info("stopping: signal received");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "time-server",
        .summary = "Tells the time: RFC 868 (4 bytes, seconds since 1900) or RFC 867 (a line of text),\n"
                   "over TCP or UDP, one client at a time, never waiting on a client for ever.",
        .options = {{"--service", "NAME", "time (RFC 868) or daytime (RFC 867)", "time"},
                    {"--udp", "", "serve over UDP instead of TCP"},
                    {"--timeout", "MS", "how long a time client may take to close; 0: for ever", "5000"},
                    {"--timeout-style", "STYLE", "poll (one deadline) or sockopt (SO_RCVTIMEO, per recv)", "poll"}},
    };
    return net::run_main(argc, argv, usage, run);
}
