// Exercise 14 — the server around your parser and router (given, complete).
//
// Lesson 11's edge-triggered connection, speaking HTTP: each socket is
// registered once (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) and every
// handler drains until EAGAIN. Bytes read go to `input`; the parser takes
// requests from the front of it, one at a time, and each answer is appended
// to `output` in the order the requests came. The order is the whole of
// pipelining (RFC 9112 §9.3.2): a client may send three requests before
// reading anything, and matches the answers to them by position alone.
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
#include <nlohmann/json.hpp>

#include "http_server.hpp"
#include "net/address.hpp"
#include "net/error.hpp"
#include "net/tcp.hpp"

namespace http {

// ---- the small parts of the contract that need nlohmann/json.hpp --------------
// (kept out of request.cpp and router.cpp, which then compile in a blink)

nlohmann::json Request::json() const {
    try {
        return nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& error) {
        throw RequestError(400, fmt::format("the body is not JSON: {}", error.what()));
    }
}

Response Response::text(std::string body, int status) {
    Response response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

Response Response::json(const nlohmann::json& value, int status) {
    Response response;
    response.status = status;
    response.content_type = "application/json";
    response.body = value.dump();
    response.body += '\n';
    return response;
}

// ---- the server ----------------------------------------------------------------

namespace {

using namespace std::chrono_literals;

// After the last answer, how long to keep reading (and dropping) what the
// client still sends before closing: closing a socket with unread bytes
// makes the kernel send a reset, which can destroy the answer in flight.
constexpr auto lingering_close = 2s;

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
};

}  // namespace

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

    void watch_listener() {
        loop.watch(listener.get(), EPOLLIN, [this](std::uint32_t) { accept_all(); });
    }

    void accept_all() {
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
            connection->parser = RequestParser(options.limits);
            say("accepted {} (fd {})", connection->peer, fd);
            connections.emplace(fd, std::move(connection));
            loop.watch(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, [this, fd](std::uint32_t events) { on_ready(fd, events); });
        }
    }

    void on_ready(int fd, std::uint32_t events) {
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
        if (!c.output.empty()) {
            return;  // the EPOLLOUT edge brings us back
        }
        if (c.peer_closed) {
            return close(fd, "the client closed");
        }
        if (c.closing) {
            // Every answer went. Say we are done, then wait for the client's
            // FIN (dropping what it still sends) before closing.
            ::shutdown(fd, SHUT_WR);
            c.write_shut = true;
            c.linger_timer = loop.after(lingering_close, [this, fd] {
                connections.at(fd)->linger_timer = 0;
                close(fd, "the client did not close within the lingering time");
            });
            drain_before_close(fd);
        }
    }

    // Parses and answers every complete request in `input`, in order, until
    // the output is full or the connection is to close.
    void answer_buffered(Connection& c) {
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
            Response response = router.dispatch(request);
            if (request.keep_alive && request.minor_version == 0) {
                // An HTTP/1.0 client closes after each answer unless this says otherwise (RFC 9112 §9.3).
                response.headers.push_back({"Connection", "keep-alive"});
            }
            const bool close = !request.keep_alive;
            c.output += serialize(response, request.method, close, std::chrono::system_clock::now());
            ++requests;
            say("{}: {} {} -> {} ({} bytes)", c.peer, request.method, request.target, response.status, response.body.size());
            c.closing = close;
        }
        c.input.erase(0, parsed);
    }

    // Sends what the kernel takes; false when the connection failed.
    bool flush(Connection& c) {
        std::size_t sent = 0;
        while (sent < c.output.size()) {
            const ssize_t n = ::send(c.socket.get(), c.output.data() + sent, c.output.size() - sent, MSG_NOSIGNAL);
            if (n >= 0) {
                sent += static_cast<std::size_t>(n);
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;
            } else if (errno != EINTR) {
                return false;
            }
        }
        c.output.erase(0, sent);
        return true;
    }

    void drain_before_close(int fd) {
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

    void close(int fd, std::string_view why) {
        const auto found = connections.find(fd);
        say("{}: closed (fd {}): {}", found->second->peer, fd, why);
        loop.cancel(found->second->linger_timer);
        loop.unwatch(fd);
        connections.erase(found);
    }
};

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
        s.loop.unwatch(fd);
    }
}

std::size_t Server::connections() const noexcept { return state_->connections.size(); }
std::uint64_t Server::requests() const noexcept { return state_->requests; }

}  // namespace http
