// Reference solution for exercise 04 — a server that behaves.
#include "lifecycle.hpp"

#include <cerrno>
#include <stdexcept>
#include <string>
#include <sys/socket.h>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/error.hpp"

namespace lesson04 {

net::Fd open_listener(std::uint16_t port, const std::string& host) {
    const auto endpoints = net::resolve(host, std::to_string(port), net::tcp_hints(AI_PASSIVE | AI_NUMERICSERV));
    const net::Endpoint& endpoint = endpoints.front();

    net::Fd listener{net::check(::socket(endpoint.family, endpoint.socktype | SOCK_CLOEXEC, endpoint.protocol),
                                "socket")};
    // Before bind: it changes what bind() accepts. Without it, a connection
    // this server closed first (now in TIME_WAIT) keeps the port "in use".
    const int on = 1;
    net::check(::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on), "setsockopt SO_REUSEADDR");
    if (::bind(listener.get(), endpoint.address.get(), endpoint.address.length) < 0) {
        const int err = errno;  // before formatting: allocating may change errno
        net::throw_errno(fmt::format("bind {}", net::to_string(endpoint.address)), err);
    }
    net::check(::listen(listener.get(), SOMAXCONN), "listen");
    return listener;
}

namespace {

// Reads until the client's EOF. The EOF is the end of the request (a
// half-close), not the end of the conversation: the client is still reading.
std::string receive_request(int client) {
    std::string request;
    char buffer[16384];
    for (;;) {
        const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            net::throw_errno("recv");
        }
        if (n == 0) {
            return request;
        }
        request.append(buffer, static_cast<std::size_t>(n));
        if (request.size() > max_request) {
            throw std::runtime_error(fmt::format("request longer than {} bytes refused", max_request));
        }
    }
}

// Sends every byte. MSG_NOSIGNAL turns "the peer is gone" from a
// process-killing SIGPIPE into an EPIPE this one client's code can handle.
void send_reply(int client, std::string_view reply) {
    std::size_t sent = 0;
    while (sent < reply.size()) {
        const ssize_t n = ::send(client, reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            net::throw_errno("send");
        }
        sent += static_cast<std::size_t>(n);
    }
}

}  // namespace

void serve_client(net::Fd client, const Handler& handler) {
    const std::string request = receive_request(client.get());
    send_reply(client.get(), handler(request));
}

std::size_t serve(int listener, const Handler& handler, const std::atomic<bool>& stop) {
    std::size_t served = 0;
    while (!stop.load()) {
        const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;  // the loop condition decides whether to go on
            }
            net::throw_errno("accept");
        }
        try {
            // Once accepted, a client is served to the end: a stop request
            // only keeps the *next* client from being accepted.
            serve_client(net::Fd{fd}, handler);
            ++served;
        } catch (const std::runtime_error&) {
            // This client's trouble (a reset, an oversized request) is
            // not the server's: carry on with the next one.
        }
    }
    return served;
}

}  // namespace lesson04
