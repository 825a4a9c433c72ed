// udp-echo-server — one socket, many clients, no connections: recvfrom/sendto.
//
//     udp-echo-server --port 5000        then, in another terminal:  nc -u 127.0.0.1 5000
//
// socket → bind → loop { recvfrom → sendto the address it came from }. There is
// no listen() and no accept(): every datagram says who sent it, and the reply
// goes back there. Datagrams too large for the buffer are reported, not echoed.
// --lose-every N pretends the network lost every Nth datagram, so you can watch
// udp-client retry. Ctrl-C stops it.
#include <cerrno>
#include <string>
#include <string_view>
#include <sys/socket.h>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"

namespace {

int serve(const net::Args& args) {
    net::stop_on_signals();
    const auto max_size = static_cast<std::size_t>(args.integer("--max-size", 1, 65536));
    const long long lose_every = args.integer("--lose-every", 0, 1'000'000);

    const auto endpoints = net::resolve(args.host(), std::to_string(args.port()), net::udp_hints(AI_PASSIVE));
    const net::Endpoint& endpoint = endpoints.front();

    // SOCK_DGRAM: datagrams, each delivered whole or not at all.
    net::Fd sock{net::check(::socket(endpoint.family, endpoint.socktype | SOCK_CLOEXEC, endpoint.protocol), "socket")};
    net::log::step("socket(SOCK_DGRAM) = fd {}", sock.get());
    net::check(::bind(sock.get(), endpoint.address.get(), endpoint.address.length), "bind");
    net::log::info("listening on {} (UDP)  (try: nc -u {} {})", net::to_string(net::local_address(sock.get())),
                   args.host(), net::local_port(sock.get()));

    std::string buffer(max_size, '\0');
    long long count = 0;
    while (!net::stop_requested()) {
        sockaddr_storage peer{};
        socklen_t peer_length = sizeof peer;
        // MSG_TRUNC, Linux's input flag (recv(2)): the return value is the
        // datagram's real length, even if only max_size bytes of it fit.
        const ssize_t n = ::recvfrom(sock.get(), buffer.data(), buffer.size(), MSG_TRUNC,
                                     reinterpret_cast<sockaddr*>(&peer), &peer_length);
        if (n < 0) {
            const int error = errno;
            if (error == EINTR) {
                continue;  // Ctrl-C: the loop condition decides
            }
            net::throw_errno("recvfrom", error);
        }
        const auto size = static_cast<std::size_t>(n);
        const std::string from = net::to_string(reinterpret_cast<const sockaddr&>(peer));
        net::log::step("recvfrom() = {} from {}", net::plural(size, "byte"), from);
        ++count;

        if (size > buffer.size()) {
            net::log::warn("datagram #{} from {} was {}, the buffer holds {}: the rest is gone, not echoed",
                           count, from, net::plural(size, "byte"), buffer.size());
            continue;
        }
        if (lose_every > 0 && count % lose_every == 0) {
            net::log::warn("pretending datagram #{} was lost on the way (--lose-every {})", count, lose_every);
            continue;
        }
        // The reply goes to the address this datagram came from: the only
        // record of the client there is.
        if (::sendto(sock.get(), buffer.data(), size, 0, reinterpret_cast<const sockaddr*>(&peer), peer_length) < 0) {
            const int error = errno;
            net::log::warn("sendto {}: {}", from, std::generic_category().message(error));
            continue;  // one client's trouble must not stop the server
        }
        net::log::step("sendto({}) = {}", from, net::plural(size, "byte"));
    }
    net::log::info("stopping: signal received");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "udp-echo-server",
        .summary = "Echoes each UDP datagram back to the address it came from, printing\n"
                   "every system call. Stop it with Ctrl-C.",
        .options = {{"--max-size", "BYTES", "the receive buffer: larger datagrams are not echoed", "1024"},
                    {"--lose-every", "N", "pretend every Nth datagram is lost, 0 for none", "0"}},
    };
    return net::run_main(argc, argv, usage, serve);
}
