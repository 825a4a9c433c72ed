#pragma once
// Exercise 13 — an HTTP/1.1 client, the part that reads the answer: the
// response parser.
//
// Chapter 13 (book/src/13-http-client.md) runs lessons/13-http-client/fetch
// and shows a client that hangs on a kept-alive connection because it reads
// until the server closes. HTTP/1.1 is framing on a byte stream (chapter 05):
// the response says where it ends, and you must believe exactly that.
//
// You write ResponseParser (response.cpp). client.cpp, already complete, is
// the rest of the client (URLs, connections, keep-alive, redirects,
// timeouts) and runs on your parser. Then run ./workbook check 13.
//
// The parser is incremental: feed() it bytes in whatever pieces recv() gave
// (one byte at a time, or the whole response and the start of the next one)
// and it answers the same.
//
//   status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF
//                 HTTP/1.0 or HTTP/1.1, then three digits (RFC 9112 §4).
//                 A missing space before an empty reason is tolerated.
//   field lines = name ":" OWS value OWS CRLF, ended by an empty line (§5).
//                 Names compare case-insensitively (RFC 9110 §5.1); a space
//                 before the colon is an error (§5.1); a line starting with
//                 SP or HTAB continues the previous value (obs-fold, §5.2:
//                 replace it by one SP).
//   line ends   = CRLF; a bare LF is accepted too (§2.2).
//
// Where the body ends — RFC 9112 §6.3, in this order:
//   1. a response to HEAD, and every 1xx, 204 and 304 response, has no body,
//      whatever its header fields say;
//   2. Transfer-Encoding whose final coding is "chunked" (the list may span
//      several header fields, "gzip, chunked" counts): chunked framing. Any
//      other Transfer-Encoding: the body runs until the server closes.
//      Transfer-Encoding wins over Content-Length (and the connection is then
//      not reused: keep_alive is false);
//   3. Content-Length (1*DIGIT: no sign, no spaces inside; several fields or
//      a list are fine only when every value is the same): exactly that many
//      bytes. Anything else in it is an Error;
//   4. otherwise the body runs until the server closes (finish()).
//
// Chunked (§7.1): chunk-size in hex, optional ";extensions" (ignored), CRLF,
// the data, CRLF; a 0 chunk ends it, followed by trailer fields (kept in
// Response::trailers) and an empty line.
//
// Interim 1xx responses (100 Continue, 103 Early Hints) are skipped: the
// parser goes on to the final response after them. 101 is final.
//
// Never trust a number from the peer with memory: the body grows with the
// bytes that actually arrive, never reserve()d from Content-Length or a chunk
// size. Everything malformed is an http::Error with a message that names the
// problem — never a crash, a hang or an allocation the size of a lie.

#include <cstddef>
#include <cstdint>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

// Only the declarations: json.hpp takes seconds to compile, and the file you
// save after every edit (response.cpp) needs none of it. client.cpp, the
// tests and fetch include the whole of it.
#include <nlohmann/json_fwd.hpp>

namespace http {

// Every failure of the client: a bad URL, a malformed response, a timeout.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Field {
    std::string name;   // as the server spelled it
    std::string value;  // without the whitespace around it
};

struct Response {
    int status = 0;          // 200
    std::string reason;      // "OK"
    int minor_version = 1;   // 1 for HTTP/1.1, 0 for HTTP/1.0
    std::vector<Field> headers;
    std::string body;        // de-chunked
    std::vector<Field> trailers;
    // The connection may carry another request: HTTP/1.1 without
    // "Connection: close", or HTTP/1.0 with "Connection: keep-alive" — and
    // the body was not read until close.
    bool keep_alive = false;

    // The value of the first field called `name` (any case), or nullptr.
    [[nodiscard]] const std::string* header(std::string_view name) const;
    // The body parsed as JSON (nlohmann::json::parse_error when it is not).
    [[nodiscard]] nlohmann::json json() const;
};

struct Limits {
    std::size_t max_header_bytes = 64 * 1024;      // status line + fields (and trailers)
    std::uint64_t max_body_bytes = 1ULL << 30;     // a longer body is an Error
};

class ResponseParser {
public:
    // `method` is the request's method: a response to HEAD has no body.
    explicit ResponseParser(std::string_view method = "GET", Limits limits = {});
    ~ResponseParser();
    ResponseParser(ResponseParser&&) noexcept;
    ResponseParser& operator=(ResponseParser&&) noexcept;

    // Takes bytes that arrived; returns how many belong to this response.
    // Once the response is complete it takes no more: the rest (the start of
    // the next response) is not consumed. Throws Error on malformed input.
    std::size_t feed(std::string_view bytes);

    // The server closed the connection. Ends a body that runs until close;
    // anywhere else (no status line yet, in the fields, fewer body bytes than
    // promised, an unfinished chunk) it is an Error.
    void finish();

    // The whole response has arrived.
    [[nodiscard]] bool done() const;

    // The response, once done() (Error otherwise). Moves it out.
    [[nodiscard]] Response take();

private:
    struct State;
    std::unique_ptr<State> state_;
};

// ---- the rest of the client (client.cpp, given) ------------------------------

// http://host[:port][/path][?query]  (host may be [IPv6]); Error otherwise.
struct Url {
    std::string host;        // without brackets: "::1"
    std::uint16_t port = 80;
    std::string target;      // path and query: "/search?q=x", at least "/"
    [[nodiscard]] std::string authority() const;  // for Host: "[::1]:8080", "example.com"
};
[[nodiscard]] Url parse_url(std::string_view text);
// `location` (absolute, "//host/..", "/path" or "relative") seen from `base`.
[[nodiscard]] Url resolve(const Url& base, std::string_view location);

struct Options {
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds total_timeout{30000};  // the whole call, redirects included
    int max_redirects = 5;
    Limits limits = {};
    // Called with each line of narration ("> GET / HTTP/1.1", "< HTTP/1.1 200 OK",
    // "* connected to ..."), like curl -v. Empty: silent.
    std::function<void(std::string_view)> trace = {};
};

// Keeps one idle connection per host:port and reuses it, like
// requests.Session. A request on a reused connection that the server had
// already closed is sent again once on a new one — only when the method is
// idempotent (RFC 9110 §9.2.2: never a POST).
class Session {
public:
    explicit Session(Options options = {});
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    Response request(std::string_view method, std::string_view url, std::string_view body = {},
                     const std::vector<Field>& headers = {});
    Response get(std::string_view url) { return request("GET", url); }
    Response post(std::string_view url, const nlohmann::json& json);

    // Connections opened so far (a reused one is not counted again).
    [[nodiscard]] int connections_opened() const noexcept { return opened_; }

private:
    struct Pool;
    Options options_;
    std::unique_ptr<Pool> pool_;
    int opened_ = 0;
};

// One request on a fresh connection: requests.get(url), requests.post(url, json=...).
[[nodiscard]] Response get(std::string_view url, Options options = {});
[[nodiscard]] Response post(std::string_view url, const nlohmann::json& json, Options options = {});

}  // namespace http
