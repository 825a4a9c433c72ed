// frame-server — reads length-prefixed frames and answers each with a frame.
//
//     frame-server --port 5000          then:  frame-client --port 5000
//     frame-server --port 5000 --naive         one recv() = one frame: watch it fail
//
// A frame is a 4-byte big-endian length, then that many bytes of payload. The
// server reads exactly 4 bytes, checks the length against --max-frame *before*
// it allocates anything, reads exactly that many bytes, and answers with a
// frame of its own. With --naive it does what chapter 03 warned about instead.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"
#include "net/stream.hpp"
#include "net/tcp.hpp"

namespace {

// Fills `into` completely. False if the peer closed before the first byte
// (a clean end between frames); throws if it closed part-way.
bool recv_exact(int fd, std::span<char> into) {
    std::size_t received = 0;
    while (received < into.size()) {
        const ssize_t n = ::recv(fd, into.data() + received, into.size() - received, 0);
        if (n < 0) {
            if (errno == EINTR && !net::stop_requested()) {
                continue;
            }
            net::throw_errno("recv");
        }
        if (n == 0) {
            if (received == 0) {
                return false;
            }
            throw std::runtime_error(fmt::format("the client closed mid-frame, after {} of {}", received,
                                                 net::plural(into.size(), "byte")));
        }
        received += static_cast<std::size_t>(n);
    }
    return true;
}

// Network byte order, by shifts: the same on every machine.
std::uint32_t read_be32(const char* bytes) {
    const auto byte = [bytes](int i) { return std::uint32_t{static_cast<unsigned char>(bytes[i])}; };
    return (byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
}

std::string encode_frame(std::string_view payload) {
    const auto length = static_cast<std::uint32_t>(payload.size());
    std::string frame{static_cast<char>(length >> 24), static_cast<char>(length >> 16),
                      static_cast<char>(length >> 8), static_cast<char>(length)};
    return frame += payload;
}

void answer(int fd, int count, std::string_view payload) {
    const std::string reply = fmt::format("frame #{}: {}", count, net::plural(payload.size(), "byte"));
    net::send_all(fd, encode_frame(reply));
    net::log::step("send() = {}: a frame answering \"{}\"", net::plural(reply.size() + 4, "byte"), reply);
}

void serve_frames(const net::Fd& client, std::uint32_t max_frame) {
    for (int count = 1;; ++count) {
        char header[4];
        if (!recv_exact(client.get(), header)) {
            net::log::step("recv() = 0 between frames: the client is done");
            return;
        }
        const std::uint32_t length = read_be32(header);
        net::log::step("header {:02x} {:02x} {:02x} {:02x}: {} of payload follow",
                       static_cast<unsigned char>(header[0]), static_cast<unsigned char>(header[1]),
                       static_cast<unsigned char>(header[2]), static_cast<unsigned char>(header[3]),
                       net::plural(length, "byte"));
        // The length is the peer's claim. Check it before trusting it with memory.
        if (length > max_frame) {
            net::log::warn("{} is over the limit of {}: closing without reading or allocating it",
                           net::plural(length, "byte"), max_frame);
            return;
        }
        std::string payload(length, '\0');
        if (!recv_exact(client.get(), payload)) {
            throw std::runtime_error("the client closed between a header and its payload");
        }
        net::log::info("  frame #{}: \"{}\"", count, payload.substr(0, 60));
        answer(client.get(), count, payload);
    }
}

// The bug, on purpose: whatever one recv() returns is taken as one frame.
void serve_naively(const net::Fd& client) {
    char buffer[65536];
    for (int count = 1;; ++count) {
        const ssize_t n = ::recv(client.get(), buffer, sizeof buffer, 0);
        if (n < 0) {
            if (errno == EINTR && !net::stop_requested()) {
                continue;
            }
            net::throw_errno("recv");
        }
        if (n == 0) {
            net::log::step("recv() = 0: the client is done");
            return;
        }
        const std::string_view received(buffer, static_cast<std::size_t>(n));
        const std::uint32_t length = received.size() >= 4 ? read_be32(buffer) : 0;
        const std::string_view after_header = received.substr(std::min<std::size_t>(received.size(), 4));
        net::log::step("recv() = {}: taken as one frame of {}", net::plural(n, "byte"), net::plural(length, "byte"));
        if (after_header.size() > length) {
            net::log::warn("  but {} came after the header, not {}: the frames after it are glued on, and lost",
                           net::plural(after_header.size(), "byte"), length);
        } else if (after_header.size() < length) {
            net::log::warn("  but only {} of its {} came: the rest will be taken for a header", after_header.size(),
                           net::plural(length, "byte"));
        }
        const std::string_view payload = after_header.substr(0, length);
        net::log::info("  frame #{}: \"{}\"", count, payload.substr(0, 60));
        answer(client.get(), count, payload);
    }
}

int serve(const net::Args& args) {
    net::stop_on_signals();
    const auto max_frame = static_cast<std::uint32_t>(args.integer("--max-frame", 0, 0xFFFFFFFF));
    const bool naive = args.flag("--naive");

    const net::Fd listener = net::listen_tcp(args.host(), args.port());
    net::log::info("listening on {}  (try: ./build/lessons/05-framing/frame-client --port {})",
                   net::to_string(net::local_address(listener.get())), net::local_port(listener.get()));

    while (!net::stop_requested()) {
        // accept4() through net::accept_client (chapter 04): a client lost in the
        // queue is skipped, a signal lets the loop condition decide.
        const net::Accepted client = net::accept_client(listener.get());
        if (!client) {
            if (client.error != EINTR) {
                net::log::warn("accept: {}: skipping that client", std::strerror(client.error));
            }
            continue;
        }
        const std::string who = net::to_string(client.peer);
        net::log::step("accept() = fd {} from {}", client.connection.get(), who);
        try {
            naive ? serve_naively(client.connection) : serve_frames(client.connection, max_frame);
        } catch (const std::exception& error) {
            net::log::warn("client {}: {}", who, error.what());  // one client's trouble does not stop the server
        }
        net::log::step("close(fd {})", client.connection.get());
    }
    net::log::info("stopping: signal received");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "frame-server",
        .summary = "Reads frames (a 4-byte big-endian length, then the payload) and answers\n"
                   "each with a frame. Stop it with Ctrl-C.",
        .options = {{"--max-frame", "BYTES", "longest payload accepted", "1048576"},
                    {"--naive", "", "take each recv() as one frame (the bug this lesson is about)"}},
    };
    return net::run_main(argc, argv, usage, serve);
}
