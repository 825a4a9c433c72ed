// naive-reader — a server that believes one recv() is one message. It is wrong.
//
//     naive-reader --port 5000          then:  burst-sender --port 5000
//
// Each client sends '\n'-terminated messages. This server treats whatever one
// recv() returns as one message, and says so, then checks its belief: a recv
// that holds several newlines got messages glued together, and one that does
// not end in a newline cut a message in two. TCP does both, all the time.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <system_error>
#include <thread>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"
#include "net/tcp.hpp"

namespace {

// The bytes as a C string literal would show them: "one\ntwo", cut when long.
std::string printable(std::string_view bytes) {
    std::string out;
    for (const char c : bytes.substr(0, 60)) {
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c < 0x20 || c == 0x7f) {
            out += '.';
        } else {
            out += c;
        }
    }
    return bytes.size() > 60 ? out + "..." : out;
}

void read_naively(const net::Fd& client, std::chrono::milliseconds busy) {
    char buffer[4096];
    for (int count = 1;; ++count) {
        // A busy server does not sit in recv(): meanwhile, more bytes arrive.
        std::this_thread::sleep_for(busy);
        const ssize_t n = ::recv(client.get(), buffer, sizeof buffer, 0);
        if (n < 0) {
            if (errno == EINTR) {
                if (net::stop_requested()) {
                    return;
                }
                continue;
            }
            net::throw_errno("recv");
        }
        if (n == 0) {
            net::log::step("recv() = 0: the client closed the connection");
            return;
        }
        const std::string_view message(buffer, static_cast<std::size_t>(n));
        net::log::step("recv() = {}", net::plural(n, "byte"));
        net::log::info("  message #{}, or so this server believes: \"{}\"", count, printable(message));

        const auto newlines = std::count(message.begin(), message.end(), '\n');
        if (newlines > 1) {
            net::log::warn("  that was {} messages glued together, not one", newlines);
        }
        if (message.back() != '\n') {
            net::log::warn("  that ends in the middle of a message: the rest comes with the next recv()");
        }
    }
}

int serve(const net::Args& args) {
    net::stop_on_signals();
    const std::chrono::milliseconds busy(args.integer("--busy", 0, 10'000));

    const net::Fd listener = net::listen_tcp(args.host(), args.port());
    net::log::info("listening on {}  (try: ./build/lessons/03-byte-streams/burst-sender --port {})",
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
            read_naively(client.connection, busy);
        } catch (const std::system_error& error) {
            net::log::warn("client {}: {}", who, error.what());  // one client's trouble does not stop the server
        }
    }
    net::log::info("stopping: signal received");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "naive-reader",
        .summary = "Treats each recv() as one message, and shows why that is wrong:\n"
                   "messages arrive glued together and cut in two. Stop it with Ctrl-C.",
        .options = {{"--busy", "MS", "pause before each recv(), as a busy server would", "100"}},
    };
    return net::run_main(argc, argv, usage, serve);
}
