#pragma once
// tools/bench: the idle load. Many connections that each prove once that they
// are served (one small round trip) and then sit there, while the server's
// memory and thread count are read from /proc: what a connection costs when it
// is doing nothing, which is what most connections of a real server do.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "connections.hpp"
#include "net/fd.hpp"

namespace bench {

// What /proc/PID/status says about a process.
struct ProcessSample {
    std::uint64_t rss_kib = 0;  // VmRSS: resident memory
    std::uint64_t threads = 0;  // Threads:
};

// Reads /proc/PID/status; throws std::system_error if the process is gone.
[[nodiscard]] ProcessSample sample_process(pid_t pid);

struct IdleResult {
    std::size_t answered = 0;                 // connections whose round trip came back intact
    std::string first_error;                  // the first that did not, and why
    std::optional<ProcessSample> before;      // the server before the connections were opened
    std::optional<ProcessSample> held;        // the largest values while they were held
};

// Sends a 16-byte probe on each connection and waits until every echo is back
// (or `answer_deadline`), then holds the connections for `hold`, sampling
// `pid` (if given) every 50 ms. `before` is passed in: it must be taken
// before the connections were opened. With an `http_request`, that is the
// probe, and the answer must be a whole 2xx response (an HTTP server's idle
// connections are kept-alive ones that have been served once).
[[nodiscard]] IdleResult run_idle(const std::vector<net::Fd>& connections, Clock::time_point answer_deadline,
                                  Clock::duration hold, std::optional<pid_t> pid, const std::string& http_request = {});

}  // namespace bench
