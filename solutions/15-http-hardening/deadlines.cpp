// Exercise 15 — deadlines for slow and idle connections (solution).
#include "hardening.hpp"

namespace hardening {

http::Deadline next_deadline(http::DeadlineState& state, http::Stage stage, http::Clock::time_point now,
                             const http::Timeouts& timeouts) {
    if (state.stage != stage) {  // also on the first call, when state.stage is empty
        state.stage = stage;
        state.since = now;  // a new stage's clock starts now: for the head, at its first byte
    }
    switch (stage) {
    case http::Stage::idle: return {state.since + timeouts.idle, http::Expiry::close_quietly};
    case http::Stage::head:
        // From the first byte, never moved by the ones after it: a deadline
        // that restarted with every byte is one a slowloris never meets.
        return {state.since + timeouts.header, http::Expiry::request_timeout};
    case http::Stage::body: return {now + timeouts.header, http::Expiry::request_timeout};
    }
    return {};
}

}  // namespace hardening
