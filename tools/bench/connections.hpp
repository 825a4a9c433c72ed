#pragma once
// tools/bench: where the load goes (this machine only) and opening many
// connections at once, every one bounded by a deadline.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "net/address.hpp"
#include "net/fd.hpp"

namespace bench {

using Clock = std::chrono::steady_clock;

// The address to load, which must be a loopback address (127.0.0.0/8 or ::1):
// a load generator aimed at someone else's machine is a denial-of-service
// tool. Anything else is refused with net::UsageError.
[[nodiscard]] net::Address loopback_target(std::string_view host, std::uint16_t port);

// Raises this process's descriptor limit (RLIMIT_NOFILE) to its hard limit, so
// that a thousand connections do not run into the usual soft limit of 1,024.
void raise_descriptor_limit();

// Opens `count` connections to `target`, all in flight at once: non-blocking
// sockets with TCP_NODELAY (a ping-pong must not wait for Nagle), connect()
// started on each, then epoll until every one has completed. Throws
// std::runtime_error if they have not all connected by `deadline` (a full
// accept queue drops SYNs silently), std::system_error if one is refused.
[[nodiscard]] std::vector<net::Fd> connect_all(const net::Address& target, std::size_t count,
                                               Clock::time_point deadline);

// Milliseconds from now until `deadline` for epoll_wait: rounded up (a 0 ms
// timeout would spin), 0 once it has passed, at most `cap`.
[[nodiscard]] int milliseconds_until(Clock::time_point deadline, int cap = 100);

}  // namespace bench
