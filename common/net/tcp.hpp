#pragma once
// The TCP chores every later lesson repeats: a listener, accepting a client
// (chapter 04), and a connection.

#include <chrono>
#include <cstdint>
#include <string_view>

#include <sys/socket.h>

#include "net/address.hpp"
#include "net/fd.hpp"
#include "net/signals.hpp"

namespace net {

// A listening TCP socket on host:port (IPv4 or IPv6, whichever host resolves to
// first; port 0 lets the kernel pick — read it back with local_port()).
// SO_REUSEADDR is set so that a restarted server can bind while old
// connections sit in TIME_WAIT (chapter 04). Never pass "" or "0.0.0.0" unless
// you mean to accept connections from other machines.
[[nodiscard]] Fd listen_tcp(std::string_view host, std::uint16_t port, int backlog = SOMAXCONN);

// listen_tcp with SO_REUSEPORT set before bind (chapter 11): several
// listeners, one per event loop, can share host:port, and the kernel spreads
// new connections across them (by a hash of the client's address and port).
// Bind the first on port 0, then the others on the port it got.
[[nodiscard]] Fd listen_tcp_reuseport(std::string_view host, std::uint16_t port, int backlog = SOMAXCONN);

// What one accept_client() call produced: a client, or the reason there is none.
struct Accepted {
    Fd connection;  // the new connected socket (close-on-exec); invalid when no client came
    Address peer;   // the client's address, from accept's own sockaddr
    int error = 0;  // when `connection` is invalid: EINTR (a stop was requested) or the
                    // per-client errno of a client that was skipped (ECONNABORTED, ...)

    explicit operator bool() const noexcept { return connection.valid(); }
};

// Accepts the next client of `listener` with accept4(..., SOCK_CLOEXEC) and takes
// its address from accept's own sockaddr, never from getpeername() afterwards: a
// client that reset while it waited in the queue is still handed over by Linux's
// accept(), address and all, but getpeername() on it fails with ENOTCONN (its
// first recv() then says ECONNRESET). Other systems fail accept() with ECONNABORTED.
//
// Chapter 04 explains the three outcomes:
//  - a client: `connection` is valid and `peer` says who it is;
//  - a client that was lost before we took it: `connection` is invalid and `error`
//    names why. That client is gone, the server is fine: log it and accept the next.
//    These are ECONNABORTED, EPROTO, EPERM (a firewall rule) and the network errors
//    accept(2)'s NOTES say to treat like EAGAIN (ENETDOWN, ENOPROTOOPT, EHOSTDOWN,
//    ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH);
//  - a signal: EINTR is retried, unless `stop()` is true (by default
//    net::stop_requested(): a handler installed without SA_RESTART recorded
//    Ctrl-C); then `error` is EINTR and the caller's loop gets to stop. A program
//    with handlers of its own passes its own predicate.
// Anything else (EMFILE, EBADF, EINVAL ...) is the server's own problem and is
// thrown as std::system_error("accept"). (Running out of descriptors without
// dying or spinning is chapter 11's subject.)
//
//     while (!net::stop_requested()) {
//         net::Accepted client = net::accept_client(listener.get());
//         if (!client) {
//             continue;  // log client.error unless it is EINTR
//         }
//         serve(client.connection, client.peer);
//     }
[[nodiscard]] Accepted accept_client(int listener, bool (*stop)() = stop_requested);

// True for the errno values after which accept() lost one client, not the listener.
[[nodiscard]] bool is_per_client_accept_error(int err) noexcept;

// A connected TCP socket to host:port, trying each resolved address in turn.
// `timeout` is one budget for the whole call, shared by all the addresses tried
// (a full accept queue drops SYNs silently, so a connect without a deadline can
// wait for minutes); when it runs out the call fails with ETIMEDOUT.
// The returned socket is blocking.
[[nodiscard]] Fd connect_tcp(std::string_view host, std::uint16_t port,
                             std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace net
