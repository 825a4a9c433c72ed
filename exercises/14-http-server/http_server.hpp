#pragma once
// Exercise 14 — an HTTP/1.1 server: the request parser and the router.
//
// Chapter 14 (book/src/14-http-server.md) starts with a server that answers
// pipelined requests out of order, then builds Flask's hello world on the
// event loop of chapters 10–12. Lesson 13 read responses; here you read
// requests, which is the same framing seen from the other end.
//
// You write two files, then run ./workbook check 14:
//   request.cpp  RequestParser and Request::header — bytes in, requests out;
//   router.cpp   Router and serialize — a request in, the bytes of its answer out.
// server.cpp, already complete, is the rest (accepting, reading, writing on the
// event loop) and runs on your two files.
//
// ---- the request (RFC 9112) -------------------------------------------------
//
//   request-line = method SP request-target SP HTTP-version CRLF    (§3)
//       method: a token (letters, digits, !#$%&'*+-.^_`|~), case-sensitive;
//       request-target: "/" followed by anything but spaces and controls (the
//       origin form; "*" is accepted too, for OPTIONS *); split at the first
//       '?' into path and query;
//       HTTP-version: HTTP/1.0 or HTTP/1.1; any other HTTP/x.y gets 505.
//       Empty lines before the request line are skipped (§2.2).
//   field lines  = name ":" OWS value OWS CRLF, ended by an empty line (§5).
//       A value holds visible characters, SP and HTAB; any other control
//       (CR, NUL, \x01 ...) is a 400 (RFC 9110 §5.5).
//       Names compare case-insensitively (RFC 9110 §5.1). Whitespace between
//       the name and the colon is a 400 (§5.1); so is a line that starts with
//       SP or HTAB (obs-fold, §5.2: a server may reject it, and this one does).
//   line ends    = CRLF; a bare LF is accepted too (§2.2).
//
// An HTTP/1.1 request must carry exactly one Host field (§3.2): none, or two,
// is a 400.
//
// The body (§6.3), decided when the empty line arrives:
//   - Transfer-Encoding: chunked (the final coding): chunk-size in hex,
//     optional ";extensions", CRLF, data, CRLF ...; a 0 chunk, trailer fields
//     (read and dropped) and an empty line end it (§7.1). A Transfer-Encoding
//     whose last coding is not chunked, or that names chunked twice, is a 400
//     (§6.3 rule 4), and so is Transfer-Encoding together with Content-Length:
//     chapter 15 shows the attack that pair is. Codings before chunked
//     ("gzip, chunked") frame fine, but this server decodes none: 501 (§6.1);
//   - Content-Length: 1*DIGIT (no sign, no inner space; a list or several
//     fields only when every value is the same), exactly that many bytes.
//     Anything else in it is a 400;
//   - neither: no body at all (a request never runs "until close").
//
// Limits — a server reads what strangers send, so every number has a bound:
//   request line longer than max_request_line bytes        → 414 URI Too Long
//   header section (field lines) over max_header_bytes,
//     or more than max_fields field lines                   → 431 (RFC 6585 §5)
//   body (Content-Length, or the chunks so far) over
//     max_body_bytes                                        → 413 Content Too Large
// Each is noticed as soon as the bytes that break it arrive, never after
// buffering them all: a request line 1 MB long with no CRLF yet is already a 414,
// whether it came in one piece or in a thousand. A request exactly at a limit
// is fine, and each request on a connection starts its counts from zero.
//
// The parser is incremental: feed() it bytes in whatever pieces recv() gave
// (one byte at a time, or three pipelined requests at once) and it answers
// the same. It never takes more than one request's bytes.
//
// ---- the answer (router.cpp) ------------------------------------------------
//
// Router::dispatch picks the handler like Flask, except for the order: the
// first route added that matches wins (Flask ranks literal segments above
// <name>; here "/users/<id>" added before "/users/me" takes /users/me). Patterns are paths whose
// segments are literals or <name>; <name> matches one non-empty segment (never
// a '/') and its text, percent-decoded, lands in request.params["name"].
// Literal segments compare with the percent-decoded path segment.
//   - no pattern matches the path                          → 404 Not Found
//   - a pattern matches, but not for this method           → 405 with an Allow
//     field listing the methods that would work, e.g. "GET, HEAD, POST"
//     (a GET route answers HEAD too), in alphabetical order (RFC 9110 §15.5.6
//     asks for the list; the order is this server's choice, so tests can see it)
//   - a method this server knows nothing about (not one of GET HEAD POST PUT
//     DELETE PATCH OPTIONS), on any path                     → 501 (§15.6.2)
//   - HEAD with no HEAD route runs the GET handler (§9.3.2)
//   - a path with a bad %-escape ("%zz", "%4") is a 400
//   - a handler that throws RequestError answers with its status; any other
//     exception is a 500 (the message goes to the log, not the client).
//
// serialize writes the response for the wire:
//   HTTP/1.1 <status> <reason>\r\n        reason from reason_phrase()
//   Date: Sun, 06 Nov 1994 08:49:37 GMT   IMF-fixdate, always GMT, two-digit day
//                                         and time fields (RFC 9110 §5.6.7)
//   Content-Type: ...                     when the response has one
//   Content-Length: <body size>           HEAD included (the GET's size), "0" for an
//                                         empty body; never on 1xx, 204, 304 (RFC 9110 §8.6)
//   Connection: close                     when the connection ends after it
//   the response's own fields, then \r\n and the body —
// except that a response to HEAD, and every 1xx, 204 and 304, carries no body
// (RFC 9110 §6.4.1): the client was told not to read one and would take it
// for the start of the next response.
//
// When does the connection end? Request::keep_alive (set by the parser):
// HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with
// "Connection: keep-alive" (RFC 9112 §9.3). Connection is a comma-separated
// list of case-insensitive tokens. server.cpp also closes after a 4xx/5xx the
// parser raised (the rest of the stream cannot be trusted).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "net/event_loop.hpp"
#include "net/fd.hpp"

namespace http {

struct Field {
    std::string name;   // as the client spelled it
    std::string value;  // without the whitespace around it
};

// A request the server refuses: the status to answer with (400, 413, 414,
// 431, 505 ...) and why, for the log and the response body.
class RequestError : public std::runtime_error {
public:
    RequestError(int status, const std::string& why) : std::runtime_error(why), status_(status) {}
    [[nodiscard]] int status() const noexcept { return status_; }

private:
    int status_;
};

struct Request {
    std::string method;        // "GET"
    std::string target;        // "/users/7?full=1", as sent
    std::string path;          // "/users/7" (still percent-encoded)
    std::string query;         // "full=1" ("" when there is no '?')
    int minor_version = 1;     // 1 for HTTP/1.1, 0 for HTTP/1.0
    std::vector<Field> headers;
    std::string body;          // de-chunked
    bool keep_alive = true;    // the client wants the connection kept open
    std::map<std::string, std::string, std::less<>> params;  // filled by Router: {"id": "7"}

    // The value of the first field called `name` (any case), or nullptr.
    [[nodiscard]] const std::string* header(std::string_view name) const;
    // The body as JSON; RequestError(400) when it is not JSON.
    [[nodiscard]] nlohmann::json json() const;
};

struct Limits {
    std::size_t max_request_line = 8 * 1024;   // bytes, without the CRLF
    std::size_t max_header_bytes = 16 * 1024;  // all field lines, with their line ends
    std::size_t max_fields = 100;
    std::uint64_t max_body_bytes = 1 << 20;
};

class RequestParser {
public:
    explicit RequestParser(Limits limits = {});
    ~RequestParser();
    RequestParser(RequestParser&&) noexcept;
    RequestParser& operator=(RequestParser&&) noexcept;

    // Takes bytes that arrived; returns how many belong to this request. Once
    // the request is complete it takes no more (the rest is the next request).
    // Throws RequestError on malformed input or a broken limit.
    std::size_t feed(std::string_view bytes);

    // The whole request has arrived.
    [[nodiscard]] bool done() const;
    // Nothing of a request has arrived yet (empty lines before one don't count):
    // a connection closed now ended cleanly between requests.
    [[nodiscard]] bool idle() const;

    // The request, once done() (RequestError(500) otherwise). Moves it out
    // and makes the parser ready for the next request on the connection.
    [[nodiscard]] Request take();

private:
    struct State;
    std::unique_ptr<State> state_;
};

struct Response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";  // "" for none
    std::vector<Field> headers;  // more fields (Location, Allow, ...)
    std::string body;

    [[nodiscard]] static Response text(std::string body, int status = 200);
    [[nodiscard]] static Response json(const nlohmann::json& value, int status = 200);  // application/json
};

using Handler = std::function<Response(const Request&)>;

class Router {
public:
    // app.route(pattern, methods=[method]): "/users/<id>".
    void route(std::string_view method, std::string_view pattern, Handler handler);
    void get(std::string_view pattern, Handler handler) { route("GET", pattern, std::move(handler)); }
    void post(std::string_view pattern, Handler handler) { route("POST", pattern, std::move(handler)); }

    // The answer to `request` (see the top of this file); fills request.params.
    [[nodiscard]] Response dispatch(Request& request) const;

private:
    struct Route {
        std::string method;
        std::vector<std::string> segments;  // "users", "<id>"
        Handler handler;
    };
    std::vector<Route> routes_;
};

// "OK", "Not Found" ...; "Unknown" for a code it does not know.
[[nodiscard]] std::string_view reason_phrase(int status);

// The bytes of `response` as the answer to a request made with `method`
// (HEAD: no body), at time `now`; `close` adds "Connection: close".
[[nodiscard]] std::string serialize(const Response& response, std::string_view method, bool close,
                                    std::chrono::system_clock::time_point now);

// ---- the rest of the server (server.cpp, given) ------------------------------

struct ServerOptions {
    Limits limits = {};
    // Stop reading a connection's requests while this many bytes of answers
    // wait to be sent: a client that pipelines without reading is held to it.
    std::size_t output_limit = 1 << 20;
    // Called with each line of narration ("accepted 127.0.0.1:5111",
    // "GET /messages -> 200, 57 bytes"). Empty: silent.
    std::function<void(std::string_view)> trace = {};
};

// Serves `router` to every client of `listener` (a listening socket) on
// `loop`, until destroyed: reads requests with RequestParser, answers each
// with Router::dispatch + serialize, in order, on keep-alive connections.
class Server {
public:
    Server(net::EventLoop& loop, net::Fd listener, const Router& router, ServerOptions options = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    [[nodiscard]] std::size_t connections() const noexcept;  // open right now
    [[nodiscard]] std::uint64_t requests() const noexcept;    // answered so far

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace http
