// Tests for exercise 14 — the request parser and the router
// (exercises/14-http-server/http_server.hpp). The parser is fed requests cut
// at every split point; the router and serialize are called directly; then
// the whole server (server.cpp, on the learner's two files) answers real
// clients over loopback, each wait with a deadline.
#include <doctest/doctest.h>

#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "http_on_loop.hpp"
#include "http_replies.hpp"
#include "http_server.hpp"
#include "pieces.hpp"
#include "tcp_proxy.hpp"
#include "waits.hpp"

using namespace std::chrono_literals;
using harness::Reply;
using harness::ReplyReader;
// Exercise 14's server: http::Server on the learner's parser and router.
using HttpServer = harness::HttpServerOnLoop<http::Server, http::Router, http::ServerOptions>;

namespace {

// Feeds `bytes` cut at `cuts`; returns every complete request, in order, and
// checks that each feed took exactly the bytes of its own request.
std::vector<http::Request> parse_pieces(std::string_view bytes, const std::vector<std::size_t>& cuts,
                                        http::Limits limits = {}) {
    http::RequestParser parser(limits);
    std::vector<http::Request> requests;
    for (std::string_view piece : harness::pieces(bytes, cuts)) {
        while (!piece.empty()) {
            const std::size_t used = parser.feed(piece);
            REQUIRE(used <= piece.size());
            piece.remove_prefix(used);
            if (parser.done()) {
                requests.push_back(parser.take());
            } else {
                REQUIRE_MESSAGE(piece.empty(), "feed() left bytes behind but the request is not done");
            }
        }
    }
    CHECK_MESSAGE(parser.idle(), "bytes of an unfinished request are left in the parser");
    return requests;
}

std::vector<http::Request> parse_whole(std::string_view bytes, http::Limits limits = {}) {
    return parse_pieces(bytes, {}, limits);
}

// The status of the RequestError that `bytes` end in, or 0 when none is thrown.
int refusal(std::string_view bytes, http::Limits limits = {}) {
    http::RequestParser parser(limits);
    try {
        std::size_t from = 0;
        while (from < bytes.size()) {
            from += parser.feed(bytes.substr(from));
            if (parser.done()) {
                (void)parser.take();
            }
        }
    } catch (const http::RequestError& error) {
        return error.status();
    }
    return 0;
}

const std::string get_a = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string post_b = "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
const std::string chunked_c = "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "3;name=value\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: t\r\n\r\n";

http::Request parse_one(std::string_view bytes) {
    auto requests = parse_whole(bytes);
    REQUIRE(requests.size() == 1);
    return std::move(requests.front());
}

http::Request make_request(std::string method, std::string path) {
    http::Request request;
    request.method = std::move(method);
    request.target = path;
    request.path = std::move(path);
    return request;
}

std::string header_of(std::string_view bytes, std::string_view name) {
    const std::string key = "\r\n" + std::string(name) + ": ";
    const std::size_t at = bytes.find(key);
    if (at == std::string_view::npos) {
        return "(none)";
    }
    const std::size_t start = at + key.size();
    return std::string(bytes.substr(start, bytes.find("\r\n", start) - start));
}

}  // namespace

// ---- the parser --------------------------------------------------------------

TEST_CASE("parser: a GET with its fields, path and query, fed whole and one byte at a time") {
    const std::string bytes = "GET /users/7?full=1&x=%20 HTTP/1.1\r\nHost: example.com\r\nAccept:   */*  \r\n"
                              "X-Empty:\r\n\r\n";
    for (const auto& cuts : {std::vector<std::size_t>{}, harness::every_byte(bytes)}) {
        auto requests = parse_pieces(bytes, cuts);
        REQUIRE(requests.size() == 1);
        const http::Request& r = requests.front();
        CHECK(r.method == "GET");
        CHECK(r.target == "/users/7?full=1&x=%20");
        CHECK(r.path == "/users/7");
        CHECK(r.query == "full=1&x=%20");
        CHECK(r.minor_version == 1);
        REQUIRE(r.headers.size() == 3);
        CHECK(r.headers[0].name == "Host");
        CHECK(r.headers[0].value == "example.com");
        CHECK(r.headers[1].value == "*/*");
        CHECK(r.headers[2].value == "");
        CHECK(r.body.empty());
        CHECK(r.keep_alive);
    }
    // Bare LF line ends, and empty lines before the request line (RFC 9112 §2.2).
    const http::Request lf = parse_one("\r\n\nGET / HTTP/1.1\nHost: x\n\n");
    CHECK(lf.path == "/");
    CHECK(lf.query == "");
}

TEST_CASE("parser: pipelined requests cut at every split point come out whole, in order, each feed taking only its own") {
    const std::string pipeline = get_a + post_b + chunked_c + get_a;
    for (std::size_t cut = 0; cut <= pipeline.size(); ++cut) {
        CAPTURE(cut);
        const auto requests = parse_pieces(pipeline, {cut});
        REQUIRE(requests.size() == 4);
        CHECK(requests[0].path == "/a");
        CHECK(requests[1].path == "/b");
        CHECK(requests[1].body == "hello");
        CHECK(requests[2].path == "/c");
        CHECK(requests[2].body == "abc0123456789abcdef");
        CHECK(requests[3].path == "/a");
    }
    // And all of it in one feed: the first request only.
    http::RequestParser parser;
    CHECK(parser.feed(pipeline) == get_a.size());
    CHECK(parser.done());
}

TEST_CASE("parser: a Content-Length body is complete only with its last byte") {
    http::RequestParser parser;
    const std::string head = "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n";
    CHECK(parser.feed(head + "01234") == head.size() + 5);
    CHECK_FALSE(parser.done());
    CHECK(parser.feed("567") == 3);
    CHECK_FALSE(parser.done());
    CHECK(parser.feed("89GET") == 2);  // the rest is the next request's
    REQUIRE(parser.done());
    CHECK(parser.take().body == "0123456789");
    CHECK(parser.idle());
}

TEST_CASE("parser: Content-Length: 0 is a complete request at its empty line, with no byte more to wait for") {
    http::RequestParser parser;
    const std::string post = "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    CHECK(parser.feed(post) == post.size());
    REQUIRE(parser.done());
    CHECK(parser.take().body.empty());
    CHECK(parser.idle());
}

TEST_CASE("parser: a chunked body with extensions and trailers, split at every byte") {
    const auto requests = parse_pieces(chunked_c, harness::every_byte(chunked_c));
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].body == "abc0123456789abcdef");
    CHECK(requests[0].header("X-Trailer") == nullptr);  // trailers are not header fields
}

TEST_CASE("parser: malformed requests are refused with 400, an unknown version with 505") {
    struct Case {
        std::string why;
        std::string bytes;
        int status;
    };
    const std::vector<Case> cases = {
        {"no target", "GET HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"two spaces", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"a target that is not a path", "GET index.html HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"a control in the target", "GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"a method that is not a token", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"not HTTP", "GET / FTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"HTTP/2.0 on a text connection", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
        {"HTTP/1.2", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", 505},
        {"HTTP/1.1 without Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400},
        {"two Host fields", "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400},
        {"a space before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
        {"a field line without a colon", "GET / HTTP/1.1\r\nHost: x\r\nOops\r\n\r\n", 400},
        {"obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  2\r\n\r\n", 400},
        {"a CR inside a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r2\r\n\r\n", 400},
        {"a control character inside a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\x01 2\r\n\r\n", 400},
        {"a NUL inside a value", std::string("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\0 2\r\n\r\n", 38), 400},
        {"Content-Length +5", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", 400},
        {"Content-Length -1", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
        {"Content-Length 5 5 (a space inside)", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5 5\r\n\r\n", 400},
        {"conflicting Content-Length fields",
         "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
        {"Content-Length past 2^64", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551621\r\n\r\n", 400},
        {"Transfer-Encoding and Content-Length",
         "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", 400},
        {"a final coding that is not chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
        {"chunked twice", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
        {"a coding before chunked that this server cannot decode",
         "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
        {"a chunk size that is not hex", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
        {"a chunk size past 2^64",
         "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000003\r\nabc\r\n0\r\n\r\n", 400},
        {"chunk data longer than its size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n", 400},
    };
    for (const Case& c : cases) {
        CAPTURE(c.why);
        CHECK(refusal(c.bytes) == c.status);
    }
    // What must still be fine: equal lengths said twice, HTTP/1.0 without
    // Host, "chunked" in any case, an empty reason-free request to "*".
    CHECK(parse_one("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nhi").body == "hi");
    CHECK(parse_one("GET / HTTP/1.0\r\n\r\n").minor_version == 0);
    CHECK(parse_one("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\n2\r\nhi\r\n0\r\n\r\n").body == "hi");
    CHECK(parse_one("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").target == "*");
}

TEST_CASE("parser: the limits are exact: 414, 431 and 413 one byte past each, fine at it") {
    http::Limits limits;
    limits.max_request_line = 40;
    limits.max_header_bytes = 64;
    limits.max_fields = 3;
    limits.max_body_bytes = 10;

    // "GET " + target + " HTTP/1.1" is 13 bytes + the target.
    const std::string at_line_limit = "GET /" + std::string(26, 'a') + " HTTP/1.1";
    REQUIRE(at_line_limit.size() == 40);
    CHECK(refusal(at_line_limit + "\r\nHost: x\r\n\r\n", limits) == 0);
    CHECK(refusal("GET /" + std::string(27, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", limits) == 414);

    // Field lines count with their CRLF: 9 + 55 = 64 bytes.
    const std::string fields_at_limit = "Host: x\r\nX: " + std::string(50, 'v') + "\r\n";
    REQUIRE(fields_at_limit.size() == 64);
    CHECK(refusal("GET / HTTP/1.1\r\n" + fields_at_limit + "\r\n", limits) == 0);
    CHECK(refusal("GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(51, 'v') + "\r\n\r\n", limits) == 431);
    CHECK(refusal("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n", limits) == 0);
    CHECK(refusal("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits) == 431);

    CHECK(refusal("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789", limits) == 0);
    CHECK(refusal("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", limits) == 413);  // no body sent yet
    CHECK(refusal("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n",
                  limits) == 0);
    CHECK(refusal("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n6\r\n", limits) == 413);

    // Every request on a connection starts its counts from zero: five at the
    // limits, one after another on one parser.
    const std::string at_limits = at_line_limit + "\r\n" + fields_at_limit + "\r\n";
    std::string five;
    for (int i = 0; i < 5; ++i) {
        five += at_limits + "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789";
    }
    CHECK(parse_whole(five, limits).size() == 10);
}

TEST_CASE("parser: a request line or a field that never ends is refused before it is all buffered") {
    http::Limits limits;
    limits.max_request_line = 1000;
    limits.max_header_bytes = 1000;
    // In 100-byte pieces, each far under the limit: the total counts.
    const auto status_after_pieces = [&limits](const std::string& start, char filler) {
        http::RequestParser parser(limits);
        try {
            parser.feed(start);
            for (int piece = 0; piece < 20; ++piece) {
                parser.feed(std::string(100, filler));
            }
        } catch (const http::RequestError& error) {
            return error.status();
        }
        return 0;
    };
    CHECK(status_after_pieces("GET /", 'a') == 414);
    CHECK(status_after_pieces("GET / HTTP/1.1\r\nHost: x\r\nX-Big: ", 'v') == 431);
    {
        http::RequestParser parser(limits);
        CHECK(parser.feed("GET /" + std::string(990, 'a')) == 995);  // not over yet: no error
        CHECK_THROWS_AS(parser.feed(std::string(100'000, 'a')), http::RequestError);
    }
    {
        http::RequestParser parser(limits);
        parser.feed("GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
        try {
            parser.feed(std::string(100'000, 'v'));
            FAIL("a 100 KB field was taken without a 431");
        } catch (const http::RequestError& error) {
            CHECK(error.status() == 431);
        }
    }
}

TEST_CASE("parser: keep-alive from the version and the Connection tokens") {
    CHECK(parse_one("GET / HTTP/1.1\r\nHost: x\r\n\r\n").keep_alive);
    CHECK_FALSE(parse_one("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").keep_alive);
    CHECK_FALSE(parse_one("GET / HTTP/1.1\r\nHost: x\r\nconnection: Upgrade, CLOSE\r\n\r\n").keep_alive);
    CHECK_FALSE(parse_one("GET / HTTP/1.0\r\n\r\n").keep_alive);
    CHECK(parse_one("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
    CHECK(parse_one("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n").keep_alive);
}

TEST_CASE("parser: field names in any case, and header() finds them in any case") {
    const http::Request r = parse_one("POST /b HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nX-Name: Ada\r\n\r\nhello");
    CHECK(r.body == "hello");
    REQUIRE(r.header("x-name") != nullptr);
    CHECK(*r.header("x-name") == "Ada");
    REQUIRE(r.header("HOST") != nullptr);
    CHECK(r.header("X-Nam") == nullptr);
    CHECK(parse_one("POST /c HTTP/1.1\r\nHOST: x\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n").body == "hi");
}

// ---- the router and serialize ------------------------------------------------

namespace {

http::Router test_app() {
    http::Router app;
    app.get("/", [](const http::Request&) { return http::Response::text("Hello, World!"); });
    app.get("/users/<id>", [](const http::Request& r) { return http::Response::text("user " + r.params.at("id")); });
    app.get("/users/me", [](const http::Request&) { return http::Response::text("unreachable: <id> came first"); });
    app.get("/users/<id>/posts/<post>", [](const http::Request& r) {
        return http::Response::text(r.params.at("id") + "/" + r.params.at("post"));
    });
    app.post("/messages", [](const http::Request& r) { return http::Response::json(r.json(), 201); });
    app.get("/messages", [](const http::Request&) { return http::Response::json(nlohmann::json::array()); });
    app.route("DELETE", "/messages", [](const http::Request&) { return http::Response::text("", 204); });
    app.get("/teapot", [](const http::Request&) -> http::Response { throw http::RequestError(418, "short and stout"); });
    app.get("/broken", [](const http::Request&) -> http::Response { throw std::out_of_range("map::at"); });
    return app;
}

http::Response dispatch(const http::Router& app, std::string method, std::string path) {
    http::Request request = make_request(std::move(method), std::move(path));
    return app.dispatch(request);
}

}  // namespace

TEST_CASE("router: <name> binds one percent-decoded segment, routes are tried in order, 404 where none matches") {
    const http::Router app = test_app();
    CHECK(dispatch(app, "GET", "/").body == "Hello, World!");
    CHECK(dispatch(app, "GET", "/users/7").body == "user 7");
    CHECK(dispatch(app, "GET", "/users/J%C3%BCrgen%2Fx").body == "user Jürgen/x");
    CHECK(dispatch(app, "GET", "/users/me").body == "user me");
    CHECK(dispatch(app, "GET", "/users/7/posts/12").body == "7/12");
    CHECK(dispatch(app, "GET", "/user%73/7").body == "user 7");
    for (const char* missing : {"/users", "/users/", "/users/7/posts", "/users/7/extra", "/nope", "/messages/", "//"}) {
        CAPTURE(missing);
        CHECK(dispatch(app, "GET", missing).status == 404);
    }
    CHECK(dispatch(app, "GET", "/users/%zz").status == 400);
    http::Request request = make_request("GET", "/users/42");
    (void)app.dispatch(request);
    CHECK(request.params.at("id") == "42");
}

TEST_CASE("router: 405 lists every method of the path in Allow, 501 for a method nobody knows") {
    const http::Router app = test_app();
    const http::Response put = dispatch(app, "PUT", "/messages");
    CHECK(put.status == 405);
    std::string allow = "(none)";
    for (const http::Field& field : put.headers) {
        if (field.name == "Allow") {
            allow = field.value;
        }
    }
    CHECK(allow == "DELETE, GET, HEAD, POST");
    CHECK(dispatch(app, "POST", "/").status == 405);
    CHECK(dispatch(app, "BREW", "/").status == 501);
    CHECK(dispatch(app, "BREW", "/nope").status == 501);
    CHECK(dispatch(app, "get", "/").status == 501);  // methods are case-sensitive
}

TEST_CASE("router: HEAD runs the GET handler; handlers' errors become 4xx or 500") {
    const http::Router app = test_app();
    const http::Response head = dispatch(app, "HEAD", "/users/7");
    CHECK(head.status == 200);
    CHECK(head.body == "user 7");  // serialize leaves the body out, not the router
    CHECK(dispatch(app, "GET", "/teapot").status == 418);
    CHECK(dispatch(app, "GET", "/broken").status == 500);
    http::Request bad_json = make_request("POST", "/messages");
    bad_json.body = "{not json";
    CHECK(app.dispatch(bad_json).status == 400);
}

TEST_CASE("serialize: status line, Date in GMT whatever TZ says, Content-Length, Connection: close") {
    // 2024-02-29 23:59:58 UTC, a Thursday; 18:59:58 in New York.
    const auto when = std::chrono::system_clock::from_time_t(1709251198);
    const char* old_tz = std::getenv("TZ");
    const std::string saved = old_tz != nullptr ? old_tz : "";
    ::setenv("TZ", "America/New_York", 1);
    ::tzset();
    http::Response response = http::Response::text("Hello, World!");
    response.headers.push_back({"X-Powered-By", "the workbook"});
    const std::string bytes = http::serialize(response, "GET", false, when);
    if (old_tz != nullptr) {
        ::setenv("TZ", saved.c_str(), 1);
    } else {
        ::unsetenv("TZ");
    }
    ::tzset();
    INFO(harness::escape(bytes, 400));
    CHECK(bytes.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(header_of(bytes, "Date") == "Thu, 29 Feb 2024 23:59:58 GMT");
    CHECK(header_of(bytes, "Content-Length") == "13");
    CHECK(header_of(bytes, "Content-Type") == "text/plain; charset=utf-8");
    CHECK(header_of(bytes, "X-Powered-By") == "the workbook");
    CHECK(header_of(bytes, "Connection") == "(none)");
    CHECK(bytes.size() >= 17);
    CHECK(bytes.substr(bytes.size() - 17) == "\r\n\r\nHello, World!");

    const std::string closing = http::serialize(http::Response::text("x", 404), "GET", true, when);
    CHECK(closing.rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
    CHECK(header_of(closing, "Connection") == "close");
    CHECK(header_of(http::serialize(http::Response::text("", 431), "GET", true, when), "Date") ==
          "Thu, 29 Feb 2024 23:59:58 GMT");
    CHECK(http::serialize(http::Response::text("", 431), "GET", true, when).rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0) == 0);
    CHECK(http::serialize(http::Response::text("", 299), "GET", true, when).rfind("HTTP/1.1 299 Unknown\r\n", 0) == 0);
    // Two digits for the day and each part of the time: 2024-03-01 05:04:03 UTC.
    const std::string early = http::serialize(http::Response::text(""), "GET", false,
                                              std::chrono::system_clock::from_time_t(1709269443));
    CHECK(header_of(early, "Date") == "Fri, 01 Mar 2024 05:04:03 GMT");
    CHECK(header_of(early, "Content-Length") == "0");  // an empty body is said, or the client waits for close
}

TEST_CASE("serialize: HEAD, 204 and 304 carry no body, and HEAD keeps the GET's Content-Length") {
    const auto now = std::chrono::system_clock::now();
    const std::string head = http::serialize(http::Response::text("Hello, World!"), "HEAD", false, now);
    CHECK(header_of(head, "Content-Length") == "13");
    CHECK(head.size() >= 4);
    CHECK(head.substr(head.size() - 4) == "\r\n\r\n");
    for (const int status : {204, 304}) {
        CAPTURE(status);
        const std::string bytes = http::serialize(http::Response::text("stray", status), "GET", false, now);
        CHECK(bytes.substr(bytes.size() - 4) == "\r\n\r\n");
        CHECK(header_of(bytes, "Content-Length") == "(none)");  // RFC 9110 §8.6
    }
}

// ---- the whole server, over loopback -------------------------------------------

TEST_CASE("server: two requests on one kept-alive connection") {
    HttpServer server(test_app());
    auto client = harness::Client::connect(server.port());
    INFO(client);
    ReplyReader reader(client);
    client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n");
    const Reply first = reader.next();
    CHECK(first.status == 200);
    CHECK(first.body == "Hello, World!");
    CHECK_FALSE(first.closes());
    client.send("GET /users/9 HTTP/1.1\r\nHost: test\r\n\r\n");
    CHECK(reader.next().body == "user 9");
    CHECK(server.stop() == 2);
}

TEST_CASE("server: pipelined requests in one write are answered in order, HEAD without a body") {
    HttpServer server(test_app());
    auto client = harness::Client::connect(server.port());
    INFO(client);
    ReplyReader reader(client);
    client.send("GET /users/1 HTTP/1.1\r\nHost: t\r\n\r\n"
                "HEAD /users/2 HTTP/1.1\r\nHost: t\r\n\r\n"
                "POST /messages HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n{\"n\": 3.5}\n"
                "PUT /messages HTTP/1.1\r\nHost: t\r\n\r\n"
                "GET /users/5 HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(reader.next().body == "user 1");
    const Reply head = reader.next(true);
    CHECK(head.status == 200);
    REQUIRE(head.header("Content-Length") != nullptr);
    CHECK(*head.header("Content-Length") == "6");
    const Reply created = reader.next();
    CHECK(created.status == 201);
    CHECK(created.body == "{\"n\":3.5}\n");
    const Reply not_allowed = reader.next();
    CHECK(not_allowed.status == 405);
    CHECK(reader.next().body == "user 5");
    CHECK(reader.leftover().empty());
}

TEST_CASE("server: a long answer still going out is not overtaken by the next one") {
    // 2 MiB cannot fit in the socket buffers (16 KiB each way, fixed): the
    // server is still sending it when the second request arrives.
    // The second handler returns only once the client has read all the
    // server has sent so far, so the socket has room again when its answer
    // is queued: an answer sent at once instead of queued would get in.
    const std::string big = harness::random_bytes(2 << 20, 14);
    http::Router app = test_app();
    app.get("/big", [&big](const http::Request&) { return http::Response::text(big); });
    int client_fd = -1;
    app.get("/after-a-drain", [&client_fd](const http::Request&) {
        harness::wait_until_read(harness::peer_socket(client_fd), client_fd, "the client reads what was sent");
        return http::Response::text("second");
    });
    HttpServer server(std::move(app), {.output_limit = 4 << 20}, 16 * 1024);
    auto client = harness::Client::connect(server.port());
    client_fd = client.fd();
    const int small_buffer = 16 * 1024;
    net::check(::setsockopt(client.fd(), SOL_SOCKET, SO_RCVBUF, &small_buffer, sizeof small_buffer), "setsockopt");
    ReplyReader reader(client);
    client.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
    harness::wait_readable(client.fd(), harness::Deadline(harness::default_timeout), "the start of the long answer");
    client.send("GET /after-a-drain HTTP/1.1\r\nHost: t\r\n\r\n");
    const Reply first = reader.next();
    CHECK(first.status == 200);
    REQUIRE(harness::first_difference(big, first.body) == "");
    const Reply second = reader.next();
    CHECK(second.body == "second");
}

TEST_CASE("server: answers bigger than the output limit, pipelined, all come (the socket buffers took each at once)") {
    // Each answer fills the output past its limit, so the server stops
    // reading; when the kernel then takes the whole answer without an
    // EAGAIN, no edge will wake the server for what is left: it must look
    // again by itself.
    const std::string big = harness::random_bytes(1200 * 1024, 15);
    http::Router app = test_app();
    app.get("/big", [&big](const http::Request&) { return http::Response::text(big); });
    HttpServer server(std::move(app));
    for (int round = 0; round < 3; ++round) {
        auto client = harness::Client::connect(server.port());
        INFO(client);
        ReplyReader reader(client);
        client.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\nGET /big HTTP/1.1\r\nHost: t\r\n\r\n"
                    "GET /users/3 HTTP/1.1\r\nHost: t\r\n\r\nGET /big HTTP/1.1\r\nHost: t\r\n\r\n");
        for (const char* what : {"big", "big", "user", "big"}) {
            const Reply reply = reader.next(false, 5s);
            CHECK(reply.status == 200);
            if (what == std::string_view("big")) {
                REQUIRE(harness::first_difference(big, reply.body) == "");
            } else {
                CHECK(reply.body == "user 3");
            }
        }
    }
}

TEST_CASE("server: Connection: close and HTTP/1.0 end the connection after the answer") {
    HttpServer server(test_app());
    {
        auto client = harness::Client::connect(server.port());
        INFO(client);
        ReplyReader reader(client);
        client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\nGET /users/1 HTTP/1.1\r\nHost: t\r\n\r\n");
        const Reply reply = reader.next();
        CHECK(reply.body == "Hello, World!");
        CHECK(reply.closes());
        CHECK(reader.leftover().empty());
        client.expect_eof();  // the pipelined request after "close" is not answered
    }
    {
        auto client = harness::Client::connect(server.port());
        INFO(client);
        ReplyReader reader(client);
        client.send("GET /users/3 HTTP/1.0\r\n\r\n");
        const Reply reply = reader.next();
        CHECK(reply.body == "user 3");
        CHECK(reply.closes());
        client.expect_eof();
    }
    {
        auto client = harness::Client::connect(server.port());
        INFO(client);
        ReplyReader reader(client);
        client.send("GET /users/4 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        const Reply kept = reader.next();
        CHECK_FALSE(kept.closes());
        REQUIRE(kept.header("Connection") != nullptr);  // or the HTTP/1.0 client closes
        CHECK(*kept.header("Connection") == "keep-alive");
        client.send("GET /users/5 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        CHECK(reader.next().body == "user 5");
    }
}

TEST_CASE("server: request bodies through a re-chunking proxy, Content-Length and chunked") {
    http::Router app;
    app.post("/echo", [](const http::Request& r) { return http::Response::text(r.body); });
    HttpServer server(std::move(app));
    harness::TcpProxy proxy(server.port(), {.min_piece = 1, .max_piece = 5});
    INFO(proxy.describe());
    auto client = harness::Client::connect(proxy.port());
    INFO(client);
    ReplyReader reader(client);
    const std::string body = harness::random_bytes(3000, 7);
    std::string chunked;
    for (std::size_t at = 0; at < body.size(); at += 700) {
        const std::string piece = body.substr(at, 700);
        chunked += fmt::format("{:x}\r\n{}\r\n", piece.size(), piece);
    }
    client.send(fmt::format("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{}", body.size(), body) +
                "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + "0\r\n\r\n");
    const Reply by_length = reader.next();
    CHECK(by_length.body.size() == body.size());
    CHECK(by_length.body == body);
    const Reply by_chunks = reader.next();
    CHECK(by_chunks.body == body);
}

TEST_CASE("server: a body sent in two writes, the server having read the first before the second comes") {
    http::Router app;
    app.post("/echo", [](const http::Request& r) { return http::Response::text(r.body); });
    HttpServer server(std::move(app));
    auto client = harness::Client::connect(server.port());
    INFO(client);
    ReplyReader reader(client);
    const std::string body = harness::random_bytes(2000, 8);
    client.send(fmt::format("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{}", body.size(),
                            body.substr(0, 500)));
    harness::wait_until_read(client.fd(), harness::wait_for_peer_socket(client.fd(), "the server accepts"),
                             "the server reads the head and 500 bytes");
    client.send(body.substr(500));
    const Reply reply = reader.next();
    CHECK(reply.status == 200);
    CHECK(reply.body == body);
}

TEST_CASE("server: a malformed request gets its 4xx and a close, and the server serves the next client") {
    http::ServerOptions options;
    options.limits.max_request_line = 1024;
    HttpServer server(test_app(), options);
    {
        auto client = harness::Client::connect(server.port());
        INFO(client);
        ReplyReader reader(client);
        client.send("GET / HTTP/1.1\r\nHost : t\r\n\r\n");
        const Reply reply = reader.next();
        CHECK(reply.status == 400);
        CHECK(reply.closes());
        client.expect_eof();
    }
    {
        auto client = harness::Client::connect(server.port());
        INFO(client);
        ReplyReader reader(client);
        client.send("GET /" + std::string(2000, 'a'));  // no end in sight
        const Reply reply = reader.next();
        CHECK(reply.status == 414);
        client.expect_eof();
    }
    auto client = harness::Client::connect(server.port());
    ReplyReader reader(client);
    client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(reader.next().status == 200);
}
