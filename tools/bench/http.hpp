#pragma once
// tools/bench: the HTTP load. Every connection keeps exactly one keep-alive
// GET in flight, as wrk does: send it, read the whole response (framed by its
// Content-Length or its chunks, never by a close), send the next. Requests per
// second then measure the server's cost per request, not how much the client
// can pipeline.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connections.hpp"
#include "latency.hpp"
#include "net/fd.hpp"

namespace bench {

struct HttpOptions {
    std::string request;        // the bytes of one request, sent again and again
    Clock::duration warmup{};   // responses to requests sent in this first stretch are not counted
    Clock::duration measure{};  // then this long is measured
};

struct HttpResult {
    std::uint64_t requests = 0;              // responses completed in the measured stretch
    std::uint64_t all_requests = 0;          // and with the warm-up's (for the server's CPU time per request)
    double seconds = 0;                      // length of the measured stretch
    std::vector<std::uint64_t> latencies_ns; // one per counted response, sorted
    std::uint64_t bytes = 0;                 // response bytes (head and body) of the counted ones
    std::uint64_t body_bytes = 0;            // their bodies alone
    std::uint64_t non2xx = 0;                // responses whose status was not 2xx, warm-up included:
    std::string first_non2xx;                // a wrong answer is wrong whenever it came; the first's status line
    std::size_t unanswered = 0;              // connections that never got a whole response
    std::size_t failed = 0;                  // connections ended by an error, a close or bad framing
    std::string first_error;                 // what went wrong first, for the report
};

// "GET path HTTP/1.1" with a Host field: all a keep-alive GET needs (RFC 9112 §3.2).
[[nodiscard]] std::string get_request(std::string_view path, std::string_view host);

// Runs the load on already connected non-blocking sockets with one epoll loop
// on this thread; the whole run takes warmup + measure, whatever the server
// does. The connections are left open (the caller closes them).
[[nodiscard]] HttpResult run_http(const std::vector<net::Fd>& connections, const HttpOptions& options);

}  // namespace bench
