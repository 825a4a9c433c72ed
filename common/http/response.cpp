// Requests' fields, responses, serialize and HTTP dates — chapter 14's
// solution (exercises/14-http-server), moved here; chapter 15 adds
// parse_http_date (If-Modified-Since) and a 304 without Content-Length.
// (The JSON parts are in json.cpp: only they need nlohmann/json.hpp, the
// slowest header of the build.)
#include <array>
#include <chrono>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/core.h>

#include "http/message.hpp"
#include "http/text.hpp"

namespace http {
namespace {

constexpr std::array<std::string_view, 7> days = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool has_body(int status) { return status >= 200 && status != 204 && status != 304; }

// The digits of text[from, from + count) as a number, or -1.
int number_at(std::string_view text, std::size_t from, std::size_t count) {
    int value = 0;
    for (std::size_t i = from; i < from + count; ++i) {
        if (!is_digit(text[i])) {
            return -1;
        }
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

}  // namespace

const std::string* Request::header(std::string_view name) const {
    for (const Field& field : headers) {
        if (iequals(field.name, name)) {
            return &field.value;
        }
    }
    return nullptr;
}

Response Response::text(std::string body, int status) {
    Response response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

std::string_view reason_phrase(int status) {
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

std::string format_http_date(std::time_t seconds) {
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);  // GMT, whatever TZ says
    return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} GMT", days.at(static_cast<std::size_t>(utc.tm_wday)),
                       utc.tm_mday, months.at(static_cast<std::size_t>(utc.tm_mon)), utc.tm_year + 1900, utc.tm_hour,
                       utc.tm_min, utc.tm_sec);
}

std::optional<std::time_t> parse_http_date(std::string_view text) {
    // "Sun, 06 Nov 1994 08:49:37 GMT": 29 bytes, every one in its place. (The
    // two obsolete formats of §5.6.7 are not worth a server's trust here.)
    if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' || text[16] != ' ' ||
        text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
        return std::nullopt;
    }
    std::tm utc{};
    utc.tm_mday = number_at(text, 5, 2);
    utc.tm_year = number_at(text, 12, 4) - 1900;
    utc.tm_hour = number_at(text, 17, 2);
    utc.tm_min = number_at(text, 20, 2);
    utc.tm_sec = number_at(text, 23, 2);
    utc.tm_mon = -1;
    for (std::size_t i = 0; i < months.size(); ++i) {
        if (text.substr(8, 3) == months[i]) {
            utc.tm_mon = static_cast<int>(i);
        }
    }
    if (utc.tm_mday < 1 || utc.tm_mday > 31 || utc.tm_year < 70 || utc.tm_hour < 0 || utc.tm_hour > 23 ||
        utc.tm_min < 0 || utc.tm_min > 59 || utc.tm_sec < 0 || utc.tm_sec > 60 || utc.tm_mon < 0) {
        return std::nullopt;
    }
    return ::timegm(&utc);
}

std::string serialize(const Response& response, std::string_view method, bool close,
                      std::chrono::system_clock::time_point now) {
    std::string out = fmt::format("HTTP/1.1 {} {}\r\nDate: {}\r\n", response.status, reason_phrase(response.status),
                                  format_http_date(std::chrono::system_clock::to_time_t(now)));
    if (!response.content_type.empty()) {
        out += fmt::format("Content-Type: {}\r\n", response.content_type);
    }
    if (has_body(response.status)) {
        out += fmt::format("Content-Length: {}\r\n", response.body.size());  // for HEAD too: what GET would send
    }
    if (close) {
        out += "Connection: close\r\n";
    }
    for (const Field& field : response.headers) {
        out += fmt::format("{}: {}\r\n", field.name, field.value);
    }
    out += "\r\n";
    if (method != "HEAD" && has_body(response.status)) {
        out += response.body;
    }
    return out;
}

}  // namespace http
