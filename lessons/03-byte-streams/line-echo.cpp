// line-echo — the fix: a server that reads whole lines however the bytes arrive.
//
//     line-echo --port 5000             then:  burst-sender --port 5000
//                                       or:    nc -N 127.0.0.1 5000
//
// It keeps what recv() returned in a buffer, answers every complete line in
// it, and keeps the rest (the start of the next line) for the next recv().
// A line longer than --max-line is refused without buffering it all.
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <system_error>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"
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
        sent += static_cast<std::size_t>(n);
    }
}

// Answers every complete line at the front of `buffer` and removes it; what
// is left is the start of a line whose end has not arrived yet (or a line
// that is too long).
std::size_t answer_lines(int fd, std::string& buffer, std::size_t max_line) {
    std::size_t lines = 0;
    std::size_t start = 0;
    for (std::size_t newline; (newline = buffer.find('\n', start)) != std::string::npos; start = newline + 1) {
        const std::string_view line(buffer.data() + start, newline - start);
        if (line.size() > max_line) {
            break;  // too long: it stays at the front of the buffer, for the caller to refuse
        }
        send_all(fd, fmt::format("{}: {}\n", net::plural(line.size(), "byte"), line));
        net::log::info("  line \"{}\" ({}) answered", line.substr(0, 60), net::plural(line.size(), "byte"));
        ++lines;
    }
    buffer.erase(0, start);
    return lines;
}

void serve_lines(const net::Fd& client, std::size_t max_line) {
    std::string buffer;  // received, not yet a whole line
    char chunk[4096];
    for (;;) {
        const ssize_t n = ::recv(client.get(), chunk, sizeof chunk, 0);
        if (n < 0) {
            if (errno == EINTR) {
                if (net::stop_requested()) {
                    return;
                }
                continue;  // a signal, not an error: nothing was lost
            }
            net::throw_errno("recv");
        }
        if (n == 0) {
            if (buffer.empty()) {
                net::log::step("recv() = 0: the client closed the connection between lines");
            } else {
                net::log::warn("the client closed the connection in the middle of a line ({})",
                               net::plural(buffer.size(), "byte"));
            }
            return;
        }
        net::log::step("recv() = {}", net::plural(n, "byte"));
        buffer.append(chunk, static_cast<std::size_t>(n));
        const std::size_t lines = answer_lines(client.get(), buffer, max_line);
        net::log::info("  {}; {} kept for the next recv()", net::plural(lines, "whole line"), net::plural(buffer.size(), "byte"));

        // No newline within max_line bytes: the line is already too long, and
        // waiting for its end could take all our memory.
        if (buffer.size() > max_line) {
            net::log::warn("a line longer than {}: refusing it and closing", net::plural(max_line, "byte"));
            send_all(client.get(), fmt::format("error: line longer than {}\n", net::plural(max_line, "byte")));
            return;
        }
    }
}

int serve(const net::Args& args) {
    net::stop_on_signals();
    const auto max_line = static_cast<std::size_t>(args.integer("--max-line", 1, 1 << 20));

    const net::Fd listener = net::listen_tcp(args.host(), args.port());
    net::log::info("listening on {}  (try: nc -N {} {})", net::to_string(net::local_address(listener.get())),
                   args.host(), net::local_port(listener.get()));

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
            serve_lines(client.connection, max_line);
        } catch (const std::system_error& error) {
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
        .program = "line-echo",
        .summary = "Answers each '\\n'-terminated line a client sends with its length and text,\n"
                   "whatever pieces the bytes arrive in. Stop it with Ctrl-C.",
        .options = {{"--max-line", "BYTES", "longest line accepted", "16384"}},
    };
    return net::run_main(argc, argv, usage, serve);
}
