#pragma once
// Lesson 15's server (common/http's http::Server with the learner's framing,
// static files and deadlines plugged in) on an event loop of its own thread,
// and a client-side reader of its answers that trusts nothing: it frames each
// response by its own Content-Length, so a smuggled second response shows up
// as one more reply, never hidden inside the first. (Lesson 14's
// http_fixture.hpp, for the common/http server.)
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <stdexcept>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "background.hpp"
#include "harness.hpp"
#include "hardening.hpp"
#include "net/error.hpp"
#include "net/event_loop.hpp"
#include "net/fd.hpp"

namespace fixtures15 {

class HttpServer {
public:
    // `socket_buffer` > 0: SO_SNDBUF and SO_RCVBUF of the listener, which
    // accepted sockets inherit (no autotuning to megabytes on loopback).
    explicit HttpServer(http::Router router, http::ServerOptions options = {}, int socket_buffer = 0)
        : router_(std::move(router)), options_(std::move(options)),
          server_([this](int listener, const std::atomic<bool>& stop) { return serve(listener, stop); }) {
        if (socket_buffer > 0) {
            for (const int option : {SO_SNDBUF, SO_RCVBUF}) {
                net::check(::setsockopt(server_.listener(), SOL_SOCKET, option, &socket_buffer, sizeof socket_buffer),
                           "setsockopt");
            }
        }
    }
    [[nodiscard]] std::uint16_t port() const noexcept { return server_.port(); }
    std::size_t stop() { return server_.stop(); }

private:
    std::size_t serve(int listener, const std::atomic<bool>& stop) {
        net::EventLoop loop;
        http::Server server(loop, net::Fd(net::check(::dup(listener), "dup")), router_, options_);
        while (!stop) {
            loop.run_once(std::chrono::milliseconds(50));
        }
        return static_cast<std::size_t>(server.requests());
    }

    http::Router router_;
    http::ServerOptions options_;
    harness::BackgroundTcpServer server_;  // last: its thread uses everything above
};

inline bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

struct Reply {
    std::string status_line;  // "HTTP/1.1 200 OK"
    int status = 0;
    std::vector<http::Field> headers;
    std::string body;

    [[nodiscard]] const std::string* header(std::string_view name) const {
        for (const http::Field& field : headers) {
            if (iequals(field.name, name)) {
                return &field.value;
            }
        }
        return nullptr;
    }
    [[nodiscard]] bool closes() const {
        const std::string* connection = header("Connection");
        return connection != nullptr && iequals(*connection, "close");
    }
};

// Reads the server's answers one after another from `client`: the head up to
// the empty line, then exactly Content-Length bytes (none for HEAD).
class ReplyReader {
public:
    explicit ReplyReader(harness::Client& client) : client_(client) {}

    Reply next(bool to_head = false, harness::milliseconds timeout = harness::default_timeout) {
        const harness::Deadline deadline(timeout);
        std::size_t end = 0;
        while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
            receive(deadline, "the head of a response");
        }
        Reply reply;
        std::string_view head = std::string_view(buffer_).substr(0, end + 2);
        std::size_t line_end = head.find("\r\n");
        reply.status_line = head.substr(0, line_end);
        if (reply.status_line.size() < 12 || reply.status_line.compare(0, 9, "HTTP/1.1 ") != 0) {
            throw std::runtime_error("not a status line: \"" + harness::escape(reply.status_line) + "\"");
        }
        reply.status = std::stoi(reply.status_line.substr(9, 3));
        head.remove_prefix(line_end + 2);
        while (!head.empty()) {
            line_end = head.find("\r\n");
            const std::string_view line = head.substr(0, line_end);
            const std::size_t colon = line.find(':');
            if (colon == std::string_view::npos) {
                throw std::runtime_error("not a field line: \"" + harness::escape(line) + "\"");
            }
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') {
                value.remove_prefix(1);
            }
            reply.headers.push_back({std::string(line.substr(0, colon)), std::string(value)});
            head.remove_prefix(line_end + 2);
        }
        buffer_.erase(0, end + 4);
        const std::string* length = reply.header("Content-Length");
        const bool no_body = to_head || reply.status == 304 || reply.status == 204 || reply.status < 200;
        const std::size_t body = no_body || length == nullptr ? 0 : std::stoul(*length);
        while (buffer_.size() < body) {
            receive(deadline, "the body of a response");
        }
        reply.body = buffer_.substr(0, body);
        buffer_.erase(0, body);
        return reply;
    }
    // Bytes received past the last response read.
    [[nodiscard]] const std::string& leftover() const noexcept { return buffer_; }

private:
    void receive(const harness::Deadline& deadline, std::string_view what) {
        const std::string more = client_.recv_some(std::max(deadline.remaining(), harness::milliseconds(1)));
        if (more.empty()) {
            throw std::runtime_error("the server closed the connection before " + std::string(what) + " was complete");
        }
        buffer_ += more;
    }

    harness::Client& client_;
    std::string buffer_;
};

}  // namespace fixtures15
