#pragma once
// Exercise 15 — harden lesson 14's server: the framing rules, the static file
// handler, the deadlines.
//
// Chapter 15 (book/src/15-http-hardening.md) attacks a naive server first —
// a smuggled request, a walk out of the document root, a slowloris — and then
// refuses each one. The server of chapter 14 now lives in common/http (namespace
// http: read common/http/*.hpp); it calls the three things you write here
// through its hooks. Then run ./workbook check 15:
//   framing.cpp       decide_framing: how a request's body is delimited, or why it is refused;
//   static_files.cpp  StaticFiles: a file under a root directory, and nothing outside it;
//   deadlines.cpp     next_deadline: when a slow or idle connection must end.
#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "http/http.hpp"
#include "net/fd.hpp"

namespace hardening {

// ---- framing.cpp: the body's framing (RFC 9112 §6, RFC 9110 §8.6) -------------
//
// The common parser has read a request's head (method, version, every field
// line, syntax checked: no obs-fold, no space before a colon, Host exactly once
// in HTTP/1.1) and asks you how its body is framed. Two servers that answer this
// differently for the same bytes can be made to disagree on where one request
// ends and the next begins: request smuggling (chapter 15). So refuse anything
// that could be read two ways:
//
//   Transfer-Encoding (all its fields, as one comma-separated list of codings,
//   compared in any case; empty elements skipped):
//     - in an HTTP/1.0 request                       → 400 (§6.1: a 1.0 peer
//       would not understand it; a server must treat the message as faulty)
//     - together with any Content-Length             → 400 (§6.1, §11.2)
//     - no coding at all (an empty value)            → 400
//     - the last coding not "chunked" ("gzip", "identity",
//       "chunked, gzip"): the length cannot be known → 400 (§6.3 rule 4)
//     - "chunked" more than once                     → 400 (§7: applied once)
//     - chunked last, after a coding this server does
//       not implement ("gzip, chunked")              → 501 Not Implemented (§6.1)
//     - exactly chunked                              → BodyKind::chunked
//   Content-Length (RFC 9110 §8.6):
//     - each value 1*DIGIT: no sign ("+5", "-1"), no hex, no inner space,
//       not empty, not larger than fits an std::uint64_t      → else 400
//     - several fields, or a comma-separated list, only when every value is
//       the same ("5, 5"); two different values    → 400
//     - one length N                               → BodyKind::length, N
//       (N = 0 is a request with no body)
//   neither                                        → BodyKind::none
//       (a request never runs "until the connection closes", §6.3 rule 7)
//
// Refuse with http::RequestError(status, why). The parser then checks the
// length against its limit (413) and the server answers and closes.
[[nodiscard]] http::Framing decide_framing(const http::Request& head);

// ---- static_files.cpp: a directory, served (RFC 9110 §9.3, §13, §17.3) ------------
//
// StaticFiles serves GET and HEAD for the files under one root directory,
// and nothing else on the machine, whatever the request's path says.

// The request's path (still percent-encoded, "/docs/a%20b.txt") as a relative
// path under the root ("docs/a b.txt"). Percent-decode once, FIRST, then check
// the decoded text (a check on the encoded text is blind to "%2e%2e"):
//   - a bad percent-encoding, a NUL, or a backslash     → RequestError(400)
//   - a segment that begins with '.' (".", "..", ".git",
//     ".env": dotfiles are never served)                 → RequestError(404)
//   - "/" or a path ending in '/' gets "index.html" appended: "/" → "index.html",
//     "/docs/" → "docs/index.html"
// Decoded "%2f" is a '/' like any other; "%252e" decodes once, to "%2e", a
// name like any other (decoding twice is the bug).
[[nodiscard]] std::string relative_path(std::string_view path);

// The Content-Type for a file name, from its extension (any case):
//   .html .htm → text/html; charset=utf-8     .css  → text/css; charset=utf-8
//   .js        → text/javascript; charset=utf-8  .json → application/json
//   .txt       → text/plain; charset=utf-8    .svg  → image/svg+xml
//   .png → image/png   .jpg .jpeg → image/jpeg   .gif → image/gif
//   .ico → image/x-icon   .wasm → application/wasm   .pdf → application/pdf
//   anything else (or no extension)            → application/octet-stream
[[nodiscard]] std::string_view content_type_for(std::string_view name);

// Whether a GET with these conditions may be answered 304 Not Modified for a
// file whose ETag is `etag` (a quoted string, "\"1a-5f3e\"") and whose
// modification time is `modified` (RFC 9110 §13.1.2, §13.1.3, §13.2.2):
//   - If-None-Match present: 304 when any of its comma-separated entity tags
//     matches `etag` by the weak comparison (W/"x" and "x" match), or it is
//     "*"; If-Modified-Since is then ignored, whatever it says;
//   - else If-Modified-Since present and an IMF-fixdate
//     (http::parse_http_date): 304 when `modified` is not after it;
//     a date it cannot read is ignored;
//   - neither: false.
[[nodiscard]] bool not_modified(const http::Request& request, std::string_view etag, std::time_t modified);

class StaticFiles {
public:
    // Opens `root` (a directory) once, as an O_PATH descriptor every request
    // opens its file relative to. std::system_error if it is not a directory.
    explicit StaticFiles(const std::string& root);

    // The answer to a GET or HEAD for request.path (any other method: 405 with
    // "Allow: GET, HEAD"). relative_path's refusals become their status. Then
    // open the file RELATIVE TO THE ROOT'S DESCRIPTOR with openat2(2) and
    // RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (flags O_RDONLY | O_CLOEXEC |
    // O_NOFOLLOW is not enough: a symlink in the middle of the path would
    // still be followed): ".." and symlinks may move around inside the root
    // but never out of it — the kernel refuses with EXDEV, and that is a 404.
    //   - not there (ENOENT, ENOTDIR), escaping (EXDEV, ELOOP)     → 404
    //   - not allowed (EACCES)                                      → 403
    //   - a directory, path without a final '/'  → 301 with Location: path + "/"
    //   - not a regular file (a FIFO, a device)  → 404 (never open one for reading:
    //     a FIFO blocks the whole loop; open with O_NONBLOCK or O_PATH first)
    //   - openat2 missing (ENOSYS: Linux before 5.6)  → throw std::system_error
    //     naming "openat2" (a 500: do not fall back to string checks)
    //   - a regular file → 200 with its bytes, Content-Type from its name,
    //     ETag "\"<size hex>-<mtime ns hex>\"" and Last-Modified (format_http_date
    //     of its mtime) — or 304 with the same ETag and Last-Modified and no
    //     body when not_modified() says so.
    // HEAD gets the same fields as GET (serialize drops the body).
    [[nodiscard]] http::Response serve(const http::Request& request) const;

private:
    net::Fd root_;
};

// ---- deadlines.cpp: when a slow or idle connection must end (RFC 9112 §9.5) -------
//
// The server (common/http/server_deadlines.cpp) calls next_deadline after every
// read with the stage the connection's request is in, and with Stage::idle each
// time a request is complete; it arms its one timer for the answer. `state` is
// yours: it remembers, per connection, the stage of the last call and since
// when the connection has been in it.
//   - Stage::idle (between requests): {since + timeouts.idle, close_quietly}
//     — since the connection became idle (accepted, or the last request
//     complete); blank lines do not count as activity;
//   - Stage::head (a request has begun, its head is incomplete):
//     {since + timeouts.header, request_timeout}, `since` being the FIRST byte
//     of this request. Later bytes do NOT move it: a client that drips a byte a
//     second (slowloris) would otherwise keep the connection for ever;
//   - Stage::body (the head is complete, the body arriving):
//     {now + timeouts.header, request_timeout} — a body that keeps moving may
//     take as long as it needs; one that stalls for timeouts.header may not.
// A change of stage starts the new stage's clock at `now`, and so does the
// first call for a connection (state.stage is empty then: the connection is new).
[[nodiscard]] http::Deadline next_deadline(http::DeadlineState& state, http::Stage stage,
                                           http::Clock::time_point now, const http::Timeouts& timeouts);

// The server options that plug the three in, with strict line ends: what
// lesson 15's static-server and the tests run.
inline http::ServerOptions hardened_options(const http::Timeouts& timeouts) {
    http::ServerOptions options;
    options.framing = decide_framing;
    options.strict_line_ends = true;
    options.deadlines = next_deadline;
    options.timeouts = timeouts;
    return options;
}

}  // namespace hardening
