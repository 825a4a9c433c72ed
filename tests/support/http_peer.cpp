// The scripted HTTP server of http_peer.hpp.
#include "http_peer.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <system_error>

#include <poll.h>
#include <sys/socket.h>

#include <fmt/core.h>

#include "net/error.hpp"
#include "net/stream.hpp"
#include "waits.hpp"

namespace harness {
namespace {

std::size_t http_content_length(std::string_view head) {
    std::string lower(head);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::size_t at = lower.find("\ncontent-length:");
    if (at == std::string::npos) {
        return 0;
    }
    return static_cast<std::size_t>(std::stoul(lower.substr(at + 16)));
}

// One recv after waiting for input; "" on EOF.
std::string http_recv_within(int fd, const Deadline& deadline, std::string_view step) {
    wait_readable(fd, deadline, step);
    char buffer[4096];
    const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got < 0) {
        throw std::system_error(errno, std::generic_category(), fmt::format("recv ({})", step));
    }
    return std::string(buffer, static_cast<std::size_t>(got));
}

}  // namespace

std::string read_http_request(int fd, milliseconds timeout) {
    const Deadline deadline(timeout);
    std::string request;
    std::size_t end = std::string::npos;
    // One byte at a time: the next request on this connection must stay in the socket.
    while ((end = request.find("\r\n\r\n")) == std::string::npos) {
        wait_readable(fd, deadline, "the scripted HTTP server reads a request");
        char byte = 0;
        const ssize_t got = ::recv(fd, &byte, 1, 0);
        if (got <= 0) {
            if (request.empty()) {
                return "";
            }
            throw std::runtime_error(fmt::format("the client closed in the middle of a request: {}", escape(request)));
        }
        request += byte;
    }
    const std::size_t total = end + 4 + http_content_length(request.substr(0, end + 4));
    while (request.size() < total) {
        const std::string more = http_recv_within(fd, deadline, "the scripted HTTP server reads a request body");
        if (more.empty()) {
            throw std::runtime_error("the client closed in the middle of a request body");
        }
        request += more;
    }
    return request;
}

std::vector<std::size_t> every_byte(std::string_view bytes) {
    std::vector<std::size_t> cuts;
    for (std::size_t at = 1; at < bytes.size(); ++at) {
        cuts.push_back(at);
    }
    return cuts;
}

HttpPeer::HttpPeer(std::vector<HttpConnection> script, std::string_view host)
    : host_(host), server_([this, script = std::move(script)](int listener) { run(listener, script); }, host) {}

std::string HttpPeer::url(std::string_view path) const {
    const std::string name = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
    return fmt::format("http://{}:{}{}", name, port(), path);
}

void HttpPeer::join(milliseconds timeout) { server_.join(timeout); }

int HttpPeer::accepts() const {
    const std::lock_guard lock(mutex_);
    return accepts_;
}

bool HttpPeer::connection_waiting() const {
    pollfd listener{server_.listener(), POLLIN, 0};
    return ::poll(&listener, 1, 0) == 1;
}

std::vector<std::string> HttpPeer::requests() const {
    const std::lock_guard lock(mutex_);
    return requests_;
}

void HttpPeer::run(int listener, const std::vector<HttpConnection>& script) {
    for (const HttpConnection& connection : script) {
        net::Fd client = accept_within(listener);
        {
            const std::lock_guard lock(mutex_);
            ++accepts_;
        }
        for (const HttpTurn& turn : connection.turns) {
            if (turn.read_request) {
                const std::string request = read_http_request(client.get());
                const std::lock_guard lock(mutex_);
                requests_.push_back(request);
            }
            std::vector<std::size_t> cuts = turn.cuts;
            cuts.push_back(turn.reply.size());
            int reader = -1;  // the client's socket, when it lives in this process
            std::size_t from = 0;
            for (const std::size_t cut : cuts) {
                if (cut <= from || cut > turn.reply.size()) {
                    continue;
                }
                try {
                    net::send_all(client.get(), std::string_view(turn.reply).substr(from, cut - from));
                } catch (const std::system_error&) {
                    break;  // the client gave up (a test of a bad response); nothing more to say
                }
                from = cut;
                if (cut < turn.reply.size()) {
                    // The next piece must arrive in a recv of its own.
                    if (reader < 0) {
                        reader = wait_for_peer_socket(client.get(), "the scripted HTTP server finds the client");
                    }
                    if (reader >= 0) {
                        try {
                            wait_until_read(client.get(), reader, "the client reads a piece of the reply");
                        } catch (const Timeout&) {
                            break;  // the client stopped reading (it judged the reply already)
                        }
                    }
                }
            }
        }
        if (connection.after == HttpConnection::After::reset) {
            const linger hard{1, 0};
            ::setsockopt(client.get(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        } else if (connection.after == HttpConnection::After::keep_open) {
            const Deadline deadline(connection.linger);
            try {
                while (!http_recv_within(client.get(), deadline, "a kept-alive connection, until the client closes").empty()) {
                }
            } catch (const std::exception&) {
                // The client kept it longer (or reset it): either is fine for a kept-alive connection.
            }
        }
    }
}

}  // namespace harness
