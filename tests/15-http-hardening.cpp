// Tests for exercise 15 — the framing rules, static files and deadlines
// (exercises/15-http-hardening/hardening.hpp) on common/http's server. The
// framing is a table of requests run through the common parser; static files
// are served from a temporary tree with a secret beside the root and symlinks
// pointing out; deadlines are checked as a pure rule, then over loopback
// against a client that drips its request. Every wait has a deadline.
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "hardening.hpp"
#include "harness.hpp"
#include "http_on_loop.hpp"
#include "http_replies.hpp"

using namespace std::chrono_literals;
using harness::Reply;
using harness::ReplyReader;
// The server of common/http, with the learner's framing, static files and deadlines plugged in.
using HttpServer = harness::HttpServerOnLoop<http::Server, http::Router, http::ServerOptions>;

namespace {

// ---- framing ---------------------------------------------------------------------

http::ParserOptions strict_options() {
    http::ParserOptions options;
    options.limits.max_request_line = 256;
    options.limits.max_header_bytes = 1024;
    options.limits.max_body_bytes = 1000;
    options.framing = hardening::decide_framing;
    options.strict_line_ends = true;
    return options;
}

struct Outcome {
    int status = 0;      // the RequestError's status; 0: the first request was accepted
    bool complete = false;
    std::string body;    // of the first request, when accepted
};

// Runs `bytes` through the common parser with the learner's framing rule.
Outcome first_request(std::string_view bytes) {
    http::RequestParser parser(strict_options());
    Outcome outcome;
    try {
        parser.feed(bytes);
    } catch (const http::RequestError& error) {
        outcome.status = error.status();
        return outcome;
    }
    outcome.complete = parser.done();
    if (outcome.complete) {
        outcome.body = parser.take().body;
    }
    return outcome;
}

struct Row {
    const char* what;
    std::string head;      // up to and without the empty line
    std::string rest;      // after it
    int status;            // 0: accepted
    std::string body = {}; // the body it must have, when accepted
};

std::vector<Row> framing_table() {
    const std::string post = "POST /echo HTTP/1.1\r\nHost: t\r\n";
    const std::string chunks = "5\r\nhello\r\n0\r\n\r\n";
    return {
        {"no body at all", "GET / HTTP/1.1\r\nHost: t\r\n", "", 0},
        {"Content-Length: 5", post + "Content-Length: 5\r\n", "hello", 0, "hello"},
        {"Content-Length: 0", post + "Content-Length: 0\r\n", "", 0},
        {"Content-Length: 007 (leading zeros are digits)", post + "Content-Length: 007\r\n", "1234567", 0, "1234567"},
        {"Content-Length: 5, 5 (one length said twice)", post + "Content-Length: 5, 5\r\n", "hello", 0, "hello"},
        {"two Content-Length fields that agree", post + "Content-Length: 5\r\nContent-Length: 5\r\n", "hello", 0, "hello"},
        {"Content-Length with spaces around it", post + "Content-Length:    5   \r\n", "hello", 0, "hello"},
        {"HTTP/1.0 with Content-Length", "POST /echo HTTP/1.0\r\nContent-Length: 5\r\n", "hello", 0, "hello"},
        {"chunked", post + "Transfer-Encoding: chunked\r\n", chunks, 0, "hello"},
        {"Chunked in capitals", post + "Transfer-Encoding: CHUNKED\r\n", chunks, 0, "hello"},
        {"chunked after a tab", post + "Transfer-Encoding:\tchunked\r\n", chunks, 0, "hello"},
        {"chunked with an extension on a chunk", post + "Transfer-Encoding: chunked\r\n", "5;name=v\r\nhello\r\n0\r\n\r\n", 0, "hello"},
        {"Content-Length then Transfer-Encoding", post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", chunks, 400},
        {"Transfer-Encoding then Content-Length", post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", chunks, 400},
        {"Content-Length: 0 with chunked", post + "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", chunks, 400},
        {"two different Content-Lengths, 0 then 44", post + "Content-Length: 0\r\nContent-Length: 44\r\n", "", 400},
        {"two different Content-Lengths, 44 then 0", post + "Content-Length: 44\r\nContent-Length: 0\r\n", "", 400},
        {"Content-Length: 5, 6", post + "Content-Length: 5, 6\r\n", "hello", 400},
        {"Content-Length: +5", post + "Content-Length: +5\r\n", "hello", 400},
        {"Content-Length: -1", post + "Content-Length: -1\r\n", "", 400},
        {"Content-Length: 0x5", post + "Content-Length: 0x5\r\n", "hello", 400},
        {"Content-Length: 5 5", post + "Content-Length: 5 5\r\n", "hello", 400},
        {"Content-Length: 5.0", post + "Content-Length: 5.0\r\n", "hello", 400},
        {"an empty Content-Length", post + "Content-Length: \r\n", "", 400},
        {"Content-Length: 5, (a list with an empty element)", post + "Content-Length: 5,\r\n", "hello", 400},
        {"Content-Length: 5,,5", post + "Content-Length: 5,,5\r\n", "hello", 400},
        {"Content-Length beyond 64 bits", post + "Content-Length: 99999999999999999999999\r\n", "", 400},
        {"Transfer-Encoding: gzip (the last coding is not chunked)", post + "Transfer-Encoding: gzip\r\n", "hello", 400},
        {"Transfer-Encoding: identity", post + "Transfer-Encoding: identity\r\n", "hello", 400},
        {"Transfer-Encoding: chunked, gzip", post + "Transfer-Encoding: chunked, gzip\r\n", chunks, 400},
        {"Transfer-Encoding: chunked, chunked", post + "Transfer-Encoding: chunked, chunked\r\n", chunks, 400},
        {"two Transfer-Encoding: chunked fields", post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", chunks, 400},
        {"an empty Transfer-Encoding", post + "Transfer-Encoding: \r\n", chunks, 400},
        {"Transfer-Encoding in HTTP/1.0", "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n", chunks, 400},
        {"Transfer-Encoding: gzip, chunked (a coding this server lacks)", post + "Transfer-Encoding: gzip, chunked\r\n", chunks, 501},
        {"Transfer-Encoding: gzip and chunked in two fields", post + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", chunks, 501},
        {"Transfer-Encoding: x-custom, chunked", post + "Transfer-Encoding: x-custom, chunked\r\n", chunks, 501},
        {"obs-fold: chunked on a continuation line", post + "Transfer-Encoding: gzip,\r\n chunked\r\n", chunks, 400},
        {"a space before the colon of Transfer-Encoding", post + "Transfer-Encoding : chunked\r\n", chunks, 400},
        {"a space before the colon of Content-Length", post + "Content-Length : 5\r\n", "hello", 400},
        {"a bare LF ends a field line", post + "Content-Length: 5\n", "hello", 400},
        {"a bare CR inside a value", post + "Content-Length: 5\rX: y\r\n", "hello", 400},
        {"a NUL inside a value", post + std::string("Content-Length: 5\0\r\n", 20), "hello", 400},
        {"no Host in HTTP/1.1", "POST /echo HTTP/1.1\r\nContent-Length: 5\r\n", "hello", 400},
        {"two Host fields", post + "Host: u\r\nContent-Length: 5\r\n", "hello", 400},
        {"a chunk size in 0x notation", post + "Transfer-Encoding: chunked\r\n", "0x5\r\nhello\r\n0\r\n\r\n", 400},
        {"chunk data longer than its size", post + "Transfer-Encoding: chunked\r\n", "3\r\nhello\r\n0\r\n\r\n", 400},
        {"a body over the limit (1,000 bytes)", post + "Content-Length: 1001\r\n", "", 413},
        {"HTTP/2.0 on an HTTP/1 connection", "GET / HTTP/2.0\r\nHost: t\r\n", "", 505},
        {"a request line over the limit", "GET /" + std::string(300, 'a') + " HTTP/1.1\r\nHost: t\r\n", "", 414},
        {"a header section over the limit", "GET / HTTP/1.1\r\nHost: t\r\nX: " + std::string(1100, 'a') + "\r\n", "", 431},
    };
}

}  // namespace

TEST_CASE("framing: a table of 51 requests, each accepted with its body or refused with its status") {
    const std::vector<Row> table = framing_table();
    REQUIRE(table.size() >= 40);
    for (const Row& row : table) {
        const std::string bytes = row.head + "\r\n" + row.rest;
        CAPTURE(row.what);
        INFO("the request: \"", harness::escape(bytes), "\"");
        const Outcome outcome = first_request(bytes);
        CHECK_MESSAGE(outcome.status == row.status,
                      fmt::format("expected {}, got {}", row.status == 0 ? "the request accepted" : std::to_string(row.status),
                                  outcome.status == 0 ? "the request accepted" : std::to_string(outcome.status)));
        if (row.status == 0 && outcome.status == 0) {
            CHECK_MESSAGE(outcome.complete, "the request should be complete with the bytes given");
            CHECK(outcome.body == row.body);
        }
    }
}

namespace {

http::Router smuggling_app() {
    http::Router app;
    app.get("/", [](const http::Request&) { return http::Response::text("public page"); });
    app.get("/admin", [](const http::Request&) { return http::Response::text("SECRET admin page"); });
    app.post("/echo", [](const http::Request& r) { return http::Response::text(r.body); });
    return app;
}

http::ServerOptions test_options(http::Timeouts timeouts = {}) {
    http::ServerOptions options = hardening::hardened_options(timeouts);
    options.limits.max_body_bytes = 1000;
    return options;
}

// Sends `attack` on a fresh connection and returns every reply until the
// server closes, checking that the first is `status` with Connection: close
// and that nothing follows it.
void expect_one_refusal(const HttpServer& server, const std::string& attack, int status) {
    auto client = harness::Client::connect(server.port());
    INFO(client);
    ReplyReader reader(client);
    client.send(attack);
    const Reply reply = reader.next();
    CHECK(reply.status == status);
    CHECK(reply.closes());
    CHECK_MESSAGE(reader.leftover().empty(), "a second response followed the refusal: a request was smuggled");
    const std::string after = client.recv_until_eof();
    const std::string what = "a second response followed the refusal: \"" + harness::escape(after) + "\"";
    CHECK_MESSAGE(after.empty(), what);
    CHECK(reply.body.find("SECRET") == std::string::npos);
}

}  // namespace

TEST_CASE("framing: a second Content-Length cannot smuggle a request past the server") {
    HttpServer server(smuggling_app(), test_options());
    const std::string smuggled = "GET /admin HTTP/1.1\r\nHost: t\r\n\r\n";
    // A naive server believes the first length, 0, and reads the "body" as the next request.
    expect_one_refusal(server,
                       fmt::format("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: {}\r\n\r\n{}",
                                   smuggled.size(), smuggled),
                       400);
    expect_one_refusal(server, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: +32\r\n\r\n" + smuggled, 400);
    // The server still serves the next client, one request at a time.
    auto client = harness::Client::connect(server.port());
    ReplyReader reader(client);
    client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(reader.next().body == "public page");
}

TEST_CASE("framing: Content-Length with Transfer-Encoding is refused and the connection closed") {
    HttpServer server(smuggling_app(), test_options());
    // A front end that frames by Content-Length (6: "0\r\n\r\nG") and a back end that
    // frames by chunks would leave "G" to prefix the next user's request.
    expect_one_refusal(server,
                       "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG"
                       "GET /admin HTTP/1.1\r\nHost: t\r\n\r\n",
                       400);
    expect_one_refusal(server,
                       "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n"
                       "GET /admin HTTP/1.1\r\nHost: t\r\n\r\n",
                       400);
    expect_one_refusal(server, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501);
}

// ---- static files ----------------------------------------------------------------

namespace {

namespace fs = std::filesystem;

const std::string secret = "TOP SECRET: the server let you out of its root";

// A temporary tree: base/secret.txt outside, base/root/ to serve, with
// symlinks that point out of the root and one that stays inside.
class Tree {
public:
    Tree() {
        std::string pattern = (fs::temp_directory_path() / "workbook-15-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        base_ = pattern;
        write("secret.txt", secret);
        write("root/index.html", "<h1>home</h1>\n");
        write("root/hello.txt", "hello, world\n");
        write("root/style.css", "h1 { color: red }\n");
        write("root/app.JS", "console.log(1)\n");
        write("root/data.bin", std::string("\0\1\2", 3));
        write("root/docs/index.html", "<h1>docs</h1>\n");
        write("root/docs/a b.txt", "a space\n");
        write("root/docs/%2e%2e", "a file really named %2e%2e\n");
        write("root/.env", "PASSWORD=" + secret);
        write("root/docs/.git/config", secret);
        fs::create_symlink("../secret.txt", base_ / "root/escape");
        fs::create_symlink(base_ / "secret.txt", base_ / "root/absolute-escape");
        fs::create_symlink("..", base_ / "root/parent");
        fs::create_symlink("hello.txt", base_ / "root/inner-link");
        fs::create_symlink("../hello.txt", base_ / "root/docs/up-but-inside");
        REQUIRE(::mkfifo((base_ / "root/fifo").c_str(), 0600) == 0);
    }
    ~Tree() {
        std::error_code ignored;
        fs::remove_all(base_, ignored);
    }
    Tree(const Tree&) = delete;
    Tree& operator=(const Tree&) = delete;

    [[nodiscard]] std::string root() const { return (base_ / "root").string(); }
    void write(const std::string& name, const std::string& bytes) const {
        fs::create_directories((base_ / name).parent_path());
        std::ofstream(base_ / name, std::ios::binary) << bytes;
    }

private:
    fs::path base_;
};

http::Request request_for(std::string method, std::string path, std::vector<http::Field> headers = {}) {
    http::Request request;
    request.method = std::move(method);
    request.target = path;
    request.path = std::move(path);
    request.headers = std::move(headers);
    return request;
}

const std::string* field(const http::Response& response, std::string_view name) {
    for (const http::Field& f : response.headers) {
        if (http::iequals(f.name, name)) {
            return &f.value;
        }
    }
    return nullptr;
}

int refusal_of(std::string_view path) {
    try {
        (void)hardening::relative_path(path);
    } catch (const http::RequestError& error) {
        return error.status();
    }
    return 0;
}

}  // namespace

TEST_CASE("static: relative_path decodes first, then refuses dot segments, NUL and backslashes") {
    CHECK(hardening::relative_path("/hello.txt") == "hello.txt");
    CHECK(hardening::relative_path("/docs/a%20b.txt") == "docs/a b.txt");
    CHECK(hardening::relative_path("/") == "index.html");
    CHECK(hardening::relative_path("/docs/") == "docs/index.html");
    CHECK(hardening::relative_path("/docs%2fa%20b.txt") == "docs/a b.txt");  // %2f is a '/' once decoded
    CHECK(hardening::relative_path("/%252e%252e") == "%2e%2e");              // decoded once: a name, not ".."
    for (const char* path : {"/..", "/../secret.txt", "/docs/../../secret.txt", "/%2e%2e/secret.txt",
                             "/%2E%2E/secret.txt", "/.%2e/secret.txt", "/%2e./secret.txt", "/..%2fsecret.txt",
                             "/docs/%2e%2e/hello.txt", "/docs/%2e%2e%2f%2e%2e%2fsecret.txt", "/.", "/./hello.txt",
                             "/.env", "/%2eenv", "/docs/.git/config"}) {
        CAPTURE(path);
        CHECK(refusal_of(path) == 404);
    }
    for (const char* path : {"/..%5csecret.txt", "/..\\secret.txt", "/hello.txt%00.html", "/%zz", "/abc%2"}) {
        CAPTURE(path);
        CHECK(refusal_of(path) == 400);
    }
}

TEST_CASE("static: no traversal, encoded or not, reaches the file outside the root") {
    const Tree tree;
    const hardening::StaticFiles files(tree.root());
    for (const char* path : {"/../secret.txt", "/%2e%2e/secret.txt", "/%2e%2e%2fsecret.txt", "/..%2fsecret.txt",
                             "/docs/..%2f..%2fsecret.txt", "/%252e%252e/secret.txt", "/%252e%252e%252fsecret.txt",
                             "/..%5csecret.txt", "/..\\secret.txt", "/secret.txt%00", "/escape", "/absolute-escape",
                             "/parent/secret.txt", "/parent/root/hello.txt", "/.env", "/docs/.git/config",
                             "/%2eenv", "/fifo"}) {
        CAPTURE(path);
        const http::Response response = files.serve(request_for("GET", path));
        CHECK(response.body.find("SECRET") == std::string::npos);
        CHECK((response.status == 400 || response.status == 404));
    }
}

TEST_CASE("static: a symlink pointing out of the root is not followed; one inside it is") {
    const Tree tree;
    const hardening::StaticFiles files(tree.root());
    for (const char* path : {"/escape", "/absolute-escape", "/parent/secret.txt"}) {
        CAPTURE(path);
        const http::Response response = files.serve(request_for("GET", path));
        CHECK(response.status == 404);
        CHECK(response.body.find("SECRET") == std::string::npos);
    }
    const http::Response inner = files.serve(request_for("GET", "/inner-link"));
    CHECK(inner.status == 200);
    CHECK(inner.body == "hello, world\n");
    const http::Response up = files.serve(request_for("GET", "/docs/up-but-inside"));
    CHECK(up.status == 200);
    CHECK(up.body == "hello, world\n");
}

TEST_CASE("static: files with their Content-Type, HEAD, directories, 405 for other methods") {
    const Tree tree;
    const hardening::StaticFiles files(tree.root());
    const http::Response hello = files.serve(request_for("GET", "/hello.txt"));
    CHECK(hello.status == 200);
    CHECK(hello.body == "hello, world\n");
    CHECK(hello.content_type == "text/plain; charset=utf-8");
    CHECK(files.serve(request_for("GET", "/")).body == "<h1>home</h1>\n");
    CHECK(files.serve(request_for("GET", "/")).content_type == "text/html; charset=utf-8");
    CHECK(files.serve(request_for("GET", "/docs/")).body == "<h1>docs</h1>\n");
    CHECK(files.serve(request_for("GET", "/docs/a%20b.txt")).body == "a space\n");
    CHECK(files.serve(request_for("GET", "/docs/%252e%252e")).body == "a file really named %2e%2e\n");
    CHECK(files.serve(request_for("GET", "/style.css")).content_type == "text/css; charset=utf-8");
    CHECK(files.serve(request_for("GET", "/app.JS")).content_type == "text/javascript; charset=utf-8");
    const http::Response binary = files.serve(request_for("GET", "/data.bin"));
    CHECK(binary.content_type == "application/octet-stream");
    CHECK(binary.body == std::string("\0\1\2", 3));
    const http::Response directory = files.serve(request_for("GET", "/docs"));
    CHECK(directory.status == 301);
    REQUIRE(field(directory, "Location") != nullptr);
    CHECK(*field(directory, "Location") == "/docs/");
    CHECK(files.serve(request_for("GET", "/missing.txt")).status == 404);
    const http::Response post = files.serve(request_for("POST", "/hello.txt"));
    CHECK(post.status == 405);
    REQUIRE(field(post, "Allow") != nullptr);
    CHECK(*field(post, "Allow") == "GET, HEAD");
    const http::Response head = files.serve(request_for("HEAD", "/hello.txt"));
    CHECK(head.status == 200);
    CHECK(head.body.size() == 13);  // serialize sends the head only, with this Content-Length
    for (const auto& [name, type] : std::vector<std::pair<std::string, std::string>>{
             {"a.htm", "text/html; charset=utf-8"}, {"a.json", "application/json"}, {"a.svg", "image/svg+xml"},
             {"a.png", "image/png"}, {"a.JPG", "image/jpeg"}, {"a.jpeg", "image/jpeg"}, {"a.gif", "image/gif"},
             {"a.ico", "image/x-icon"}, {"a.wasm", "application/wasm"}, {"a.pdf", "application/pdf"},
             {"README", "application/octet-stream"}, {"dir.d/README", "application/octet-stream"},
             {"a.tar.gz", "application/octet-stream"}}) {
        CAPTURE(name);
        CHECK(hardening::content_type_for(name) == type);
    }
}

TEST_CASE("static: ETag and Last-Modified, and 304 for If-None-Match and If-Modified-Since") {
    const Tree tree;
    const hardening::StaticFiles files(tree.root());
    const http::Response first = files.serve(request_for("GET", "/hello.txt"));
    REQUIRE(field(first, "ETag") != nullptr);
    REQUIRE(field(first, "Last-Modified") != nullptr);
    const std::string etag = *field(first, "ETag");
    const std::string modified = *field(first, "Last-Modified");
    CHECK(etag.size() > 2);
    CHECK(etag.front() == '"');
    CHECK(http::parse_http_date(modified).has_value());

    const auto status_with = [&](std::vector<http::Field> headers) {
        const http::Response r = files.serve(request_for("GET", "/hello.txt", std::move(headers)));
        if (r.status == 304) {
            CHECK(r.body.empty());
            CHECK(field(r, "ETag") != nullptr);
        }
        return r.status;
    };
    CHECK(status_with({{"If-None-Match", etag}}) == 304);
    CHECK(status_with({{"If-None-Match", "W/" + etag}}) == 304);
    CHECK(status_with({{"If-None-Match", "\"other\", " + etag}}) == 304);
    CHECK(status_with({{"If-None-Match", "*"}}) == 304);
    CHECK(status_with({{"If-None-Match", "\"other\""}}) == 200);
    CHECK(status_with({{"If-None-Match", etag.substr(0, etag.size() - 2) + "\""}}) == 200);  // a prefix is another tag
    CHECK(status_with({{"If-Modified-Since", modified}}) == 304);
    CHECK(status_with({{"If-Modified-Since", http::format_http_date(*http::parse_http_date(modified) + 3600)}}) == 304);
    CHECK(status_with({{"If-Modified-Since", http::format_http_date(*http::parse_http_date(modified) - 1)}}) == 200);
    CHECK(status_with({{"If-Modified-Since", "yesterday"}}) == 200);
    // If-None-Match wins: a tag that does not match means 200, whatever the date says.
    CHECK(status_with({{"If-None-Match", "\"other\""}, {"If-Modified-Since", modified}}) == 200);
    CHECK(status_with({}) == 200);
}

// ---- deadlines -----------------------------------------------------------------------

TEST_CASE("deadlines: the header deadline runs from the first byte and later bytes do not move it") {
    const http::Timeouts timeouts{.header = 10s, .idle = 30s};
    const http::Clock::time_point t0 = http::Clock::now();
    http::DeadlineState state;
    CHECK((hardening::next_deadline(state, http::Stage::idle, t0, timeouts) ==
          http::Deadline{t0 + 30s, http::Expiry::close_quietly}));
    // The first byte of a request at t0 + 6 s; more bytes, one every second.
    CHECK((hardening::next_deadline(state, http::Stage::head, t0 + 6s, timeouts) ==
          http::Deadline{t0 + 16s, http::Expiry::request_timeout}));
    for (auto t = t0 + 7s; t < t0 + 16s; t += 1s) {
        CHECK_MESSAGE((hardening::next_deadline(state, http::Stage::head, t, timeouts) ==
                          http::Deadline{t0 + 16s, http::Expiry::request_timeout}),
                      "a byte of the head moved its deadline: a slowloris dripping a byte a second lives for ever");
    }
}

TEST_CASE("deadlines: idle from the end of the last request, body from the last read, each stage its own clock") {
    const http::Timeouts timeouts{.header = 10s, .idle = 30s};
    const http::Clock::time_point t0 = http::Clock::now();
    http::DeadlineState state;
    (void)hardening::next_deadline(state, http::Stage::idle, t0, timeouts);
    // Blank lines between requests are reads too, but not a request: the idle clock runs on.
    CHECK((hardening::next_deadline(state, http::Stage::idle, t0 + 5s, timeouts) ==
          http::Deadline{t0 + 30s, http::Expiry::close_quietly}));
    (void)hardening::next_deadline(state, http::Stage::head, t0 + 6s, timeouts);
    // The head is complete at t0 + 8 s; the body moves, so its deadline does.
    CHECK((hardening::next_deadline(state, http::Stage::body, t0 + 8s, timeouts) ==
          http::Deadline{t0 + 18s, http::Expiry::request_timeout}));
    CHECK((hardening::next_deadline(state, http::Stage::body, t0 + 15s, timeouts) ==
          http::Deadline{t0 + 25s, http::Expiry::request_timeout}));
    // The request is complete at t0 + 20 s: idle again, from then.
    CHECK((hardening::next_deadline(state, http::Stage::idle, t0 + 20s, timeouts) ==
          http::Deadline{t0 + 50s, http::Expiry::close_quietly}));
    // The next request's head starts its own clock.
    CHECK((hardening::next_deadline(state, http::Stage::head, t0 + 21s, timeouts) ==
          http::Deadline{t0 + 31s, http::Expiry::request_timeout}));
}

namespace {

// Sends `head` a byte at a time, one every `pace`, until the server answers
// or closes; returns how long after the first byte that happened.
std::chrono::milliseconds drip_until_answered(harness::Client& client, std::string_view head,
                                              std::chrono::milliseconds pace, std::chrono::milliseconds give_up) {
    const auto start = std::chrono::steady_clock::now();
    const harness::Deadline deadline(give_up);
    std::size_t at = 0;
    while (!deadline.expired()) {
        if (at < head.size()) {
            client.send(head.substr(at++, 1));
        }
        pollfd readable{client.fd(), POLLIN, 0};
        // Waiting for the answer, with the drip's pace as the longest wait.
        if (::poll(&readable, 1, static_cast<int>(pace.count())) > 0) {
            return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        }
    }
    FAIL("no answer within ", give_up.count(), " ms of the first byte: the header deadline never fired");
    return give_up;
}

}  // namespace

TEST_CASE("deadlines: a client that drips its head a byte at a time gets 408 and a close, on time") {
    HttpServer server(smuggling_app(), test_options({.header = 300ms, .idle = 5s}));
    auto client = harness::Client::connect(server.port());
    INFO(client);
    const std::string head = "GET / HTTP/1.1\r\nHost: t\r\n" + std::string(200, 'X') + ": y\r\n\r\n";
    // The drip would take 7 s; a deadline that each byte restarts never fires before it
    // ends, and the idle one (5 s) is past the give-up. The bounds are loose for a loaded machine.
    const auto answered = drip_until_answered(client, head, 30ms, 4000ms);
    CHECK(answered >= 250ms);
    CHECK(answered <= 3000ms);
    ReplyReader reader(client);
    const Reply reply = reader.next();
    CHECK(reply.status == 408);
    CHECK(reply.closes());
    client.expect_eof();
}

TEST_CASE("deadlines: a stalled body gets 408; an idle keep-alive connection is closed without a word") {
    HttpServer server(smuggling_app(), test_options({.header = 300ms, .idle = 300ms}));
    {
        auto client = harness::Client::connect(server.port());
        INFO(client);
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
        ReplyReader reader(client);
        const Reply reply = reader.next(false, 2000ms);
        CHECK(reply.status == 408);
        client.expect_eof();
    }
    {
        auto client = harness::Client::connect(server.port());
        INFO(client);
        ReplyReader reader(client);
        client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        CHECK(reader.next().body == "public page");
        const auto start = std::chrono::steady_clock::now();
        CHECK(client.recv_until_eof(2000ms).empty());  // closed without a byte
        CHECK(std::chrono::steady_clock::now() - start >= 250ms);
    }
    {
        auto client = harness::Client::connect(server.port());  // never says anything
        INFO(client);
        CHECK(client.recv_until_eof(2000ms).empty());
    }
}
