#pragma once
// One client's conversation, whichever model runs it (chapter 08): the
// key-value protocol, or plain echo (--echo, for the benchmarks).

#include <cerrno>
#include <cstddef>
#include <string>
#include <string_view>
#include <sys/socket.h>

#include "kv-store.hpp"
#include "net/error.hpp"
#include "net/log.hpp"
#include "net/stream.hpp"

namespace kv {

// What a model needs to serve a client.
struct Service {
    Store* store = nullptr;  // the shared store (each process's own in --model fork)
    bool echo = false;       // plain echo instead of the key-value protocol
    bool quiet = false;      // no per-call narration (--quiet)
};

inline constexpr std::size_t max_line = 4096;

// recv() that retries EINTR: a Ctrl-C lets a client in flight finish.
inline std::size_t receive(int client, char* buffer, std::size_t size) {
    for (;;) {
        const ssize_t n = ::recv(client, buffer, size, 0);
        if (n >= 0) {
            return static_cast<std::size_t>(n);
        }
        if (errno != EINTR) {
            net::throw_errno("recv");
        }
    }
}

// Echoes every byte back until the client closes.
inline void serve_echo(int client, const Service& service, std::string_view who) {
    char buffer[16384];
    while (const std::size_t n = receive(client, buffer, sizeof buffer)) {
        net::send_all(client, std::string_view(buffer, n));
        if (!service.quiet) {
            net::log::step("{}: echoed {}", who, net::plural(n, "byte"));
        }
    }
}

// Answers one line per command line until QUIT or the client closes. A line
// longer than max_line is answered "ERR line too long" and the client closed.
inline void serve_commands(int client, const Service& service, std::string_view who) {
    std::string pending;
    char buffer[4096];
    for (;;) {
        std::size_t end;
        while ((end = pending.find('\n')) == std::string::npos) {
            if (pending.size() > max_line) {
                net::send_all(client, "ERR line too long\n");
                return;
            }
            const std::size_t n = receive(client, buffer, sizeof buffer);
            if (n == 0) {
                return;  // the client closed
            }
            pending.append(buffer, n);
        }
        std::string line = pending.substr(0, end);
        pending.erase(0, end + 1);
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();  // telnet and some nc builds send CRLF
        }
        const std::string answer = line == "QUIT" ? "BYE" : service.store->execute(line);
        net::send_all(client, answer + "\n");
        if (!service.quiet) {
            net::log::step("{}: {} → {}", who, line, answer);
        }
        if (line == "QUIT") {
            return;
        }
    }
}

// Serves one client to the end. Its failures (a reset, say) are thrown for
// the model to log: they end this client, never the server.
inline void serve(int client, const Service& service, std::string_view who) {
    if (service.echo) {
        serve_echo(client, service, who);
    } else {
        serve_commands(client, service, who);
    }
}

}  // namespace kv
