// naive-server — the server chapter 15 attacks first: lesson 14's server with
// the three shortcuts everyone takes once. Every one of them works on an
// honest client; each is an attack's way in.
//   - framing: the first Content-Length is the length (a second one, or a
//     Transfer-Encoding beside it, is ignored);
//   - static files: the root and the decoded path glued together and opened
//     as a string, so "/../" and "/%2e%2e/" walk out of the root;
//   - no deadlines: a client that sends half a request keeps its connection
//     for as long as it likes.
// Never run it on an address anyone else can reach (it listens on 127.0.0.1
// unless you say otherwise).
#include <exception>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "http/http.hpp"
#include "net/args.hpp"
#include "net/event_loop.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"
#include "net/tcp.hpp"
#include "www_path.hpp"

namespace {

// The shortcut: the first Content-Length wins, whatever follows it.
http::Framing first_length_wins(const http::Request& head) {
    for (const http::Field& field : head.headers) {
        if (http::iequals(field.name, "Content-Length")) {
            try {
                return {http::BodyKind::length, std::stoull(field.value)};  // "+5" is 5, too
            } catch (const std::exception&) {
                throw http::RequestError(400, "a Content-Length that is not a number");
            }
        }
    }
    for (const http::Field& field : head.headers) {
        if (http::iequals(field.name, "Transfer-Encoding") && field.value.find("chunked") != std::string::npos) {
            return {http::BodyKind::chunked, 0};
        }
    }
    return {};
}

// The shortcut: root + "/" + decoded path, opened by name.
http::Response naive_file(const std::string& root, const http::Request& request) {
    std::string path = http::percent_decode(request.path);
    if (path.ends_with("/")) {
        path += "index.html";
    }
    std::ifstream file(root + path, std::ios::binary);
    if (!file) {
        return http::Response::text("404 Not Found\n", 404);
    }
    std::ostringstream bytes;
    bytes << file.rdbuf();
    http::Response response = http::Response::text(bytes.str());
    response.content_type = path.ends_with(".html") ? "text/html; charset=utf-8" : "text/plain; charset=utf-8";
    return response;
}

int serve(const net::Args& args) {
    net::stop_on_signals();
    const std::string root = args.value("--root").empty() ? std::string(lesson15::www_path) : args.value("--root");
    http::Router app;
    app.get("/admin", [](const http::Request&) { return http::Response::text("the admin page: only for insiders\n"); });
    app.fallback([&root](const http::Request& request) { return naive_file(root, request); });
    http::ServerOptions options;
    options.framing = first_length_wins;
    if (!args.flag("--quiet")) {
        options.trace = [](std::string_view line) { net::log::step("{}", line); };
    }
    net::EventLoop loop;
    net::Fd listener = net::listen_tcp(args.host(), args.port());
    const std::uint16_t port = net::local_port(listener.get());
    http::Server server(loop, std::move(listener), app, options);
    net::log::info("NAIVE: serving {} with no deadlines and the first Content-Length believed", root);
    net::log::info("listening on {}:{}  (try: curl --path-as-is http://{}:{}/../naive-server.cpp)", args.host(), port,
                   args.host(), port);
    loop.run();
    net::log::info("stopped after {}", net::plural(server.requests(), "request"));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "naive-server",
        .summary = "Lesson 15's target practice: a static file server with the classic shortcuts (the first\n"
                   "Content-Length believed, root + path opened as a string, no deadlines). Chapter 15 smuggles\n"
                   "a request past it, reads files outside its root and holds its connections. Ctrl-C stops it.",
        .options = {
            {"--root", "DIR", "the directory to serve (default: lessons/15-http-hardening/www of this checkout)"},
            {"--quiet", "", "print no per-request narration"},
        },
    };
    return net::run_main(argc, argv, usage, serve);
}
