// fetch — what `curl -v URL` does, on the lesson 13 client: sends one
// request (GET, HEAD, or POST with --json), narrates the request and the
// response header lines on stderr ("> " sent, "< " received, "* " what the
// client did), and prints the body on stdout.
//
//   fetch http://127.0.0.1:8000/
//   fetch --method HEAD http://[::1]:8080/index.html
//   fetch --json '{"name": "ada"}' http://127.0.0.1:5000/users
//   fetch --quiet http://127.0.0.1:8000/data.json | jq .
#include <chrono>
#include <cstdio>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "http.hpp"
#include "net/args.hpp"
#include "net/log.hpp"

namespace {

const net::Usage usage{
    .program = "fetch",
    .summary = "Fetch one http:// URL like curl -v: the request and response headers on stderr, the body on stdout.",
    .positional = "URL",
    .min_positional = 1,
    .max_positional = 1,
    .network = false,
    .options = {
        {"--method", "METHOD", "GET, HEAD, DELETE ... (POST with --json)", "GET"},
        {"--json", "TEXT", "send TEXT (checked to be JSON) as the body of a POST", ""},
        {"--timeout", "MS", "give up after this long, redirects included", "10000"},
        {"--connect-timeout", "MS", "give up connecting after this long", "3000"},
        {"--max-redirects", "N", "follow at most N redirects (0: none)", "5"},
        {"--quiet", "", "no narration: only the body (and errors)"},
    },
};

int fetch(const net::Args& args) {
    http::Options options{
        .connect_timeout = std::chrono::milliseconds(args.integer("--connect-timeout", 1, 600'000)),
        .total_timeout = std::chrono::milliseconds(args.integer("--timeout", 1, 3'600'000)),
        .max_redirects = static_cast<int>(args.integer("--max-redirects", 0, 50)),
    };
    if (!args.flag("--quiet")) {
        options.trace = [](std::string_view line) { net::log::write_line(stderr, net::log::Style::step, line); };
    }
    std::string method = args.value("--method");
    std::string body;
    std::vector<http::Field> headers;
    if (const std::string json = args.value("--json"); !json.empty()) {
        try {
            body = nlohmann::json::parse(json).dump();
        } catch (const nlohmann::json::parse_error& error) {
            throw net::UsageError(fmt::format("--json is not JSON: {}", error.what()));
        }
        method = args.value("--method") == "GET" ? "POST" : method;
        headers.push_back({"Content-Type", "application/json"});
    }
    const std::string& url = args.positional()[0];
    try {
        static_cast<void>(http::parse_url(url));  // a bad URL is a usage error (status 2)
    } catch (const http::Error& error) {
        throw net::UsageError(error.what());
    }

    http::Session session(options);
    const http::Response response = session.request(method, url, body, headers);
    std::fwrite(response.body.data(), 1, response.body.size(), stdout);
    std::fflush(stdout);
    if (!args.flag("--quiet")) {
        net::log::write_line(stderr, net::log::Style::plain,
                             fmt::format("* {} body bytes{}", response.body.size(),
                                         response.keep_alive ? ", the connection could be reused" : ""));
    }
    return response.status >= 400 ? 22 : 0;  // curl --fail's status for an HTTP error
}

}  // namespace

int main(int argc, char** argv) { return net::run_main(argc, argv, usage, fetch); }
