// echo-server — the classic TCP server loop, one system call at a time.
//
//     echo-server --port 5000          then, in another terminal:  nc 127.0.0.1 5000
//
// socket → bind → listen → accept → recv/send until the client closes → close,
// then accept the next client. Every call and its result is printed, so
// running it is reading it. Ctrl-C stops it between clients or mid-read.
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"
#include "net/tcp.hpp"

namespace {

// Sends back everything the client sends, until it closes its side.
// `narrate` false (--quiet) keeps the per-call lines out, for tools/bench.
void echo_until_closed(const net::Fd& client, bool narrate) {
    char buffer[4096];
    for (;;) {
        const ssize_t received = ::recv(client.get(), buffer, sizeof buffer, 0);
        if (received < 0) {
            if (errno == EINTR) {
                if (net::stop_requested()) {
                    return;  // Ctrl-C while waiting for this client
                }
                continue;
            }
            net::throw_errno("recv");
        }
        if (received == 0) {
            if (narrate) {
                net::log::step("recv() = 0: the client closed its side (EOF)");
            }
            return;
        }
        if (narrate) {
            net::log::step("recv() = {} bytes", received);
        }

        // send() may take fewer bytes than offered; loop until all are gone.
        // (Chapter 03 is about exactly this.)
        ssize_t sent = 0;
        while (sent < received) {
            const ssize_t n = ::send(client.get(), buffer + sent, static_cast<size_t>(received - sent), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;  // a signal, not an error: nothing was sent, try again
                }
                net::throw_errno("send");
            }
            sent += n;
        }
        if (narrate) {
            net::log::step("send() = {} bytes back", sent);
        }
    }
}

int serve(const net::Args& args) {
    net::stop_on_signals();
    const bool narrate = !args.flag("--quiet");

    // 1. Resolve where to listen: --host (127.0.0.1 by default) and --port.
    const auto endpoints = net::resolve(args.host(), std::to_string(args.port()), net::tcp_hints(AI_PASSIVE));
    const net::Endpoint& endpoint = endpoints.front();

    // 2. socket(): an unconnected endpoint, nothing on the network yet.
    //    SOCK_CLOEXEC: a program we might start with exec() does not inherit it.
    net::Fd listener{net::check(::socket(endpoint.family, endpoint.socktype | SOCK_CLOEXEC, endpoint.protocol), "socket")};
    net::log::step("socket() = fd {}", listener.get());

    // Lets a restarted server bind at once while old connections linger in
    // TIME_WAIT (chapter 04 shows what happens without it).
    const int on = 1;
    net::check(::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on), "setsockopt");

    // 3. bind(): claim the address and port. Port 0 asks the kernel for a free one.
    net::check(::bind(listener.get(), endpoint.address.get(), endpoint.address.length), "bind");
    net::log::step("bind({})", net::to_string(endpoint.address));

    // 4. listen(): from now on the kernel completes handshakes for us and
    //    queues the connections until we accept() them.
    net::check(::listen(listener.get(), SOMAXCONN), "listen");
    net::log::step("listen(backlog {})", SOMAXCONN);
    net::log::info("listening on {}  (try: nc -N {} {})", net::to_string(net::local_address(listener.get())),
                   args.host(), net::local_port(listener.get()));

    while (!net::stop_requested()) {
        // 5. accept(): wait for the next client; a new fd for that one connection.
        //    (accept4 is accept with flags: SOCK_CLOEXEC again.)
        sockaddr_storage peer{};
        socklen_t peer_length = sizeof peer;
        const int fd = ::accept4(listener.get(), reinterpret_cast<sockaddr*>(&peer), &peer_length, SOCK_CLOEXEC);
        if (fd < 0) {
            const int err = errno;
            if (err == EINTR) {
                continue;  // a signal: the loop condition decides
            }
            if (net::is_per_client_accept_error(err)) {
                // That client was lost before we took it (ECONNABORTED, say): skip it.
                net::log::warn("accept: {}: skipping that client", std::strerror(err));
                continue;
            }
            net::throw_errno("accept", err);
        }
        net::Fd client{fd};
        if (narrate) {
            net::log::step("accept() = fd {} from {}", client.get(), net::to_string(reinterpret_cast<sockaddr&>(peer)));
        }

        try {
            echo_until_closed(client, narrate);
        } catch (const std::system_error& error) {
            // One client's trouble (a reset, say) must not stop the server.
            net::log::warn("client {}: {}", net::to_string(reinterpret_cast<sockaddr&>(peer)), error.what());
        }
        // 6. close(): the Fd's destructor does it when `client` goes out of scope.
        if (narrate) {
            net::log::step("close(fd {})", client.get());
        }
    }
    net::log::info("stopping: signal received");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "echo-server",
        .summary = "Echoes back whatever each TCP client sends, one client after another,\n"
                   "printing every system call. Stop it with Ctrl-C.",
        .options = {{"--quiet", "", "no per-call narration (for tools/bench)"}},
    };
    return net::run_main(argc, argv, usage, serve);
}
