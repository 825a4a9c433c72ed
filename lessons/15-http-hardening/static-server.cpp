// static-server — lesson 15's hardened HTTP server: a directory served by
// common/http's server with the three things exercise 15 writes plugged in
// (the reference solution of solutions/15-http-hardening):
//   - decide_framing: a request whose body could be read two ways is refused;
//   - StaticFiles: files under --root and nothing outside it (openat2 with
//     RESOLVE_BENEATH), Content-Type, ETag/Last-Modified and 304;
//   - next_deadline: a head must arrive within --header-timeout of its first
//     byte (else 408), an idle connection closes after --idle-timeout.
//
//     static-server --port 8080                 then, in another terminal:
//     curl -v http://127.0.0.1:8080/
//     curl -v --path-as-is http://127.0.0.1:8080/../README.md     → 404
//     curl -v -H 'If-None-Match: "…the ETag…"' http://127.0.0.1:8080/  → 304
//
// Chapter 15 runs the same attacks against naive-server first.
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "hardening.hpp"
#include "net/args.hpp"
#include "net/event_loop.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"
#include "net/tcp.hpp"
#include "www_path.hpp"

namespace {

int serve(const net::Args& args) {
    net::stop_on_signals();
    const auto loops = static_cast<int>(args.integer("--loops", 1, 64));
    const std::string root = args.value("--root").empty() ? std::string(lesson15::www_path) : args.value("--root");
    const http::Timeouts timeouts{
        .header = std::chrono::milliseconds(args.integer("--header-timeout", 1, 3'600'000)),
        .idle = std::chrono::milliseconds(args.integer("--idle-timeout", 1, 3'600'000)),
    };
    const hardening::StaticFiles files(root);
    http::Router app;
    app.fallback([&files](const http::Request& request) { return files.serve(request); });

    http::ServerOptions options = hardening::hardened_options(timeouts);
    if (!args.flag("--quiet")) {
        options.trace = [](std::string_view line) { net::log::step("{}", line); };
    }
    // One loop per thread, each with its own listener on the shared port (lesson 14's guestbook).
    std::vector<std::unique_ptr<net::EventLoop>> event_loops;
    std::vector<std::unique_ptr<http::Server>> servers;
    std::uint16_t port = args.port();
    for (int i = 0; i < loops; ++i) {
        net::Fd listener = net::listen_tcp_reuseport(args.host(), port);
        port = net::local_port(listener.get());
        event_loops.push_back(std::make_unique<net::EventLoop>());
        servers.push_back(std::make_unique<http::Server>(*event_loops.back(), std::move(listener), app, options));
    }
    net::log::info("serving {} (header deadline {} ms, idle {} ms)", root, timeouts.header.count(), timeouts.idle.count());
    net::log::info("listening on {}:{} with {}  (try: curl -v http://{}:{}/)", args.host(), port,
                   net::plural(loops, "loop"), args.host(), port);
    auto run = [&](net::EventLoop& loop) {
        loop.run();
        for (auto& other : event_loops) {
            other->stop();
        }
    };
    {
        std::vector<std::jthread> threads;
        for (std::size_t i = 1; i < event_loops.size(); ++i) {
            threads.emplace_back(run, std::ref(*event_loops[i]));
        }
        run(*event_loops[0]);
    }
    std::uint64_t answered = 0;
    for (const auto& server : servers) {
        answered += server->requests();
    }
    net::log::info("stopped after {}", net::plural(answered, "request"));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "static-server",
        .summary = "Serves the files under --root over HTTP/1.1 and nothing outside it (openat2 RESOLVE_BENEATH),\n"
                   "refuses requests whose framing could be read two ways (smuggling), answers 408 to a request\n"
                   "head that takes longer than --header-timeout from its first byte (slowloris) and closes idle\n"
                   "connections. Lesson 15's hardening on lesson 14's server. Stop it with Ctrl-C.",
        .options = {
            {"--root", "DIR", "the directory to serve (default: lessons/15-http-hardening/www of this checkout)"},
            {"--header-timeout", "MS", "a request's head must arrive within MS of its first byte", "10000"},
            {"--idle-timeout", "MS", "close a kept-alive connection idle for MS", "30000"},
            {"--loops", "N", "N threads, each with its own loop and listener on the port", "1"},
            {"--quiet", "", "print no per-request narration"},
        },
    };
    return net::run_main(argc, argv, usage, serve);
}
