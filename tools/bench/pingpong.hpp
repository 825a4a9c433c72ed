#pragma once
// tools/bench: the ping-pong load. Every connection keeps exactly one message
// in flight: send it, read the echo back byte by byte against what was sent,
// send the next. Round trips per second then measure the server's per-message
// cost, not how much the client can queue.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "connections.hpp"
#include "latency.hpp"
#include "net/fd.hpp"

namespace bench {

struct PingpongOptions {
    std::size_t message_size = 64;
    Clock::duration warmup{};   // round trips in this first stretch are not counted
    Clock::duration measure{};  // then this long is measured
};

struct PingpongResult {
    std::uint64_t round_trips = 0;           // completed in the measured stretch
    double seconds = 0;                      // length of the measured stretch
    std::vector<std::uint64_t> latencies_ns; // one per counted round trip
    std::size_t unanswered = 0;              // connections that never got one echo back
    std::size_t failed = 0;                  // connections ended by an error or a wrong byte
    std::uint64_t mismatches = 0;            // echoes that differed from what was sent
    std::string first_error;                 // what went wrong first, for the report
};

// Runs the ping-pong on already connected non-blocking sockets with one epoll
// loop on this thread; the whole run takes warmup + measure, whatever the
// server does. The connections are left open (the caller closes them).
[[nodiscard]] PingpongResult run_pingpong(const std::vector<net::Fd>& connections, const PingpongOptions& options);

}  // namespace bench
