// overtaking-server — the HTTP server that answers each request as soon as
// its answer is ready. Every request gets a thread of its own, and each thread
// sends its answer when it is done: /slow takes 300 ms, /fast no time at all.
// Send both on one connection (pipelining) and /fast's answer comes first.
// HTTP/1.1 answers carry no request id: the client takes the first answer for
// its first request, /slow. Chapter 14 runs it; guestbook (guestbook.cpp, on
// server.cpp) is the fix: answers queued in the order the requests came.
//
//     overtaking-server --port 8080
//     printf 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n' | nc -N 127.0.0.1 8080
#include <sys/socket.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "net/args.hpp"
#include "net/log.hpp"
#include "net/stream.hpp"
#include "net/tcp.hpp"

namespace {

const net::Usage usage{
    .program = "overtaking-server",
    .summary = "Answers pipelined requests as each is ready, on threads: the bug, on purpose.\n"
               "GET /slow takes 300 ms, GET /fast no time; anything else is a 404.",
};

std::string answer(const std::string& path) {
    const std::string body = path == "/slow" || path == "/fast" ? fmt::format("the answer to {}\n", path) : "Not Found\n";
    return fmt::format("HTTP/1.1 {}\r\nContent-Length: {}\r\n\r\n{}", body == "Not Found\n" ? "404 Not Found" : "200 OK",
                       body.size(), body);
}

void serve(const net::Fd& client) {
    std::string input;
    std::mutex sending;
    std::vector<std::jthread> workers;
    for (;;) {
        char buffer[4096];
        const ssize_t got = ::recv(client.get(), buffer, sizeof buffer, 0);
        if (got <= 0) {
            return;  // the workers join, then the connection closes
        }
        input.append(buffer, static_cast<std::size_t>(got));
        // Each complete request (GETs only: a head ends with an empty line).
        for (std::size_t end; (end = input.find("\r\n\r\n")) != std::string::npos; input.erase(0, end + 4)) {
            const std::size_t first = input.find(' ');
            const std::string path = input.substr(first + 1, input.find(' ', first + 1) - first - 1);
            net::log::step("request for {}: a thread of its own answers it", path);
            // The bug: whoever finishes first sends first.
            workers.emplace_back([&client, &sending, path] {
                if (path == "/slow") {
                    std::this_thread::sleep_for(std::chrono::milliseconds(300));
                }
                const std::lock_guard lock(sending);  // whole answers at least, never interleaved
                net::send_all(client.get(), answer(path));
                net::log::step("sent the answer to {}", path);
            });
        }
    }
}

int run(const net::Args& args) {
    net::stop_on_signals();
    const net::Fd listener = net::listen_tcp(args.host(), args.port());
    net::log::info("listening on {}:{}", args.host(), net::local_port(listener.get()));
    while (!net::stop_requested()) {
        net::Accepted client = net::accept_client(listener.get());
        if (client) {
            serve(client.connection);
        }
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) { return net::run_main(argc, argv, usage, run); }
