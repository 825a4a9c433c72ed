#pragma once
// Exercise 02 — your first TCP server and client.
//
// Chapter 02 (book/src/02-tcp-client-server.md) walks through the echo server
// and client in lessons/02-tcp-client-server/. Here you write the two halves
// that matter yourself. Edit echo.cpp, then run ./workbook check 02.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/fd.hpp"

namespace lesson02 {

// The server's half: serves one client that accept() returned.
//
// Receive whatever the client sends and send the same bytes straight back,
// until the client closes its side (recv returns 0). Return the total number
// of bytes echoed. A client that connects and closes without sending anything
// is not an error: return 0.
//
// You own `client`: it is closed when this function returns (net::Fd closes it
// in its destructor), which tells the client you are done. Echo exactly the
// bytes you received: recv tells you how many that is.
std::size_t serve_client(net::Fd client);

// The client's half: one round trip to an echo server.
//
// Resolve host and port (numeric addresses like "127.0.0.1" or "::1" must
// work), connect, send all of `message`, then receive until exactly
// message.size() bytes have come back, and return them. The echo may arrive
// in several pieces: one recv is not one message.
//
// A name can resolve to several addresses, and the first is not always the
// one that answers: on a stock Debian or Ubuntu machine "localhost" gives ::1
// first, then 127.0.0.1, and a server listening on 127.0.0.1 only refuses
// the first. Try every address getaddrinfo returned, in its order, each with
// a socket of its own, until one connects. If none does, throw the last
// connect's error.
//
// Errors are exceptions: a failed system call throws std::system_error naming
// the call (net::check / net::throw_errno), and a server that closes the
// connection before the whole echo arrived throws std::runtime_error.
// Every socket is closed on every path.
//
// Sending everything before reading anything is what this exercise asks, and
// it only works while the message fits in the socket buffers: the server
// stops reading once it cannot send its echo back (our receive buffer is
// full, we are not reading yet), and then our send blocks for ever. On
// loopback that happens at a few megabytes. Sending and receiving at the same
// time needs poll() or epoll (chapters 09 and 10); the tests stay well below.
std::string echo_once(const std::string& host, std::uint16_t port, std::string_view message);

}  // namespace lesson02
