#pragma once
// Lesson 16's peers: a WebSocket server (common/http's http::Server with a
// ws::Room on /ws, the learner's handshake and FrameDecoder inside) on an
// event loop of its own thread, and a client written here that masks its
// frames and reads the server's with a deadline on every step.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/core.h>

#include "background.hpp"
#include "harness.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "net/error.hpp"
#include "net/event_loop.hpp"
#include "room.hpp"
#include "websocket.hpp"

namespace fixtures16 {

// A client frame, masked with `key` unless `masked` is false.
inline std::string client_frame(ws::Opcode opcode, std::string_view payload, bool fin = true,
                                std::uint32_t key = 0x37fa213d, bool masked = true) {
    std::string frame;
    frame += static_cast<char>((fin ? 0x80 : 0) | static_cast<std::uint8_t>(opcode));
    const std::uint8_t mask_bit = masked ? 0x80 : 0;
    const std::uint64_t length = payload.size();
    if (length <= 125) {
        frame += static_cast<char>(mask_bit | length);
    } else if (length <= 0xFFFF) {
        frame += static_cast<char>(mask_bit | 126);
        frame += static_cast<char>(length >> 8);
        frame += static_cast<char>(length & 0xFF);
    } else {
        frame += static_cast<char>(mask_bit | 127);
        for (int shift = 56; shift >= 0; shift -= 8) {
            frame += static_cast<char>((length >> shift) & 0xFF);
        }
    }
    const char k[4] = {static_cast<char>(key >> 24), static_cast<char>(key >> 16), static_cast<char>(key >> 8),
                       static_cast<char>(key)};
    if (masked) {
        frame.append(k, 4);
    }
    for (std::size_t i = 0; i < payload.size(); ++i) {
        frame += masked ? static_cast<char>(payload[i] ^ k[i % 4]) : payload[i];
    }
    return frame;
}

inline std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
    std::string payload{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
    return payload + std::string(reason);
}

// A server frame as the client reads it.
struct Frame {
    bool fin = false;
    std::uint8_t opcode = 0;
    std::string payload;
    [[nodiscard]] std::uint16_t close_code() const {
        return payload.size() < 2 ? 0
                                  : static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                                               static_cast<std::uint8_t>(payload[1]));
    }
};

inline const std::string sample_key = "dGhlIHNhbXBsZSBub25jZQ==";

inline std::string upgrade_request(std::string_view path = "/ws") {
    return fmt::format("GET {} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
                       "Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n\r\n",
                       path, sample_key);
}

class WsClient {
public:
    explicit WsClient(std::uint16_t port) : client_(harness::Client::connect(port)) {}

    // Sends the upgrade (with `first_bytes` right behind it, in the same
    // send) and reads the head of the answer: "" when it is a 101 with the
    // right Sec-WebSocket-Accept, else the head for the failure report.
    std::string open(std::string_view first_bytes = {}) {
        client_.send(upgrade_request() + std::string(first_bytes));
        const harness::Deadline deadline(harness::default_timeout);
        std::size_t end = 0;
        while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
            receive(deadline, "the 101");
        }
        std::string head = buffer_.substr(0, end + 4);
        buffer_.erase(0, end + 4);
        const bool ok = head.rfind("HTTP/1.1 101 ", 0) == 0 &&
                        head.find("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != std::string::npos;
        if (!ok) {
            harness::rethrow_server_failure();  // a 500 from a handshake that threw: say why
        }
        return ok ? "" : head;
    }

    void send(std::string_view bytes) { client_.send(bytes); }
    void send_text(std::string_view text) { client_.send(client_frame(ws::Opcode::text, text)); }

    Frame read_frame(harness::milliseconds timeout = harness::default_timeout) {
        const harness::Deadline deadline(timeout);
        while (buffer_.size() < 2) {
            receive(deadline, "a frame's header");
        }
        const auto b1 = static_cast<std::uint8_t>(buffer_[1]);
        if ((b1 & 0x80) != 0) {
            throw std::runtime_error("the server masked a frame (RFC 6455 §5.1 forbids it)");
        }
        const std::size_t extra = (b1 & 0x7F) == 126 ? 2 : (b1 & 0x7F) == 127 ? 8 : 0;
        while (buffer_.size() < 2 + extra) {
            receive(deadline, "a frame's length");
        }
        std::uint64_t length = b1 & 0x7F;
        if (extra > 0) {
            length = 0;
            for (std::size_t i = 0; i < extra; ++i) {
                length = (length << 8) | static_cast<std::uint8_t>(buffer_[2 + i]);
            }
        }
        while (buffer_.size() < 2 + extra + length) {
            receive(deadline, "a frame's payload");
        }
        Frame frame;
        frame.fin = (static_cast<std::uint8_t>(buffer_[0]) & 0x80) != 0;
        frame.opcode = static_cast<std::uint8_t>(buffer_[0]) & 0x0F;
        frame.payload = buffer_.substr(2 + extra, static_cast<std::size_t>(length));
        buffer_.erase(0, 2 + extra + static_cast<std::size_t>(length));
        return frame;
    }

    // The server's close frame, then its FIN: the code it closed with.
    std::uint16_t read_close() {
        const Frame frame = read_frame();
        if (frame.opcode != 0x8) {
            throw std::runtime_error(fmt::format("expected a close frame, got opcode {}: \"{}\"", frame.opcode,
                                                 harness::escape(frame.payload)));
        }
        client_.expect_eof();
        return frame.close_code();
    }

    harness::Client& raw() noexcept { return client_; }

private:
    void receive(const harness::Deadline& deadline, std::string_view what) {
        const std::string more = client_.recv_some(std::max(deadline.remaining(), harness::milliseconds(1)));
        if (more.empty()) {
            // A server that threw closed its sockets as it unwound: its reason first.
            harness::rethrow_server_failure(harness::milliseconds(500));
            throw std::runtime_error("the server closed the connection before " + std::string(what));
        }
        buffer_ += more;
    }

    harness::Client client_;
    std::string buffer_;
};

// common/http's server with a ws::Room on /ws that echoes every message back
// to its sender, and a plain route on /hello; on its own thread.
class EchoServer {
public:
    explicit EchoServer(std::size_t max_message = 1 << 20, std::size_t output_limit = 4 << 20)
        : max_message_(max_message), output_limit_(output_limit),
          server_([this](int listener, const std::atomic<bool>& stop) { return serve(listener, stop); }) {}
    [[nodiscard]] std::uint16_t port() const noexcept { return server_.port(); }
    std::size_t stop() { return server_.stop(); }

private:
    std::size_t serve(int listener, const std::atomic<bool>& stop) {
        net::EventLoop loop;
        ws::RoomOptions options;
        options.max_message = max_message_;
        options.output_limit = output_limit_;
        options.close_timeout = std::chrono::milliseconds(1000);
        ws::Room room(loop, [](ws::Room& r, ws::Room::Id from, const ws::Message& m) {
            if (m.payload == "/all") {
                r.broadcast(m.opcode, "to everyone");
            } else {
                r.send(from, m.opcode, m.payload);
            }
        }, options);
        http::Router router;
        router.get("/ws", [&room](const http::Request& request) {
            // The router would turn a failure of your handshake into a 500:
            // recorded first, the test's waits report it (a "not started" among them).
            http::Response response;
            harness::run_recording_failure([&] { response = room.accept(request); });
            return response;
        });
        router.get("/hello", [](const http::Request&) { return http::Response::text("hello\n"); });
        http::Server server(loop, net::Fd(net::check(::dup(listener), "dup")), router);
        while (!stop) {
            loop.run_once(std::chrono::milliseconds(50));
        }
        return room.size();
    }

    std::size_t max_message_;
    std::size_t output_limit_;
    harness::BackgroundTcpServer server_;  // last: its thread uses everything above
};

}  // namespace fixtures16
