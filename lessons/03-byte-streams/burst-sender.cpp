// burst-sender — sends a few short messages quickly, then one long one.
//
//     burst-sender --port 5000
//
// Each message is one send() call ending in '\n'. The receiver does not see
// the send() calls, only bytes: run it against naive-reader to watch the
// short messages arrive glued together and the long one arrive in pieces,
// then against line-echo, which answers every line whatever its pieces.
#include <cerrno>
#include <string>
#include <string_view>
#include <sys/socket.h>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/tcp.hpp"

namespace {

// send() may take only part of what it is offered; the rest goes in the next call.
void send_all(int fd, std::string_view bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            net::throw_errno("send");
        }
        const bool short_write = sent + static_cast<std::size_t>(n) < bytes.size();
        net::log::step("send() = {}{}", net::plural(n, "byte"), short_write ? " (a short write: the rest follows)" : "");
        sent += static_cast<std::size_t>(n);
    }
}

int run(const net::Args& args) {
    if (args.port() == 0) {
        throw net::UsageError("--port is required: the port the server printed");
    }
    const auto count = args.integer("--count", 0, 1000);
    const auto big = args.integer("--big", 0, 10'000'000);

    const net::Fd sock = net::connect_tcp(args.host(), args.port());
    net::log::step("connect() to {} from {}", net::to_string(net::peer_address(sock.get())),
                   net::to_string(net::local_address(sock.get())));

    for (long long i = 1; i <= count; ++i) {
        const std::string message = "message " + std::to_string(i) + "\n";
        net::log::info("message {}:", i);
        send_all(sock.get(), message);
    }
    if (big > 0) {
        const std::string message = std::string(static_cast<std::size_t>(big), 'x') + "\n";
        net::log::info("one long message of {} bytes:", message.size());
        send_all(sock.get(), message);
    }
    net::log::good("sent {} messages", count + (big > 0 ? 1 : 0));

    // Done sending: shutdown(SHUT_WR) sends the server an EOF after the last
    // message, and we read whatever it answers until it closes (chapter 04
    // is about this half-close). Closing with its answers unread would reset
    // the connection instead.
    net::check(::shutdown(sock.get(), SHUT_WR), "shutdown");
    net::log::step("shutdown(SHUT_WR): no more messages from us");
    std::size_t answered = 0;
    for (;;) {
        char buffer[4096];
        const ssize_t n = ::recv(sock.get(), buffer, sizeof buffer, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            net::throw_errno("recv");
        }
        if (n == 0) {
            break;
        }
        answered += static_cast<std::size_t>(n);
    }
    net::log::step("recv() = 0 after {} of answers: the server closed too", net::plural(answered, "byte"));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "burst-sender",
        .summary = "Connects and sends COUNT short '\\n'-terminated messages, one send() each,\n"
                   "back to back, then one long message of BYTES bytes.",
        .options = {{"--count", "COUNT", "short messages to send", "5"},
                    {"--big", "BYTES", "length of the long message (0: none)", "10000"}},
    };
    return net::run_main(argc, argv, usage, run);
}
