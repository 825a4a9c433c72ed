// Exercise 15 — deadlines for slow and idle connections: see next_deadline in
// hardening.hpp.
#include "hardening.hpp"

#include "net/error.hpp"

namespace hardening {

http::Deadline next_deadline(http::DeadlineState& state, http::Stage stage, http::Clock::time_point now,
                             const http::Timeouts& timeouts) {
    (void)state;
    (void)stage;
    (void)now;
    (void)timeouts;
    net::todo("next_deadline: idle, head (from the first byte) and body deadlines");
}

}  // namespace hardening
