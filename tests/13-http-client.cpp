// Tests for exercise 13 — the HTTP response parser (exercises/13-http-client/http.hpp).
// The parser is fed bytes in every split; then the whole client (client.cpp,
// on the learner's parser) talks to scripted servers (support/http_peer.hpp)
// over loopback, each wait with a deadline.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "http.hpp"
#include "http_peer.hpp"
#include "net/tcp.hpp"
#include "pieces.hpp"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using harness::HttpConnection;
using harness::HttpPeer;
using harness::HttpTurn;

namespace {

// Feeds `bytes` cut at `cuts` (and takes the rest at the end); returns the
// response and how many bytes the parser took in all.
struct Parsed {
    http::Response response;
    std::size_t used = 0;
};

Parsed parse_pieces(std::string_view bytes, const std::vector<std::size_t>& cuts, std::string_view method = "GET",
                    bool close_at_end = false, http::Limits limits = {}) {
    http::ResponseParser parser(method, limits);
    Parsed parsed;
    for (const std::string_view piece : harness::pieces(bytes, cuts)) {
        const std::size_t used = parser.feed(piece);
        REQUIRE(used <= piece.size());
        parsed.used += used;
        if (used < piece.size()) {
            REQUIRE(parser.done());  // only a complete response leaves bytes behind
            break;
        }
    }
    if (close_at_end && !parser.done()) {
        parser.finish();
    }
    REQUIRE(parser.done());
    parsed.response = parser.take();
    return parsed;
}

Parsed parse_whole(std::string_view bytes, std::string_view method = "GET", bool close_at_end = false) {
    return parse_pieces(bytes, {}, method, close_at_end);
}

// Feeds everything, then says the server closed: must end in http::Error.
std::string parse_error(std::string_view bytes, std::string_view method = "GET", http::Limits limits = {}) {
    http::ResponseParser parser(method, limits);
    try {
        parser.feed(bytes);
        parser.finish();
    } catch (const http::Error& error) {
        return error.what();
    }
    return "(no error)";
}

std::string field(const http::Response& response, std::string_view name) {
    const std::string* value = response.header(name);
    return value == nullptr ? "(absent)" : *value;
}

const std::string chunked_response =
    "HTTP/1.1 200 OK\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "5;name=value\r\nhello\r\n"
    "7\r\n, world\r\n"
    "0\r\n"
    "Expires: never\r\n"
    "\r\n";

}  // namespace

// ---- the parser, bytes in memory ---------------------------------------------------

TEST_CASE("parser: a Content-Length response, cut at every byte, ends at its last byte") {
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: test\r\n\r\nhello";
    const std::string next = "HTTP/1.1 204 No Content\r\n\r\n";
    for (std::size_t cut = 0; cut <= response.size() + next.size(); ++cut) {
        CAPTURE(cut);
        const Parsed parsed = parse_pieces(response + next, {cut});
        CHECK(parsed.used == response.size());  // the next response is not taken
        CHECK(parsed.response.status == 200);
        CHECK(parsed.response.reason == "OK");
        CHECK(parsed.response.body == "hello");
        CHECK(parsed.response.keep_alive);
        CHECK(field(parsed.response, "server") == "test");
    }
    const Parsed bytewise = parse_pieces(response, harness::every_byte(response));
    CHECK(bytewise.response.body == "hello");
}

TEST_CASE("parser: a Content-Length body is complete without waiting for the server to close") {
    http::ResponseParser parser("GET");
    CHECK(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi") == 40);
    CHECK(parser.done());  // no finish(): on a kept-alive connection the close never comes
    CHECK(parser.take().body == "hi");
}

TEST_CASE("parser: chunked with extensions and trailers, cut at every byte") {
    const Parsed whole = parse_whole(chunked_response);
    CHECK(whole.response.body == "hello, world");
    REQUIRE(whole.response.trailers.size() == 1);
    CHECK(whole.response.trailers[0].name == "Expires");
    CHECK(whole.response.trailers[0].value == "never");
    CHECK(whole.response.keep_alive);
    for (std::size_t cut = 0; cut <= chunked_response.size(); ++cut) {
        CAPTURE(cut);
        CHECK(parse_pieces(chunked_response + "HTTP/1.1", {cut}).response.body == "hello, world");
        CHECK(parse_pieces(chunked_response + "HTTP/1.1", {cut}).used == chunked_response.size());
    }
    CHECK(parse_pieces(chunked_response, harness::every_byte(chunked_response)).response.body == "hello, world");
}

TEST_CASE("parser: Transfer-Encoding whose last coding is chunked (gzip, chunked), in two fields, any case") {
    const std::string body = "3\r\nabc\r\n0\r\n\r\n";
    CHECK(parse_whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + body).response.body == "abc");
    CHECK(parse_whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\ntransfer-encoding: Chunked\r\n\r\n" + body)
              .response.body == "abc");
    // chunked not last: the body runs until the server closes (RFC 9112 §6.3 rule 4)
    const Parsed until_close =
        parse_whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n" + body, "GET", true);
    CHECK(until_close.response.body == body);
    CHECK_FALSE(until_close.response.keep_alive);
}

TEST_CASE("parser: Transfer-Encoding wins over Content-Length, and the connection is not reused") {
    const Parsed parsed = parse_whole("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
                                      "3\r\nabc\r\n0\r\n\r\n");
    CHECK(parsed.response.body == "abc");
    CHECK_FALSE(parsed.response.keep_alive);
}

TEST_CASE("parser: no body after HEAD, 204 and 304, whatever Content-Length says; 1xx are skipped") {
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
    const Parsed to_head = parse_whole(head + "HTTP/1.1 200 OK", "HEAD");
    CHECK(to_head.used == head.size());
    CHECK(to_head.response.body.empty());
    CHECK(field(to_head.response, "Content-Length") == "1000");

    const std::string not_modified = "HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\nETag: \"x\"\r\n\r\n";
    CHECK(parse_whole(not_modified + "more").used == not_modified.size());
    const std::string no_content = "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n";
    CHECK(parse_whole(no_content + "more").used == no_content.size());
    const std::string chunked_head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    CHECK(parse_whole(chunked_head, "HEAD").used == chunked_head.size());

    const std::string interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n";
    const Parsed final_one = parse_pieces(interim + "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", {10, 30});
    CHECK(final_one.response.status == 201);
    CHECK(final_one.response.body == "ok");
}

TEST_CASE("parser: no length at all, or HTTP/1.0: the body runs until the server closes") {
    http::ResponseParser parser("GET");
    parser.feed("HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6\r\n\r\nfirst ");
    parser.feed("second");
    CHECK_FALSE(parser.done());
    parser.finish();
    REQUIRE(parser.done());
    const http::Response response = parser.take();
    CHECK(response.body == "first second");
    CHECK(response.minor_version == 0);
    CHECK_FALSE(response.keep_alive);

    CHECK_FALSE(parse_whole("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").response.keep_alive);
    CHECK(parse_whole("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n").response.keep_alive);
    CHECK_FALSE(parse_whole("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").response.keep_alive);
}

TEST_CASE("parser: field names in any case, bare LF line ends, obs-fold joined, identical lengths") {
    const Parsed lower = parse_whole("HTTP/1.1 200 OK\r\ncontent-LENGTH: 3\r\n\r\nabc");
    CHECK(lower.response.body == "abc");
    CHECK(field(lower.response, "Content-Length") == "3");
    CHECK(parse_whole("HTTP/1.1 200 OK\nContent-Length: 3\n\nabcdef").response.body == "abc");
    CHECK(parse_whole("HTTP/1.1 200 OK\ntransfer-encoding: chunked\n\n3\nabc\n0\n\n").response.body == "abc");
    const Parsed folded = parse_whole("HTTP/1.1 200 OK\r\nX-Long: one\r\n  two\r\n\tthree\r\nContent-Length: 1\r\n\r\nz");
    CHECK(field(folded.response, "x-long") == "one two three");
    CHECK(folded.response.body == "z");
    CHECK(parse_whole("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok").response.body == "ok");
    CHECK(parse_whole("HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n").response.status == 404);
    CHECK(parse_whole("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n").response.reason.empty());
}

TEST_CASE("parser: malformed status lines are a clear error") {
    for (const std::string line : {"HTTP/1.1 2000 OK", "HTTP/1.1 20 OK", "HTTP/2 200 OK", "http/1.1 200 OK",
                                   "ICY 200 OK", "HTTP/1.1 abc OK", "HTTP/1.1  200 OK", "<html>"}) {
        CAPTURE(line);
        const std::string error = parse_error(line + "\r\nContent-Length: 0\r\n\r\n");
        CHECK(error.find("status line") != std::string::npos);
    }
    CHECK(parse_error("").find("closed") != std::string::npos);
}

TEST_CASE("parser: a header section over the limit is an error, not a buffer without end") {
    const std::string error = parse_error("HTTP/1.1 200 OK\r\nX-Big: " + std::string(70'000, 'a'));
    CHECK(error.find("limit") != std::string::npos);
    http::ResponseParser parser("GET", http::Limits{.max_header_bytes = 100});
    CHECK_THROWS_AS(parser.feed("HTTP/1.1 200 OK\r\n" + std::string(50, 'x') + ": 1\r\n" + std::string(50, 'y') + ": 2\r\n"),
                    http::Error);
    // the limit is per section: a long chunked body of small chunks is fine
    std::string many_chunks = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 20'000; ++i) {
        many_chunks += "1\r\nx\r\n";
    }
    CHECK(parse_whole(many_chunks + "0\r\n\r\n").response.body.size() == 20'000);
}

TEST_CASE("parser: negative, signed, huge or conflicting Content-Length is an error") {
    for (const std::string value : {"-1", "+5", "5 5", "0x10", "", "abc", "99999999999999999999999", "5, 6", "1.0"}) {
        CAPTURE(value);
        const std::string error = parse_error("HTTP/1.1 200 OK\r\nContent-Length: " + value + "\r\n\r\nhello");
        CHECK(error.find("Content-Length") != std::string::npos);
    }
    CHECK(parse_error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello").find("Content-Length") !=
          std::string::npos);
    CHECK(parse_error("HTTP/1.1 200 OK\r\nContent-Length: 2000000000\r\n\r\n").find("limit") != std::string::npos);
}

TEST_CASE("parser: chunk sizes that overflow or are not hex are an error") {
    const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (const std::string size : {"1ffffffffffffffff", "10000000000000001", "xyz", "-1", ""}) {
        CAPTURE(size);
        const std::string error = parse_error(head + size + "\r\nabc\r\n0\r\n\r\n");
        CHECK(error.find("chunk") != std::string::npos);
    }
    CHECK(parse_error(head + "3\r\nabcdef\r\n0\r\n\r\n").find("chunk") != std::string::npos);
}

TEST_CASE("parser: a body shorter than promised ends in an error, never a complete response") {
    CHECK(parse_error("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").find("closed") != std::string::npos);
    CHECK(parse_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab").find("closed") !=
          std::string::npos);
    CHECK(parse_error("HTTP/1.1 200 OK\r\nContent-").find("closed") != std::string::npos);
}

TEST_CASE("parser: a huge Content-Length or chunk size allocates nothing before the bytes come") {
    // With the body limit lifted, only the bytes that arrive may take memory:
    // reserve(10^18) would throw std::bad_alloc (or take the machine down).
    const http::Limits unlimited{.max_body_bytes = UINT64_MAX};
    for (const std::string& head : {std::string("HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000000\r\n\r\n"),
                                   std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nde0b6b3a7640000\r\n")}) {
        CAPTURE(head);
        http::ResponseParser parser("GET", unlimited);
        CHECK_NOTHROW(parser.feed(head + "only ten b"));
        CHECK_FALSE(parser.done());
        CHECK_THROWS_AS(parser.finish(), http::Error);
    }
}

TEST_CASE("parser: random bytes and random splits never crash, hang or throw anything but http::Error") {
    const std::uint64_t seed = harness::test_seed(13);
    CAPTURE(seed);
    std::mt19937_64 random(seed);
    const std::vector<std::string> valid = {
        chunked_response, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        "HTTP/1.0 200 OK\r\n\r\nuntil close", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"};
    for (int round = 0; round < 3000; ++round) {
        std::string bytes = valid[random() % valid.size()];
        const int damage = static_cast<int>(random() % 4);
        for (int i = 0; i < damage && !bytes.empty(); ++i) {
            const std::size_t at = random() % bytes.size();
            switch (random() % 3) {
            case 0: bytes[at] = static_cast<char>(random()); break;
            case 1: bytes.erase(at, 1 + random() % 8); break;
            default: bytes.insert(at, harness::random_bytes(1 + random() % 12, random())); break;
            }
        }
        if (round % 10 == 0) {
            bytes = harness::random_bytes(random() % 200, random());
        }
        http::ResponseParser parser(random() % 5 == 0 ? "HEAD" : "GET", http::Limits{.max_header_bytes = 256, .max_body_bytes = 4096});
        try {
            std::size_t from = 0;
            while (from < bytes.size() && !parser.done()) {
                const std::size_t length = 1 + random() % 16;
                const std::string_view piece = std::string_view(bytes).substr(from, length);
                const std::size_t used = parser.feed(piece);
                REQUIRE(used <= piece.size());
                if (used < piece.size()) {
                    REQUIRE(parser.done());
                }
                from += piece.size();
            }
            parser.finish();
            REQUIRE(parser.done());
            CHECK(parser.take().body.size() <= 4096);
        } catch (const http::Error&) {
            // a clear refusal is the right answer to most of these
        }
    }
}

// ---- the client, against scripted servers ------------------------------------------

TEST_CASE("client: URLs with hosts, IPv6 literals, ports, paths and queries; the rest refused") {
    const http::Url plain = http::parse_url("http://example.com");
    CHECK(plain.host == "example.com");
    CHECK(plain.port == 80);
    CHECK(plain.target == "/");
    const http::Url v6 = http::parse_url("http://[::1]:8080/a/b?x=1&y=2#frag");
    CHECK(v6.host == "::1");
    CHECK(v6.port == 8080);
    CHECK(v6.target == "/a/b?x=1&y=2");
    CHECK(v6.authority() == "[::1]:8080");
    CHECK(http::parse_url("http://h?q").target == "/?q");
    for (const char* bad : {"ftp://h/", "https://h/", "http://", "http://:80/", "http://h:0/", "http://h:65536/",
                            "http://h:x/", "http://[::1/", "http://u@h/", "example.com"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(static_cast<void>(http::parse_url(bad)), http::Error);
    }
    CHECK(http::resolve(v6, "c?z").target == "/a/c?z");
    CHECK(http::resolve(v6, "/root").target == "/root");
    CHECK(http::resolve(v6, "//other:81/p").host == "other");

    // On the wire: the path and query go in the request line, the fragment never.
    HttpPeer peer({{.turns = {{.reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}}});
    CHECK(http::get(peer.url("/search?q=a+b#results")).body == "ok");
    peer.join();
    REQUIRE(peer.requests().size() == 1);
    CHECK(peer.requests()[0].starts_with("GET /search?q=a+b HTTP/1.1\r\n"));
}

TEST_CASE("client: a kept-alive connection does not make get() wait for the server to close") {
    // The server answers with Content-Length and keeps the connection open
    // (HTTP/1.1's default): a client reading until close would hang here.
    HttpPeer peer({{.turns = {{.reply = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"}}}});
    const Clock::time_point start = Clock::now();
    http::Response response;
    {
        http::Session session(http::Options{.total_timeout = 2000ms});
        response = session.get(peer.url("/hello"));
    }
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    CHECK(response.body == "hello");
    CHECK(took < 1000ms);  // reading until close would take the whole 2 s budget
    peer.join();
    REQUIRE(peer.requests().size() == 1);
    CHECK(peer.requests()[0].starts_with("GET /hello HTTP/1.1\r\n"));
    CHECK(peer.requests()[0].find(fmt::format("\r\nHost: 127.0.0.1:{}\r\n", peer.port())) != std::string::npos);
}

TEST_CASE("client: a chunked response cut at every byte on the wire") {
    HttpPeer peer({{.turns = {{.reply = chunked_response, .cuts = harness::every_byte(chunked_response)}}}});
    http::Session session;
    const http::Response response = session.get(peer.url());
    CHECK(response.body == "hello, world");
}

TEST_CASE("client: two requests in a Session share one connection") {
    HttpPeer peer({{.turns = {{.reply = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"},
                              {.reply = chunked_response}}}});
    {
        http::Session session;
        CHECK(session.get(peer.url("/1")).body == "one");
        CHECK(session.get(peer.url("/2")).body == "hello, world");
        CHECK(session.connections_opened() == 1);
    }
    peer.join();
    CHECK(peer.accepts() == 1);
    CHECK_FALSE(peer.connection_waiting());
    CHECK(peer.requests().size() == 2);
}

TEST_CASE("client: HEAD and 304 responses with Content-Length on a kept-alive connection return at once") {
    HttpPeer peer({{.turns = {{.reply = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"},
                              {.reply = "HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\n\r\n"},
                              {.reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}}});
    {
        http::Session session(http::Options{.total_timeout = 1500ms});
        CHECK(session.request("HEAD", peer.url()).body.empty());
        CHECK(session.get(peer.url()).status == 304);
        CHECK(session.get(peer.url()).body == "ok");  // the connection is still in step
        CHECK(session.connections_opened() == 1);
    }
    peer.join();
}

TEST_CASE("client: a server that closed an idle kept-alive connection: GET is sent again once") {
    HttpPeer peer({{.turns = {{.reply = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"}},
                    .after = HttpConnection::After::close},
                   {.turns = {{.reply = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond"}}}});
    {
        http::Session session;
        CHECK(session.get(peer.url()).body == "first");
        CHECK(session.get(peer.url()).body == "second");
        CHECK(session.connections_opened() == 2);
    }
    peer.join();
    CHECK(peer.accepts() == 2);
}

TEST_CASE("client: a POST on a connection the server closed is never sent again") {
    HttpPeer peer({{.turns = {{.reply = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"}},
                    .after = HttpConnection::After::close}});
    {
        http::Session session;
        CHECK(session.get(peer.url()).body == "first");
        try {
            static_cast<void>(session.post(peer.url(), nlohmann::json{{"pay", 100}}));
            FAIL("the POST should have failed");
        } catch (const http::Error& error) {
            CHECK(std::string(error.what()).find("not idempotent") != std::string::npos);
        }
    }
    peer.join();
    CHECK(peer.accepts() == 1);
    CHECK_FALSE(peer.connection_waiting());
}

TEST_CASE("client: post() sends JSON with Content-Length, and json() reads the answer") {
    HttpPeer peer({{.turns = {{.reply = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                                        "Content-Length: 22\r\n\r\n{\"id\": 7, \"ok\": true}\n"}}}});
    const http::Response response = http::post(peer.url("/items"), nlohmann::json{{"name", "x"}});
    peer.join();
    CHECK(response.status == 201);
    CHECK(response.json().at("id") == 7);
    REQUIRE(peer.requests().size() == 1);
    const std::string request = peer.requests()[0];
    CHECK(request.starts_with("POST /items HTTP/1.1\r\n"));
    CHECK(request.find("\r\nContent-Length: 12\r\n") != std::string::npos);
    CHECK(request.ends_with("\r\n\r\n{\"name\":\"x\"}"));
}

TEST_CASE("client: HTTP/1.0 without a length is read until the server closes") {
    HttpPeer peer({{.turns = {{.reply = "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of it", .cuts = {20, 35}}},
                    .after = HttpConnection::After::close}});
    CHECK(http::get(peer.url()).body == "all of it");
    peer.join();
}

TEST_CASE("client: a body shorter than promised, then a close, is an error") {
    HttpPeer peer({{.turns = {{.reply = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"}},
                    .after = HttpConnection::After::close}});
    CHECK_THROWS_AS(static_cast<void>(http::get(peer.url())), http::Error);
    peer.join();
}

TEST_CASE("client: relative redirects are followed on the same connection, and bounded") {
    HttpPeer peer({{.turns = {{.reply = "HTTP/1.1 302 Found\r\nLocation: b?x=1\r\nContent-Length: 0\r\n\r\n"},
                              {.reply = "HTTP/1.1 301 Moved\r\nLocation: /final\r\nContent-Length: 3\r\n\r\nbye"},
                              {.reply = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nhere"}}}});
    {
        http::Session session;
        CHECK(session.get(peer.url("/dir/a")).body == "here");
    }
    peer.join();
    const std::vector<std::string> requests = peer.requests();
    REQUIRE(requests.size() == 3);
    CHECK(requests[1].starts_with("GET /dir/b?x=1 HTTP/1.1\r\n"));
    CHECK(requests[2].starts_with("GET /final HTTP/1.1\r\n"));

    const std::string loop = "HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n";
    HttpPeer looping({{.turns = {{.reply = loop}, {.reply = loop}, {.reply = loop}}}});
    {
        http::Session session(http::Options{.max_redirects = 2});
        CHECK_THROWS_AS(static_cast<void>(session.get(looping.url())), http::Error);
    }
    looping.join();
}

TEST_CASE("client: a server that never answers is a timeout error within the total budget") {
    HttpPeer peer({{.turns = {{.reply = ""}}, .linger = 2000ms}});
    const Clock::time_point start = Clock::now();
    CHECK_THROWS_AS(static_cast<void>(http::get(peer.url(), http::Options{.total_timeout = 300ms})), http::Error);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    CHECK(took >= 250ms);
    CHECK(took < 1500ms);
    peer.join();
}

TEST_CASE("client: an IPv6 literal URL reaches a server on ::1") {
    std::unique_ptr<HttpPeer> peer;
    try {
        peer = std::make_unique<HttpPeer>(std::vector<HttpConnection>{
                                              {.turns = {{.reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv6"}}}},
                                          "::1");
    } catch (const std::system_error&) {
        MESSAGE("no ::1 on this machine; skipped");
        return;
    }
    CHECK(http::get(peer->url()).body == "v6");
    peer->join();
    REQUIRE(peer->requests().size() == 1);
    CHECK(peer->requests()[0].find(fmt::format("\r\nHost: [::1]:{}\r\n", peer->port())) != std::string::npos);
}

TEST_CASE("client: a server whose accept queue is full costs the connect timeout, not minutes") {
    // Linux drops the SYN of a connection that finds the accept queue full
    // (chapter 04): without a deadline connect() would retry for minutes.
    const net::Fd listener = net::listen_tcp("127.0.0.1", 0, 0);
    const std::uint16_t port = net::local_port(listener.get());
    std::vector<net::Fd> queued;
    bool full = false;
    for (int i = 0; i < 8 && !full; ++i) {
        try {
            queued.push_back(net::connect_tcp("127.0.0.1", port, 200ms));
        } catch (const std::system_error&) {
            full = true;
        }
    }
    REQUIRE_MESSAGE(full, "the accept queue never filled up");
    HttpPeer working({{.turns = {{.reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}}});
    http::Session session(http::Options{.connect_timeout = 300ms, .total_timeout = 5000ms});
    CHECK(session.get(working.url()).body == "ok");
    const Clock::time_point start = Clock::now();
    CHECK_THROWS_AS(static_cast<void>(session.get(fmt::format("http://127.0.0.1:{}/", port))), http::Error);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    CHECK(took >= 250ms);
    CHECK(took < 2000ms);
}
