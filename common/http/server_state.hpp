#pragma once
// The inside of http::Server (chapter 14's given server, moved to common/):
// one Connection per client, and the State its two source files share —
// server.cpp (accepting, reading, answering, writing) and
// server_deadlines.cpp (chapter 15's timer per connection).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <fmt/core.h>

#include "http/server.hpp"

namespace http::detail {
// After the last answer, how long to keep reading (and dropping) what the
// client still sends before closing: closing a socket with unread bytes
// makes the kernel send a reset, which can destroy the answer in flight.
inline constexpr std::chrono::seconds lingering_close{2};

struct Connection {
    net::Fd socket;
    std::string peer;
    RequestParser parser;
    std::string input;          // received, not parsed yet
    std::string output;         // answered, not taken by the kernel yet
    bool closing = false;       // the last answer is queued: read no more requests
    bool peer_closed = false;   // recv said 0: send what is owed, then close
    bool write_shut = false;    // shutdown(SHUT_WR) done: waiting for the client's FIN
    net::EventLoop::TimerId linger_timer = 0;
    // Chapter 15: the one deadline timer, and what the DeadlineRule remembers.
    DeadlineState deadline_state;
    Deadline deadline;                       // the rule's latest answer
    Deadline armed;                          // the one the timer is armed for
    net::EventLoop::TimerId deadline_timer = 0;
    bool sent_since_armed = false;           // the client took some of `output` since
    // Chapter 16: set by a 101 with an upgrade; called once the 101 is out.
    std::function<void(net::Fd, std::string)> upgrade;
};

}  // namespace http::detail

namespace http {

using detail::Connection;
using detail::lingering_close;

struct Server::State {
    net::EventLoop& loop;
    net::Fd listener;
    const Router& router;
    ServerOptions options;
    std::unordered_map<int, std::unique_ptr<Connection>> connections;
    std::uint64_t requests = 0;
    net::EventLoop::TimerId resume_accepting = 0;

    State(net::EventLoop& event_loop, net::Fd listening, const Router& routes, ServerOptions server_options)
        : loop(event_loop), listener(std::move(listening)), router(routes), options(std::move(server_options)) {}

    template <typename... Args>
    void say(fmt::format_string<Args...> format, Args&&... args) const {
        if (options.trace) {
            options.trace(fmt::format(format, std::forward<Args>(args)...));
        }
    }
    void watch_listener();
    void accept_all();
    void on_ready(int fd, std::uint32_t events);
    // Sends what it can; once every answer is out, closes or half-closes as the
    // connection's state says.
    void finish_turn(int fd, Connection& c);
    // Parses and answers every complete request in `input`, in order, until
    // the output is full or the connection is to close.
    void answer_buffered(Connection& c);
    // Sends what the kernel takes; false when the connection failed.
    bool flush(Connection& c);
    void drain_before_close(int fd);
    void close(int fd, std::string_view why);
    // Chapter 16: gives the connection to c.upgrade, with what it read past the 101's request.
    void hand_over(int fd, Connection& c);

    // ---- chapter 15: deadlines (server_deadlines.cpp) ----
    // Asks the DeadlineRule what the connection's deadline is now.
    void consult(Connection& c, Stage stage);
    // (Re)arms the connection's one timer for c.deadline, unless it already is.
    void arm(int fd, Connection& c);
    void on_deadline(int fd);
};

}  // namespace http
