#pragma once
// http::Request, http::Response and their parts — chapter 14's contract
// (exercises/14-http-server/http_server.hpp), moved to common/ once chapter 14
// has taught it, so that lessons 15 and 16 can serve HTTP without rewriting it.
// Read it beside chapter 14; chapter 15 adds the framing decision (parser.hpp)
// and the deadlines (server.hpp).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "net/fd.hpp"

namespace http {

struct Field {
    std::string name;   // as the client spelled it
    std::string value;  // without the whitespace around it
};

// A request the server refuses: the status to answer with (400, 413, 414,
// 431, 501, 505 ...) and why, for the log and the response body.
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

struct Response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";  // "" for none
    std::vector<Field> headers;  // more fields (Location, Allow, ETag, ...)
    std::string body;
    // Chapter 16: a 101 answer with `upgrade` set takes the connection away
    // from HTTP. Once the 101 is sent the server reads and answers nothing
    // more on it, stops watching it and calls upgrade(socket, the bytes it had
    // already read past the request) on the loop's thread: the socket (still
    // non-blocking) is the callee's now. Ignored on any other status.
    std::function<void(net::Fd socket, std::string already_read)> upgrade = {};

    [[nodiscard]] static Response text(std::string body, int status = 200);
    [[nodiscard]] static Response json(const nlohmann::json& value, int status = 200);  // application/json
};

// "OK", "Not Found" ...; "Unknown" for a code it does not know.
[[nodiscard]] std::string_view reason_phrase(int status);

// The bytes of `response` as the answer to a request made with `method`
// (HEAD: no body), at time `now`; `close` adds "Connection: close".
// HEAD, 1xx, 204 and 304 carry no body (RFC 9110 §6.4.1); a 304 carries no
// Content-Length either (chapter 15: it would have to be the 200's, §8.6).
[[nodiscard]] std::string serialize(const Response& response, std::string_view method, bool close,
                                    std::chrono::system_clock::time_point now);

// IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7), always GMT:
// serialize's Date (chapter 14), and Last-Modified (chapter 15).
[[nodiscard]] std::string format_http_date(std::time_t seconds);
// The seconds an IMF-fixdate names, or nullopt for anything else (a recipient
// ignores an If-Modified-Since it cannot read, RFC 9110 §13.1.3).
[[nodiscard]] std::optional<std::time_t> parse_http_date(std::string_view text);

}  // namespace http
