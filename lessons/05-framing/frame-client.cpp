// frame-client — sends messages as length-prefixed frames and reads the answers.
//
//     frame-client --port 5000 hello "" "frames keep their edges"
//     frame-client --port 5000 --oversize      a header announcing 4 GiB - 1
//
// All the frames go out in ONE send(), glued together on purpose: TCP may
// glue them anyway, and the length prefixes are what lets the server find the
// edges again. Then the client reads one answer frame per message.
#include <cerrno>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/time.h>
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

constexpr std::uint32_t max_answer = 1 << 20;

std::string encode_frame(std::string_view payload) {
    const auto length = static_cast<std::uint32_t>(payload.size());
    std::string frame{static_cast<char>(length >> 24), static_cast<char>(length >> 16),
                      static_cast<char>(length >> 8), static_cast<char>(length)};
    return frame += payload;
}

// Fills `into`; false if the server closed first. SO_RCVTIMEO makes a silent
// server an error (EAGAIN) instead of a hang.
bool recv_exact(int fd, std::span<char> into) {
    std::size_t received = 0;
    while (received < into.size()) {
        const ssize_t n = ::recv(fd, into.data() + received, into.size() - received, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                throw std::runtime_error("no answer within 2 s: the server lost track of the frames");
            }
            net::throw_errno("recv");
        }
        if (n == 0) {
            return false;
        }
        received += static_cast<std::size_t>(n);
    }
    return true;
}

std::uint32_t read_be32(const char* bytes) {
    const auto byte = [bytes](int i) { return std::uint32_t{static_cast<unsigned char>(bytes[i])}; };
    return (byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
}

int run(const net::Args& args) {
    if (args.port() == 0) {
        throw net::UsageError("--port is required: the port frame-server printed");
    }
    std::vector<std::string> messages = args.positional();
    if (messages.empty()) {
        messages = {"hello", "", "frames keep their edges"};
    }

    const net::Fd sock = net::connect_tcp(args.host(), args.port());
    net::log::step("connect() to {}", net::to_string(net::peer_address(sock.get())));
    const timeval two_seconds{2, 0};
    net::check(::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &two_seconds, sizeof two_seconds),
               "setsockopt SO_RCVTIMEO");

    if (args.flag("--oversize")) {
        net::send_all(sock.get(), std::string("\xff\xff\xff\xff" "and then some", 17));
        net::log::step("send() = 17 bytes: a header announcing 4294967295 bytes, and a few of them");
        // A server that closes with our unread bytes in its buffer sends a
        // reset (RST), not a FIN: recv fails with ECONNRESET instead of returning 0.
        char byte = 0;
        const ssize_t n = ::recv(sock.get(), &byte, 1, 0);
        if (n > 0) {
            throw std::runtime_error("the server answered a frame it should have refused");
        }
        if (n < 0 && errno != ECONNRESET) {
            net::throw_errno("recv");
        }
        net::log::good("recv() = {}: the server refused the frame and closed the connection",
                       n == 0 ? "0" : "-1 (ECONNRESET)");
        return 0;
    }

    std::string wire;
    for (const std::string& message : messages) {
        wire += encode_frame(message);
    }
    net::send_all(sock.get(), wire);
    net::log::step("send() = {}: {} in one send", net::plural(wire.size(), "byte"), net::plural(messages.size(), "frame"));

    for (std::size_t i = 0; i < messages.size(); ++i) {
        char header[4];
        if (!recv_exact(sock.get(), header)) {
            throw std::runtime_error(fmt::format("the server closed after {} of {} answers", i, messages.size()));
        }
        const std::uint32_t length = read_be32(header);
        if (length > max_answer) {  // a client checks the length as carefully as a server
            throw std::runtime_error(fmt::format("the server announced an answer of {}", net::plural(length, "byte")));
        }
        std::string answer(length, '\0');
        if (!recv_exact(sock.get(), answer)) {
            throw std::runtime_error("the server closed in the middle of an answer");
        }
        net::log::good("answer {}: \"{}\"", i + 1, answer);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "frame-client",
        .summary = "Sends each MESSAGE as a frame (a 4-byte big-endian length, then the bytes),\n"
                   "all in one send(), and prints the server's answer to each.",
        .positional = "[MESSAGE...]",
        .max_positional = 100,
        .options = {{"--oversize", "", "send a header announcing 4 GiB - 1 bytes instead"}},
    };
    return net::run_main(argc, argv, usage, run);
}
