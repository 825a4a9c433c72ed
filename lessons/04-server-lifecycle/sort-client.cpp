// sort-client — sends lines to sort-server, says "that is all" with
// shutdown(SHUT_WR), and prints the sorted reply.
//
//     sort-client --port 5000 pear apple fig           the lines as arguments
//     printf 'pear\napple\n' | sort-client --port 5000  or from stdin
//
// Three flags misbehave on purpose (chapter 04):
//   --no-half-close        never shutdown(SHUT_WR): both sides wait for the other
//   --generate N           send N generated lines (a reply of N x 17 bytes)
//   --hang-up-after BYTES  read that much of the reply, then close with a reset
#include <algorithm>
#include <cerrno>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/stream.hpp"

namespace {

std::string request_from(const net::Args& args) {
    if (const auto count = args.integer("--generate", 0, 10'000'000); count > 0) {
        std::mt19937 random(42);
        std::string lines;
        for (long long i = 0; i < count; ++i) {
            lines += fmt::format("line {:08x}-{:02}\n", random(), i % 100);
        }
        return lines;
    }
    if (!args.positional().empty()) {
        std::string lines;
        for (const std::string& line : args.positional()) {
            lines += line + '\n';
        }
        return lines;
    }
    return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
}

bool lines_sorted(std::string_view text) {
    std::string_view previous;
    while (!text.empty()) {
        const auto end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        if (line < previous) {
            return false;
        }
        previous = line;
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    }
    return true;
}

int run(const net::Args& args) {
    if (args.port() == 0) {
        throw net::UsageError("--port is required: the port sort-server printed");
    }
    const std::string request = request_from(args);
    const auto hang_up_after = args.integer("--hang-up-after", 0, 1LL << 40);
    const auto timeout = args.integer("--timeout", 1, 3600);

    const auto endpoints = net::resolve(args.host(), std::to_string(args.port()), net::tcp_hints(AI_NUMERICSERV));
    const net::Endpoint& endpoint = endpoints.front();
    net::Fd sock{net::check(::socket(endpoint.family, endpoint.socktype | SOCK_CLOEXEC, endpoint.protocol), "socket")};
    if (::connect(sock.get(), endpoint.address.get(), endpoint.address.length) < 0) {
        const int err = errno;  // before building the message: allocating may change errno
        net::throw_errno("connect " + net::to_string(endpoint.address), err);
    }
    net::log::step("connect({})", net::to_string(endpoint.address));
    // Never wait for ever: recv() gives up with EAGAIN after this long (chapter 07).
    const timeval limit{static_cast<time_t>(timeout), 0};
    net::check(::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), "setsockopt SO_RCVTIMEO");

    net::send_all(sock.get(), request);
    net::log::step("send() = {} bytes", request.size());
    if (args.flag("--no-half-close")) {
        net::log::warn("not calling shutdown(SHUT_WR) (--no-half-close): how will the server know we are done?");
    } else {
        // "No more data from me" — a FIN goes out, but we can still read.
        net::check(::shutdown(sock.get(), SHUT_WR), "shutdown SHUT_WR");
        net::log::step("shutdown(SHUT_WR): the request is complete; still reading");
    }

    std::string reply;
    char buffer[65536];
    for (;;) {
        // With --hang-up-after, read no more than that many bytes in all.
        std::size_t room = sizeof buffer;
        if (hang_up_after > 0) {
            room = std::min(room, static_cast<std::size_t>(hang_up_after) - reply.size());
        }
        const ssize_t n = ::recv(sock.get(), buffer, room, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                net::log::error("no reply after {} s: the server is still waiting for the end of the request", timeout);
                return 1;
            }
            if (errno == EINTR) {
                continue;
            }
            net::throw_errno("recv");
        }
        if (n == 0) {
            break;
        }
        reply.append(buffer, static_cast<std::size_t>(n));
        if (hang_up_after > 0 && reply.size() >= static_cast<std::size_t>(hang_up_after)) {
            // SO_LINGER {on, 0 s}: close() discards everything and sends a
            // reset (RST) instead of the orderly FIN: the rudest goodbye.
            const linger reset{1, 0};
            net::check(::setsockopt(sock.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset), "setsockopt SO_LINGER");
            net::log::warn("hanging up after {} bytes of the reply, with a reset (SO_LINGER 0)", reply.size());
            return 0;
        }
    }
    net::log::step("recv() = 0: the server closed; {} bytes in all", reply.size());
    if (args.integer("--generate", 0, 10'000'000) > 0) {
        const bool sorted = lines_sorted(reply);
        const auto lines = std::count(reply.begin(), reply.end(), '\n');
        net::log::good("received {} lines, {}", lines, sorted ? "sorted" : "NOT sorted");
    } else {
        fmt::print("{}", reply);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "sort-client",
        .summary = "Sends LINEs (or stdin) to sort-server, half-closes, prints the sorted reply.",
        .positional = "[LINE...]",
        .max_positional = 10000,
        .options = {{"--generate", "N", "send N generated lines instead", "0"},
                    {"--hang-up-after", "BYTES", "read BYTES of the reply, then reset the connection", "0"},
                    {"--no-half-close", "", "never call shutdown(SHUT_WR)"},
                    {"--timeout", "SECONDS", "give up waiting for the reply after this long", "5"}},
    };
    return net::run_main(argc, argv, usage, run);
}
