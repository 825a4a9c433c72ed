// guestbook — Flask's hello world, and a small JSON API beside it, served by
// lesson 14's server (the parser and router of solutions/14-http-server).
//
//     guestbook --port 8080                      then, in another terminal:
//     curl -v http://127.0.0.1:8080/
//     curl -v -d '{"name": "Ada", "text": "Hello!"}' http://127.0.0.1:8080/messages
//     curl -v http://127.0.0.1:8080/messages
//     curl -v http://127.0.0.1:8080/messages/1
//     guestbook --port 8080 --loops 2            two threads, two listeners, one port
//
// The Flask program it copies:
//
//     @app.route("/")
//     def hello():
//         return "Hello, World!"
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_server.hpp"
#include "net/args.hpp"
#include "net/event_loop.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"
#include "net/tcp.hpp"

namespace {

// The messages, shared by every loop's thread: each handler takes the lock.
class Guestbook {
public:
    nlohmann::json add(std::string name, std::string text) {
        const std::lock_guard lock(mutex_);
        messages_.push_back({{"id", messages_.size() + 1}, {"name", std::move(name)}, {"text", std::move(text)}});
        return messages_.back();
    }
    nlohmann::json all() const {
        const std::lock_guard lock(mutex_);
        return messages_;
    }
    // The message numbered `id` (from 1), or null.
    nlohmann::json find(std::size_t id) const {
        const std::lock_guard lock(mutex_);
        return id >= 1 && id <= messages_.size() ? messages_[id - 1] : nlohmann::json();
    }

private:
    mutable std::mutex mutex_;
    nlohmann::json messages_ = nlohmann::json::array();
};

http::Router make_app(Guestbook& book) {
    http::Router app;
    app.get("/", [](const http::Request&) { return http::Response::text("Hello, World!"); });

    app.get("/messages", [&book](const http::Request&) { return http::Response::json(book.all()); });

    app.post("/messages", [&book](const http::Request& request) {
        const nlohmann::json body = request.json();  // not JSON: a 400
        if (!body.is_object() || !body.contains("name") || !body["name"].is_string() || !body.contains("text") ||
            !body["text"].is_string()) {
            return http::Response::json({{"error", R"(send {"name": "...", "text": "..."})"}}, 422);
        }
        const nlohmann::json message = book.add(body["name"], body["text"]);
        http::Response created = http::Response::json(message, 201);
        created.headers.push_back({"Location", fmt::format("/messages/{}", message["id"].get<std::size_t>())});
        return created;
    });

    app.get("/messages/<id>", [&book](const http::Request& request) {
        const std::string& id = request.params.at("id");
        const nlohmann::json message = id.find_first_not_of("0123456789") == std::string::npos && id.size() < 10
                                           ? book.find(std::stoul(id))
                                           : nlohmann::json();
        if (message.is_null()) {
            return http::Response::json({{"error", fmt::format("no message {}", id)}}, 404);
        }
        return http::Response::json(message);
    });
    return app;
}

int serve(const net::Args& args) {
    net::stop_on_signals();
    const auto loops = static_cast<int>(args.integer("--loops", 1, 64));
    const bool quiet = args.flag("--quiet");
    Guestbook book;
    const http::Router app = make_app(book);

    http::ServerOptions options;
    if (!quiet) {
        options.trace = [](std::string_view line) { net::log::step("{}", line); };
    }
    // One loop per thread, each with its own listener on the shared port.
    std::vector<std::unique_ptr<net::EventLoop>> event_loops;
    std::vector<std::unique_ptr<http::Server>> servers;
    std::uint16_t port = args.port();
    for (int i = 0; i < loops; ++i) {
        // SO_REUSEPORT only when there are loops to share the port: on a lone
        // listener it would let any other program of yours bind the port too.
        net::Fd listener = loops > 1 ? net::listen_tcp_reuseport(args.host(), port) : net::listen_tcp(args.host(), port);
        port = net::local_port(listener.get());  // port 0: the others join the port the first one got
        event_loops.push_back(std::make_unique<net::EventLoop>());
        servers.push_back(std::make_unique<http::Server>(*event_loops.back(), std::move(listener), app, options));
    }
    const std::string url = fmt::format("http://{}:{}/", args.host().find(':') == std::string::npos
                                                             ? args.host() : "[" + args.host() + "]", port);
    net::log::info("listening on {}:{} with {}  (try: curl -v {})", args.host(), port, net::plural(loops, "loop"), url);

    // Whichever loop sees Ctrl-C first stops the others.
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
    }  // joins
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
        .program = "guestbook",
        .summary = "Flask's hello world (GET /) and a guestbook JSON API (GET and POST /messages,\n"
                   "GET /messages/<id>) on lesson 14's HTTP/1.1 server: keep-alive, pipelining,\n"
                   "one event loop per thread on a shared port (SO_REUSEPORT). Stop it with Ctrl-C.",
        .options = {
            {"--loops", "N", "N threads, each with its own loop and listener on the port", "1"},
            {"--quiet", "", "print no per-request narration"},
        },
    };
    return net::run_main(argc, argv, usage, serve);
}
