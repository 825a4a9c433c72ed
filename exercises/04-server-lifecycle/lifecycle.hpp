#pragma once
// Exercise 04 — a server that behaves: it restarts at once, survives clients
// that vanish mid-reply, answers clients that half-close, and stops cleanly.
//
// Chapter 04 (book/src/04-server-lifecycle.md) shows each failure happening
// with lessons/04-server-lifecycle/sort-server, then the fix. Here you write
// the listener and the serve loop yourself. Edit lifecycle.cpp, then run
// ./workbook check 04.
//
// The protocol is the sort server's: a client sends its whole request, then
// says "that is all" with shutdown(SHUT_WR) (a half-close: it can still
// read). The server reads until EOF, computes the reply, sends all of it and
// closes. The tests choose the reply through a Handler, so your code never
// needs to know what the service does.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "net/fd.hpp"

namespace lesson04 {

// Creates a listening TCP socket on host:port that a restarted server can
// take over at once: socket(), then setsockopt(SO_REUSEADDR), then bind(),
// then listen() with backlog SOMAXCONN (the kernel silently caps any backlog
// at the sysctl net.core.somaxconn: 4096 since Linux 5.4, 128 before).
//
// Without SO_REUSEADDR, a restart fails with "Address already in use" for as
// long as a connection the old server closed first sits in TIME_WAIT (about a
// minute on Linux). The option must be set before bind(); the accepted
// sockets inherit it from the listener. Do not set SO_REUSEPORT: a second
// server on a port someone already listens on must still fail.
//
// - Resolve with net::resolve(host, std::to_string(port),
//   net::tcp_hints(AI_PASSIVE | AI_NUMERICSERV)) and use the first result;
//   "127.0.0.1" and "::1" must both work.
// - Port 0 lets the kernel pick a free port (net::local_port reads it back).
// - The default host is 127.0.0.1: this machine only. A server reachable
//   from the whole network should be something you ask for, never a default.
// - Every failure throws std::system_error naming the call, e.g.
//   "bind 127.0.0.1:5000: Address already in use" (net::throw_errno), and the
//   socket is closed on every path.
//
// Write the calls yourself: net::listen_tcp does exactly this, so using it
// here would skip the lesson.
net::Fd open_listener(std::uint16_t port, const std::string& host = "127.0.0.1");

// Computes a reply from a whole request (the sort server sorts its lines).
using Handler = std::function<std::string(std::string_view request)>;

// The largest request serve_client accepts, in bytes.
inline constexpr std::size_t max_request = 1 << 20;

// Serves one client that accept() returned, in three steps:
//
// 1. Receive until the client's EOF (recv returns 0: it called
//    shutdown(SHUT_WR) or close). That EOF ends the request; it does not
//    mean the client is gone. A request longer than max_request bytes is
//    refused: throw std::runtime_error before calling the handler.
// 2. reply = handler(request).
// 3. Send all of the reply, looping over short writes, then return (the Fd
//    closes the socket). Pass MSG_NOSIGNAL to every send: writing to a peer
//    that has gone raises SIGPIPE otherwise, and SIGPIPE's default action
//    ends the whole process, every other client with it. With the flag, send
//    fails with EPIPE (or ECONNRESET) instead: throw std::system_error naming
//    send. (The tests block SIGPIPE in the server's thread and fail if a send
//    raised it; a process-wide signal(SIGPIPE, SIG_IGN) does not pass.)
//
// Caught signals interrupt blocking calls: recv or send returning -1 with
// errno == EINTR is not an error. Retry it (a send interrupted after some bytes went
// returns that shorter count instead, which the loop already handles).
void serve_client(net::Fd client, const Handler& handler);

// The server's loop: accepts clients one after another on `listener` (which
// it borrows, not owns) and serves each with serve_client, until `stop` is
// true. Returns how many clients were served in full.
//
// - One client's failure (a reset, a request too long: any
//   std::runtime_error, which std::system_error is) must not end the loop:
//   skip that client and accept the next. Let other exceptions through.
// - A graceful stop: `stop` is checked before each accept(). Whoever sets it
//   then sends the server's thread a signal whose handler was installed
//   without SA_RESTART (as Ctrl-C does in the lesson's program), so a
//   blocked accept() returns -1 with EINTR: check `stop` again and return.
//   A client already accepted is served to the end, its full reply included,
//   even if `stop` is set meanwhile (the signals keep interrupting its recv
//   and send: retry them). No client is accepted after the stop.
// - EINTR from accept when `stop` is still false: just accept again.
//   ECONNABORTED (a client that gave up while queued) is not fatal either.
//   Any other accept failure throws std::system_error naming accept.
std::size_t serve(int listener, const Handler& handler, const std::atomic<bool>& stop);

}  // namespace lesson04
