// http::Server's deadlines (chapter 15): after every read the server asks the
// DeadlineRule (ServerOptions::deadlines) where the connection's deadline is
// now, and keeps one timer per connection armed for it. When it fires: 408
// and close for a request that took too long to arrive, a quiet close for an
// idle keep-alive connection, and for a client that stopped reading its
// answers, a close once it has taken nothing for the idle time.
#include <algorithm>
#include <chrono>
#include <utility>

#include "http/server_state.hpp"

namespace http {

void Server::State::consult(Connection& c, Stage stage) {
    if (options.deadlines) {
        c.deadline = options.deadlines(c.deadline_state, stage, Clock::now(), options.timeouts);
    }
}

void Server::State::arm(int fd, Connection& c) {
    if (c.deadline_timer != 0 && c.deadline == c.armed) {
        return;
    }
    loop.cancel(std::exchange(c.deadline_timer, 0));
    if (c.deadline.expiry == Expiry::none) {
        return;
    }
    const auto delay = std::chrono::ceil<std::chrono::milliseconds>(c.deadline.at - Clock::now());
    c.armed = c.deadline;
    c.sent_since_armed = false;
    c.deadline_timer = loop.after(std::max(delay, std::chrono::milliseconds(0)), [this, fd] { on_deadline(fd); });
}

void Server::State::on_deadline(int fd) {
    Connection& c = *connections.at(fd);
    c.deadline_timer = 0;
    if (!c.output.empty()) {
        // Answers are waiting for the client to read them: its own pace,
        // as long as it takes some within the idle time.
        if (!c.sent_since_armed) {
            return close(fd, "the client read none of its answers within the idle time");
        }
        c.deadline = Deadline{Clock::now() + options.timeouts.idle, Expiry::close_quietly};
        return arm(fd, c);
    }
    if (c.armed.expiry == Expiry::close_quietly) {
        return close(fd, "idle: no request within the idle time");
    }
    say("{}: 408 {}: the request took too long to arrive", c.peer, reason_phrase(408));
    c.output += serialize(Response::text("408 Request Timeout: the request took too long to arrive\n", 408), "GET",
                          true, std::chrono::system_clock::now());
    c.closing = true;
    finish_turn(fd, c);
}

}  // namespace http
