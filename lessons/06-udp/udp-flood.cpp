// udp-flood — UDP loses datagrams on loopback too, and sendto() never says so.
//
//     udp-flood                      5,000 datagrams of 1,000 bytes to a socket that is not reading
//     udp-flood --count 50           few enough to fit in its receive buffer: nothing lost
//     udp-flood --rcvbuf 65536       ask for a different receive buffer (SO_RCVBUF)
//
// Two sockets on loopback. The sender sends --count datagrams as fast as it
// can while the receiver reads nothing, as a busy server would; then the
// receiver reads whatever is queued. Every sendto() succeeds. The datagrams
// that found the receive buffer full were thrown away on arrival, and only a
// kernel counter records it: RcvbufErrors on the Udp: lines of /proc/net/snmp
// (Udp6RcvbufErrors in /proc/net/snmp6 for IPv6).
#include <cerrno>
#include <fstream>
#include <iterator>
#include <optional>
#include <poll.h>
#include <sstream>
#include <utility>
#include <string>
#include <sys/socket.h>
#include <vector>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"

namespace {

// The kernel's count of datagrams dropped at a full receive buffer, in this
// network namespace: RcvbufErrors on the two "Udp:" lines of /proc/net/snmp
// (names, then values) for IPv4, the line "Udp6RcvbufErrors N" of
// /proc/net/snmp6 for IPv6. nullopt if it cannot be read.
std::optional<long long> rcvbuf_errors(int family) {
    std::ifstream file(family == AF_INET6 ? "/proc/net/snmp6" : "/proc/net/snmp");
    std::vector<std::vector<std::string>> udp;
    for (std::string line; std::getline(file, line);) {
        std::istringstream words(line);
        std::vector<std::string> fields{std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
        if (fields.size() == 2 && fields[0] == "Udp6RcvbufErrors") {
            return std::stoll(fields[1]);
        }
        if (!fields.empty() && fields[0] == "Udp:") {
            udp.push_back(std::move(fields));
        }
    }
    for (std::size_t i = 0; udp.size() >= 2 && i < udp[0].size() && i < udp[1].size(); ++i) {
        if (udp[0][i] == "RcvbufErrors") {
            return std::stoll(udp[1][i]);
        }
    }
    return std::nullopt;
}

// Reads every datagram queued on `fd`; stops when none has come for `quiet_ms`.
long long drain(int fd, int quiet_ms) {
    std::string buffer(65536, '\0');
    long long received = 0;
    pollfd waiting{fd, POLLIN, 0};
    for (;;) {
        const int ready = ::poll(&waiting, 1, quiet_ms);
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (net::check(ready, "poll") == 0) {
            return received;
        }
        net::check(::recv(fd, buffer.data(), buffer.size(), 0), "recv");
        ++received;
    }
}

int run(const net::Args& args) {
    const long long count = args.integer("--count", 1, 1'000'000);
    const auto size = static_cast<std::size_t>(args.integer("--size", 1, 65'507));
    const auto rcvbuf = static_cast<int>(args.integer("--rcvbuf", 0, 1 << 30));

    const auto endpoints = net::resolve(args.host(), std::to_string(args.port()), net::udp_hints(AI_PASSIVE));
    const net::Endpoint& endpoint = endpoints.front();
    net::Fd receiver{net::check(::socket(endpoint.family, endpoint.socktype | SOCK_CLOEXEC, endpoint.protocol), "socket")};
    if (rcvbuf > 0) {
        net::check(::setsockopt(receiver.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), "setsockopt SO_RCVBUF");
    }
    net::check(::bind(receiver.get(), endpoint.address.get(), endpoint.address.length), "bind");
    int granted = 0;
    socklen_t granted_length = sizeof granted;
    net::check(::getsockopt(receiver.get(), SOL_SOCKET, SO_RCVBUF, &granted, &granted_length), "getsockopt SO_RCVBUF");
    const net::Address to = net::local_address(receiver.get());
    net::log::info("receiver bound to {}, SO_RCVBUF = {} bytes; it reads nothing for now", net::to_string(to),
                   granted);
    net::Fd sender{net::check(::socket(endpoint.family, endpoint.socktype | SOCK_CLOEXEC, endpoint.protocol), "socket")};

    const std::optional<long long> errors_before = rcvbuf_errors(endpoint.family);
    const std::string datagram(size, 'x');
    for (long long i = 0; i < count; ++i) {
        // Succeeds as soon as the datagram is handed on: UDP never hears
        // whether the receiver had room for it.
        if (::sendto(sender.get(), datagram.data(), datagram.size(), 0, to.get(), to.length) < 0) {
            net::throw_errno("sendto");
        }
    }
    net::log::step("sendto() x {} = {} each: every call succeeded", count, net::plural(size, "byte"));

    const long long received = drain(receiver.get(), 100);
    net::log::step("recv() x {}, then nothing more for 100 ms", received);
    if (received < count) {
        net::log::warn("{} of {} datagrams lost, and no call returned an error", count - received, count);
    } else {
        net::log::good("all {} datagrams arrived: the receive buffer had room for them", count);
    }
    const std::optional<long long> errors_after = rcvbuf_errors(endpoint.family);
    if (errors_before && errors_after) {
        net::log::info("{} {}RcvbufErrors: {} -> {} (+{}; other programs' drops count too)",
                       endpoint.family == AF_INET6 ? "/proc/net/snmp6" : "/proc/net/snmp Udp",
                       endpoint.family == AF_INET6 ? "Udp6" : "", *errors_before, *errors_after,
                       *errors_after - *errors_before);
    } else {
        net::log::info("the kernel's RcvbufErrors counter could not be read here");
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "udp-flood",
        .summary = "Sends datagrams to a socket that is not reading, then reads what arrived:\n"
                   "a full receive buffer drops UDP datagrams, on loopback too.",
        .options = {{"--count", "N", "datagrams to send", "5000"},
                    {"--size", "BYTES", "each datagram's size", "1000"},
                    {"--rcvbuf", "BYTES", "ask for this SO_RCVBUF (the kernel doubles it); 0 keeps the default", "0"}},
    };
    return net::run_main(argc, argv, usage, run);
}
