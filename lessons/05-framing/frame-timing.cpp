// frame-timing — why a frame goes out in one call: Nagle's algorithm meets
// delayed ACKs when a header and its payload are sent in two.
//
//     frame-timing                   20 request/response round trips per way of sending
//     frame-timing --rounds 200      more of them
//
// A server thread answers every frame with a small frame, in one send(). The
// client times round trips (send a frame, read the answer) four ways:
// send(header) then send(payload); one send() of both; writev() of both; and
// two sends again with TCP_NODELAY. With two sends, the payload waits in the
// client's kernel until the header is acknowledged (Nagle, RFC 896), and the
// server's kernel delays that ACK, hoping to send it with data (RFC 1122
// 4.2.3.2; at least 40 ms on Linux). The server has nothing to send before the
// payload arrives, so every round trip waits out the delayed-ACK timer.
#include <algorithm>
#include <exception>
#include <array>
#include <chrono>
#include <cstdint>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/uio.h>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/stream.hpp"
#include "net/tcp.hpp"

namespace {

enum class Way { two_sends, one_send, writev, two_sends_nodelay };

constexpr std::array ways{Way::two_sends, Way::one_send, Way::writev, Way::two_sends_nodelay};

std::string_view describe(Way way) {
    switch (way) {
        case Way::two_sends: return "send(header); send(payload)";
        case Way::one_send: return "send(header + payload)";
        case Way::writev: return "writev({header, payload})";
        case Way::two_sends_nodelay: return "two sends, TCP_NODELAY";
    }
    return "?";
}

// Fills `into`; false if the peer closed first. MSG_WAITALL makes one blocking
// recv() wait for all of it; only the end of the stream, an error or a caught
// signal (this program catches none) return less.
bool recv_all(int fd, std::span<char> into) {
    const ssize_t n = net::check(::recv(fd, into.data(), into.size(), MSG_WAITALL), "recv");
    if (n == 0) {
        return false;
    }
    if (static_cast<std::size_t>(n) != into.size()) {
        throw std::runtime_error(fmt::format("recv: {} of {} bytes, then the end", n, into.size()));
    }
    return true;
}

std::array<char, 4> be32(std::uint32_t value) {
    return {static_cast<char>(value >> 24), static_cast<char>(value >> 16), static_cast<char>(value >> 8),
            static_cast<char>(value)};
}

// The server: one connection per way of sending; each frame gets the 6-byte
// answer frame "ok", written with ONE send.
void serve(const net::Fd& listener, std::size_t connections) {
    const std::string answer = std::string(be32(2).data(), 4) + "ok";
    std::string payload;
    for (std::size_t i = 0; i < connections; ++i) {
        const net::Accepted client = net::accept_client(listener.get());
        if (!client) {
            throw std::runtime_error("accept failed");
        }
        for (std::array<char, 4> header{}; recv_all(client.connection.get(), header);) {
            const auto byte = [&header](std::size_t k) { return std::uint32_t{static_cast<unsigned char>(header[k])}; };
            payload.resize((byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3));
            if (!recv_all(client.connection.get(), payload)) {
                throw std::runtime_error("the client closed between a header and its payload");
            }
            net::send_all(client.connection.get(), answer);
        }
    }
}

void send_frame(int fd, Way way, const std::array<char, 4>& header, const std::string& payload) {
    const std::string_view head(header.data(), header.size());
    if (way == Way::one_send) {
        net::send_all(fd, std::string(head) + payload);  // one buffer: one call
    } else if (way == Way::writev) {
        std::array<iovec, 2> pieces{iovec{const_cast<char*>(header.data()), header.size()},
                                    iovec{const_cast<char*>(payload.data()), payload.size()}};
        // Both pieces in one call, without copying them together. A blocking
        // socket takes a frame this small whole; check it all the same.
        const ssize_t n = net::check(::writev(fd, pieces.data(), static_cast<int>(pieces.size())), "writev");
        if (static_cast<std::size_t>(n) != header.size() + payload.size()) {
            throw std::runtime_error(fmt::format("writev took {} bytes of {}", n, header.size() + payload.size()));
        }
    } else {
        net::send_all(fd, head);  // the header goes out at once: nothing is unacknowledged yet
        net::send_all(fd, payload);  // Nagle holds this until the header's ACK comes back
    }
}

// `rounds` round trips on a new connection; the time each one took.
std::vector<std::chrono::duration<double, std::milli>> time_round_trips(const std::string& host, std::uint16_t port,
                                                                        Way way, int rounds, std::size_t size) {
    const net::Fd sock = net::connect_tcp(host, port);
    if (way == Way::two_sends_nodelay) {
        const int on = 1;
        // Send every segment at once, acknowledged or not: Nagle off.
        net::check(::setsockopt(sock.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on), "setsockopt TCP_NODELAY");
    }
    const std::string payload(size, 'x');
    const std::array<char, 4> header = be32(static_cast<std::uint32_t>(size));
    std::array<char, 6> answer{};
    std::vector<std::chrono::duration<double, std::milli>> times;
    for (int i = 0; i < rounds; ++i) {
        const auto start = std::chrono::steady_clock::now();
        send_frame(sock.get(), way, header, payload);
        if (!recv_all(sock.get(), answer)) {
            throw std::runtime_error("the server closed the connection");
        }
        times.emplace_back(std::chrono::steady_clock::now() - start);
    }
    return times;
}

int run(const net::Args& args) {
    const auto rounds = static_cast<int>(args.integer("--rounds", 1, 10'000));
    const auto size = static_cast<std::size_t>(args.integer("--size", 1, 1 << 20));

    const net::Fd listener = net::listen_tcp(args.host(), args.port());
    net::log::info("server on {}: answers each frame with a 6-byte frame, in one send()",
                   net::to_string(net::local_address(listener.get())));
    net::log::info("{} round trips each: send a frame with a {}-byte payload, read the answer\n", rounds, size);

    std::exception_ptr server_error;
    std::jthread server_thread([&] {
        try {
            serve(listener, ways.size());
        } catch (...) {
            server_error = std::current_exception();
        }
    });
    for (const Way way : ways) {
        auto times = time_round_trips(args.host(), net::local_port(listener.get()), way, rounds, size);
        double total = 0;
        for (const auto& t : times) {
            total += t.count();
        }
        std::ranges::nth_element(times, times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2));
        const double median = times[times.size() / 2].count();
        net::log::step("{:<30} {:9.1f} ms in all, {:7.3f} ms per round trip (median)", describe(way), total, median);
    }
    server_thread.join();
    if (server_error) {
        std::rethrow_exception(server_error);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "frame-timing",
        .summary = "Times request/response round trips over loopback with each frame sent in\n"
                   "two send() calls, in one, with writev(), and in two with TCP_NODELAY.",
        .options = {{"--rounds", "N", "round trips per way of sending", "20"},
                    {"--size", "BYTES", "each frame's payload", "100"}},
    };
    return net::run_main(argc, argv, usage, run);
}
