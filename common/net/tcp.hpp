#pragma once
// The two TCP chores every later lesson repeats: a listener, and a connection.

#include <chrono>
#include <cstdint>
#include <string_view>

#include <sys/socket.h>

#include "net/fd.hpp"

namespace net {

// A listening TCP socket on host:port (IPv4 or IPv6, whichever host resolves to
// first; port 0 lets the kernel pick — read it back with local_port()).
// SO_REUSEADDR is set so that a restarted server can bind while old
// connections sit in TIME_WAIT (chapter 04). Never pass "" or "0.0.0.0" unless
// you mean to accept connections from other machines.
[[nodiscard]] Fd listen_tcp(std::string_view host, std::uint16_t port, int backlog = SOMAXCONN);

// A connected TCP socket to host:port, trying each resolved address in turn.
// Gives up with ETIMEDOUT after `timeout` (a full accept queue drops SYNs
// silently, so a connect without a deadline can wait for minutes).
// The returned socket is blocking.
[[nodiscard]] Fd connect_tcp(std::string_view host, std::uint16_t port,
                             std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace net
