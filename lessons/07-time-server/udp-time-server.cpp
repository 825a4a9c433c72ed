// udp-time-server — RFC 868 time and RFC 867 daytime over UDP: every datagram
// that arrives gets the answer back, sent to the address it came from.
//
//     udp-time-server --port 3700                      then:  rdate -p -u -o 3700 127.0.0.1
//     udp-time-server --port 1300 --service daytime    then:  printf '\n' | nc -u -W 1 127.0.0.1 1300
//
// No connection, so nothing to wait for and no client to time out: one
// recvfrom(), one sendto(), next. A reply that cannot be sent is that peer's
// problem: the server says so and answers the next datagram.
#include <cerrno>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/types.h>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"
#include "time-service.hpp"

namespace {

using time_service::Service;

int run(const net::Args& args) {
    const Service service = time_service::service_option(args);
    net::stop_on_signals();
    const auto endpoints =
        net::resolve(args.host(), std::to_string(args.port()), net::udp_hints(AI_PASSIVE | AI_NUMERICSERV));
    const net::Endpoint& endpoint = endpoints.front();
    const net::Fd sock{
        net::check(::socket(endpoint.family, endpoint.socktype | SOCK_CLOEXEC, endpoint.protocol), "socket")};
    net::check(::bind(sock.get(), endpoint.address.get(), endpoint.address.length), "bind");
    const auto port = net::local_port(sock.get());
    net::log::info("listening on UDP {}  (try: {})", net::to_string(net::local_address(sock.get())),
                   service == Service::daytime ? fmt::format("printf '\\n' | nc -u -W 1 {} {}", args.host(), port)
                                               : fmt::format("rdate -p -u -o {} {}", port, args.host()));
    char request[512];
    while (!net::stop_requested()) {
        net::Address peer;
        peer.length = sizeof peer.storage;  // in and out: reset for every call
        const ssize_t n = ::recvfrom(sock.get(), request, sizeof request, 0, peer.get(), &peer.length);
        if (n < 0) {
            if (errno == EINTR) {
                continue;  // Ctrl-C: the loop condition decides
            }
            net::throw_errno("recvfrom");
        }
        const std::string who = net::to_string(peer);
        net::log::step("recvfrom() = {} from {}", net::plural(n, "byte"), who);
        const std::string reply = time_service::answer(service);
        ssize_t sent = -1;
        do {
            sent = ::sendto(sock.get(), reply.data(), reply.size(), 0, peer.get(), peer.length);
        } while (sent < 0 && errno == EINTR);
        if (sent < 0) {
            // EACCES (a broadcast address), EPERM (a firewall), ENOBUFS...: this peer only.
            net::log::warn("sendto({}): {}: no answer for that one", who, std::strerror(errno));
            continue;
        }
        net::log::step("sendto({}) = {}", who, net::plural(sent, "byte"));
    }
    net::log::info("stopping: signal received");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "udp-time-server",
        .summary = "Tells the time over UDP: RFC 868 (4 bytes, seconds since 1900) or RFC 867 (a line\n"
                   "of text) back to every datagram that arrives.",
        .options = {{"--service", "NAME", "time (RFC 868) or daytime (RFC 867)", "time"}},
    };
    return net::run_main(argc, argv, usage, run);
}
