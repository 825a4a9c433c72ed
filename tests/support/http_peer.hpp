#pragma once
// A scripted HTTP server for the HTTP client lessons (13, and 14's client
// test): it accepts the connections of its script in order, reads one request
// per turn, plays back the reply bytes it was given — in pieces cut where the
// test says, each piece read by the client before the next is sent — and then
// keeps the connection open, closes it, or resets it. It records every
// request and counts its accepts, so a test can say "two requests, one
// connection".
//
//     harness::HttpPeer peer({{.turns = {{.reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"}}}});
//     auto response = http::get(fmt::format("http://127.0.0.1:{}/", peer.port()));
//     peer.join();
//     CHECK(peer.requests().size() == 1);

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "harness.hpp"

namespace harness {

struct HttpTurn {
    std::string reply;                    // the bytes to send back
    std::vector<std::size_t> cuts = {};   // offsets into reply where a new piece starts
    bool read_request = true;             // read one request (fields + Content-Length body) first
};

struct HttpConnection {
    enum class After { keep_open, close, reset };
    std::vector<HttpTurn> turns;
    // What the server does after its last turn. keep_open: wait (up to
    // `linger`) for the client to close first, as a kept-alive server would.
    After after = After::keep_open;
    milliseconds linger = milliseconds(1500);
};

class HttpPeer {
public:
    explicit HttpPeer(std::vector<HttpConnection> script, std::string_view host = "127.0.0.1");
    HttpPeer(const HttpPeer&) = delete;
    HttpPeer& operator=(const HttpPeer&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return server_.port(); }
    // "http://127.0.0.1:PORT" + path (or http://[::1]:PORT for ::1).
    [[nodiscard]] std::string url(std::string_view path = "/") const;
    // Waits for the script to end; re-throws what went wrong in it.
    void join(milliseconds timeout = default_timeout);
    // Connections accepted so far.
    [[nodiscard]] int accepts() const;
    // A connection waits in the listener's queue that the script never accepted.
    [[nodiscard]] bool connection_waiting() const;
    // Every request read so far, raw, in order.
    [[nodiscard]] std::vector<std::string> requests() const;

private:
    void run(int listener, const std::vector<HttpConnection>& script);

    std::string host_;
    mutable std::mutex mutex_;
    int accepts_ = 0;
    std::vector<std::string> requests_;
    LoopbackServer server_;
};

// Reads one HTTP request from `fd` (up to the empty line, then a
// Content-Length body) within `timeout`; "" when the client closed before
// sending anything.
[[nodiscard]] std::string read_http_request(int fd, milliseconds timeout = default_timeout);

// `bytes` cut into single bytes: the pieces a client would get from the
// slowest network (offsets for HttpTurn::cuts).
[[nodiscard]] std::vector<std::size_t> every_byte(std::string_view bytes);

}  // namespace harness
