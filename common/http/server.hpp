#pragma once
// http::Server — chapter 14's server on the event loop (exercises/14-http-server/
// server.cpp, given there): edge-triggered connections, pipelined requests
// answered in order, backpressure, a lingering close. Chapter 15 adds two
// hooks: the parser's FramingRule (parser.hpp) and a DeadlineRule, which the
// server consults after every read to arm its one timer per connection.
// Chapter 16: a route that answers 101 with Response::upgrade set
// (message.hpp) takes the connection over, WebSocket's way in.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "http/parser.hpp"
#include "http/router.hpp"
#include "net/event_loop.hpp"
#include "net/fd.hpp"

namespace http {

using Clock = std::chrono::steady_clock;

struct Timeouts {
    // From the first byte of a request until its head is complete; while a
    // body arrives, the longest pause between two reads of it.
    std::chrono::milliseconds header{10'000};
    // Between requests on a kept-alive connection (and for a client that
    // reads none of the answers it asked for).
    std::chrono::milliseconds idle{30'000};
};

// What happens when a deadline passes.
enum class Expiry {
    none,             // no deadline: the connection may wait for ever
    close_quietly,    // close without a word (an idle keep-alive connection)
    request_timeout,  // answer 408 Request Timeout, then close
};

struct Deadline {
    Clock::time_point at{};
    Expiry expiry = Expiry::none;
    friend bool operator==(const Deadline&, const Deadline&) = default;
};

// What a DeadlineRule remembers about one connection between two calls.
struct DeadlineState {
    std::optional<Stage> stage;  // of the last call; none before the first (the connection is new)
    Clock::time_point since{};   // when `stage` began
};

// Called with the connection's stage after every read, and after each request
// is complete (Stage::idle), at time `now`: when must the next thing happen,
// and what if it does not? Sans-IO: no sockets, no clocks of its own.
using DeadlineRule = std::function<Deadline(DeadlineState& state, Stage stage, Clock::time_point now,
                                            const Timeouts& timeouts)>;

struct ServerOptions {
    Limits limits = {};
    // How a request's body is framed (chapter 15); empty: lesson14_framing.
    FramingRule framing = {};
    bool strict_line_ends = false;  // a bare LF is a 400
    // When a connection's timer fires (chapter 15); empty: never (chapter 14's server).
    DeadlineRule deadlines = {};
    Timeouts timeouts = {};
    // Stop reading a connection's requests while this many bytes of answers
    // wait to be sent: a client that pipelines without reading is held to it.
    std::size_t output_limit = 1 << 20;
    // Called with each line of narration. Empty: silent.
    std::function<void(std::string_view)> trace = {};
};

// Serves `router` to every client of `listener` (a listening socket) on
// `loop`, until destroyed.
class Server {
public:
    Server(net::EventLoop& loop, net::Fd listener, const Router& router, ServerOptions options = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    [[nodiscard]] std::size_t connections() const noexcept;  // open right now
    [[nodiscard]] std::uint64_t requests() const noexcept;    // answered so far

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace http
