// http::Server — chapter 14's given server (exercises/14-http-server/server.cpp),
// moved to common/. Lesson 11's edge-triggered connection, speaking HTTP:
// requests answered in order (pipelining, RFC 9112 §9.3.2), backpressure, a
// lingering close. Chapter 15 adds the hooks: the parser's FramingRule, and
// the DeadlineRule consulted after every read to arm the connection's timer
// (408 and close for a request too slow to arrive, a quiet close when idle).
// Chapter 16 adds the upgrade: a 101 with Response::upgrade set hands the
// connection over once the 101 is out (hand_over).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include <fmt/core.h>

#include "http/server_state.hpp"
#include "net/address.hpp"
#include "net/error.hpp"
#include "net/tcp.hpp"

namespace http {

using namespace std::chrono_literals;

void Server::State::watch_listener() {
    loop.watch(listener.get(), EPOLLIN, [this](std::uint32_t) { accept_all(); });
}

void Server::State::accept_all() {
    for (;;) {
        net::Address peer;
        peer.length = sizeof peer.storage;
        const int fd = ::accept4(listener.get(), peer.get(), &peer.length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }
            if (errno == EINTR || net::is_per_client_accept_error(errno)) {
                continue;
            }
            if (errno != EMFILE && errno != ENFILE) {
                net::throw_errno("accept4");
            }
            // Out of descriptors: the client waits in the queue. Stop
            // watching the listener (level-triggered, it would wake us in
            // a spin) and look again in 100 ms.
            say("accept4: {}: not accepting for 100 ms", std::strerror(errno));
            loop.unwatch(listener.get());
            resume_accepting = loop.after(100ms, [this] {
                resume_accepting = 0;
                watch_listener();
            });
            return;
        }
        const int on = 1;
        net::check(::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on), "setsockopt TCP_NODELAY");
        auto connection = std::make_unique<Connection>();
        connection->socket.reset(fd);
        connection->peer = net::to_string(peer);
        connection->parser = RequestParser(ParserOptions{options.limits, options.framing, options.strict_line_ends});
        Connection& c = *connection;
        say("accepted {} (fd {})", connection->peer, fd);
        connections.emplace(fd, std::move(connection));
        loop.watch(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, [this, fd](std::uint32_t events) { on_ready(fd, events); });
        consult(c, Stage::idle);
        arm(fd, c);
    }
}

void Server::State::on_ready(int fd, std::uint32_t events) {
    const auto found = connections.find(fd);
    if (found == connections.end()) {
        return;
    }
    Connection& c = *found->second;
    if (!flush(c)) {
        return close(fd, "send failed");
    }
    if (c.write_shut) {
        return drain_before_close(fd);
    }
    for (;;) {
        answer_buffered(c);  // requests left waiting while output was full
        while (!c.closing && !c.peer_closed && c.output.size() < options.output_limit) {
            char buffer[64 * 1024];
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n > 0) {
                c.input.append(buffer, static_cast<std::size_t>(n));
                answer_buffered(c);
                if (static_cast<std::size_t>(n) < sizeof buffer && (events & EPOLLRDHUP) == 0) {
                    break;  // a short read emptied the socket: the next bytes make a new edge
                }
                continue;
            }
            if (n == 0) {
                if (!c.parser.idle() || !c.input.empty()) {
                    return close(fd, "the client closed in the middle of a request");
                }
                c.peer_closed = true;
                break;
            }
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;  // drained: the next bytes make a new edge
            }
            return close(fd, fmt::format("recv: {}", std::strerror(errno)));
        }
        // A full output stopped the answering and the reading. If the kernel now
        // takes all of it without an EAGAIN, no EPOLLOUT edge will come, and the
        // bytes still unread made their edge long ago: go round again.
        const bool held = c.output.size() >= options.output_limit;
        if (!flush(c)) {
            return close(fd, "send failed");
        }
        if (!held || !c.output.empty() || c.closing) {
            break;
        }
    }
    if (!c.closing && !c.peer_closed) {
        consult(c, c.parser.stage());  // after every read: the deadline of where the request is now
        arm(fd, c);
    }
    finish_turn(fd, c);
}

void Server::State::finish_turn(int fd, Connection& c) {
    if (!flush(c)) {
        return close(fd, "send failed");
    }
    if (!c.output.empty()) {
        return;  // the EPOLLOUT edge brings us back
    }
    if (c.upgrade) {
        return hand_over(fd, c);  // the 101 is out: the connection speaks another protocol now
    }
    if (c.peer_closed) {
        return close(fd, "the client closed");
    }
    if (c.closing) {
        // Every answer went. Say we are done, then wait for the client's
        // FIN (dropping what it still sends) before closing.
        ::shutdown(fd, SHUT_WR);
        c.write_shut = true;
        loop.cancel(std::exchange(c.deadline_timer, 0));  // the lingering time is the last deadline
        c.linger_timer = loop.after(lingering_close, [this, fd] {
            connections.at(fd)->linger_timer = 0;
            close(fd, "the client did not close within the lingering time");
        });
        drain_before_close(fd);
    }
}

void Server::State::answer_buffered(Connection& c) {
    std::size_t parsed = 0;
    while (parsed < c.input.size() && !c.closing && c.output.size() < options.output_limit) {
        try {
            parsed += c.parser.feed(std::string_view(c.input).substr(parsed));
        } catch (const RequestError& error) {
            say("{}: {} {}: {}", c.peer, error.status(), reason_phrase(error.status()), error.what());
            c.output += serialize(Response::text(fmt::format("{} {}: {}\n", error.status(),
                                                             reason_phrase(error.status()), error.what()),
                                                 error.status()),
                                  "GET", true, std::chrono::system_clock::now());
            c.closing = true;
            break;
        }
        if (!c.parser.done()) {
            break;  // the rest of this request is still on its way
        }
        Request request = c.parser.take();
        consult(c, Stage::idle);  // a request is complete: the next one starts from nothing
        Response response = router.dispatch(request);
        if (request.keep_alive && request.minor_version == 0) {
            // An HTTP/1.0 client closes after each answer unless this says otherwise (RFC 9112 §9.3).
            response.headers.push_back({"Connection", "keep-alive"});
        }
        const bool upgrading = response.status == 101 && response.upgrade;
        const bool close = !request.keep_alive && !upgrading;
        c.output += serialize(response, request.method, close, std::chrono::system_clock::now());
        ++requests;
        say("{}: {} {} -> {} ({} bytes)", c.peer, request.method, request.target, response.status, response.body.size());
        c.closing = close || upgrading;  // after a 101, no more HTTP: the bytes left are the new protocol's
        if (upgrading) {
            c.upgrade = response.upgrade;
        }
    }
    c.input.erase(0, parsed);
}

bool Server::State::flush(Connection& c) {
    std::size_t sent = 0;
    while (sent < c.output.size()) {
        const ssize_t n = ::send(c.socket.get(), c.output.data() + sent, c.output.size() - sent, MSG_NOSIGNAL);
        if (n >= 0) {
            sent += static_cast<std::size_t>(n);
            c.sent_since_armed = true;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else if (errno != EINTR) {
            return false;
        }
    }
    c.output.erase(0, sent);
    return true;
}

void Server::State::drain_before_close(int fd) {
    for (;;) {
        char buffer[16 * 1024];
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n > 0 || (n < 0 && errno == EINTR)) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        return close(fd, n == 0 ? "closed after the last answer" : "reset after the last answer");
    }
}

void Server::State::close(int fd, std::string_view why) {
    const auto found = connections.find(fd);
    say("{}: closed (fd {}): {}", found->second->peer, fd, why);
    loop.cancel(found->second->linger_timer);
    loop.cancel(found->second->deadline_timer);
    loop.unwatch(fd);
    connections.erase(found);
}

void Server::State::hand_over(int fd, Connection& c) {
    auto upgrade = std::exchange(c.upgrade, {});
    net::Fd socket = std::move(c.socket);
    std::string already_read = std::move(c.input);
    say("{}: upgraded (fd {}), {} bytes already read go with it", c.peer, fd, already_read.size());
    loop.cancel(c.linger_timer);
    loop.cancel(c.deadline_timer);
    loop.unwatch(fd);
    connections.erase(fd);  // `c` is gone: only the locals above are left
    upgrade(std::move(socket), std::move(already_read));
}

Server::Server(net::EventLoop& loop, net::Fd listener, const Router& router, ServerOptions options)
    : state_(std::make_unique<State>(loop, std::move(listener), router, std::move(options))) {
    const int fd = state_->listener.get();
    net::check(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK), "fcntl O_NONBLOCK");
    state_->watch_listener();
}

Server::~Server() {
    State& s = *state_;
    s.loop.cancel(s.resume_accepting);
    if (s.loop.watching(s.listener.get())) {
        s.loop.unwatch(s.listener.get());
    }
    for (auto& [fd, connection] : s.connections) {
        s.loop.cancel(connection->linger_timer);
        s.loop.cancel(connection->deadline_timer);
        s.loop.unwatch(fd);
    }
}

std::size_t Server::connections() const noexcept { return state_->connections.size(); }
std::uint64_t Server::requests() const noexcept { return state_->requests; }

}  // namespace http
