// Exercise 14 — the router and the response writer (solution).
#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <exception>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "http_server.hpp"
#include "net/log.hpp"

namespace http {
namespace {

constexpr std::array<std::string_view, 7> known_methods = {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"};

// "/users/7" → {"users", "7"}; "/" → {""}; "/a/" → {"a", ""}.
std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> segments;
    if (!path.empty() && path.front() == '/') {
        path.remove_prefix(1);
    }
    while (true) {
        const std::size_t slash = path.find('/');
        segments.emplace_back(path.substr(0, slash));
        if (slash == std::string_view::npos) {
            return segments;
        }
        path.remove_prefix(slash + 1);
    }
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// "J%C3%BCrgen" → "Jürgen" (RFC 3986 §2.1); a '%' without two hex digits is a 400.
std::string percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        const int high = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
        const int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
        if (high < 0 || low < 0) {
            throw RequestError(400, fmt::format("bad percent-encoding in \"{}\"", text.substr(0, 80)));
        }
        out += static_cast<char>(high * 16 + low);
        i += 2;
    }
    return out;
}

bool is_param(std::string_view segment) {
    return segment.size() > 2 && segment.front() == '<' && segment.back() == '>';
}

// Whether `pattern` matches `path` (both split), and the parameters it binds.
bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
             std::map<std::string, std::string, std::less<>>& params) {
    if (pattern.size() != path.size()) {
        return false;
    }
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (is_param(pattern[i])) {
            if (path[i].empty()) {
                return false;
            }
            params[pattern[i].substr(1, pattern[i].size() - 2)] = path[i];
        } else if (pattern[i] != path[i]) {
            return false;
        }
    }
    return true;
}

Response error_response(int status) { return Response::text(fmt::format("{} {}\n", status, reason_phrase(status)), status); }

bool has_body(int status) { return status >= 200 && status != 204 && status != 304; }

}  // namespace

void Router::route(std::string_view method, std::string_view pattern, Handler handler) {
    routes_.push_back(Route{std::string(method), split_path(pattern), std::move(handler)});
}

Response Router::dispatch(Request& request) const {
    if (std::find(known_methods.begin(), known_methods.end(), request.method) == known_methods.end()) {
        return error_response(501);
    }
    try {
        std::vector<std::string> path = split_path(request.path);
        for (std::string& segment : path) {
            segment = percent_decode(segment);
        }
        std::set<std::string, std::less<>> allowed;
        const Route* chosen = nullptr;
        const Route* get_route = nullptr;  // answers HEAD when no HEAD route does
        std::map<std::string, std::string, std::less<>> chosen_params;
        std::map<std::string, std::string, std::less<>> get_params;
        for (const Route& route : routes_) {
            std::map<std::string, std::string, std::less<>> params;
            if (!matches(route.segments, path, params)) {
                continue;
            }
            allowed.insert(route.method);
            if (route.method == "GET") {
                allowed.insert("HEAD");
            }
            if (chosen == nullptr && route.method == request.method) {
                chosen = &route;
                chosen_params = std::move(params);
            } else if (get_route == nullptr && route.method == "GET") {
                get_route = &route;
                get_params = std::move(params);
            }
        }
        if (chosen == nullptr && request.method == "HEAD" && get_route != nullptr) {
            chosen = get_route;
            chosen_params = std::move(get_params);
        }
        if (chosen == nullptr) {
            if (allowed.empty()) {
                return error_response(404);
            }
            std::string allow;
            for (const std::string& method : allowed) {  // a std::set: alphabetical
                allow += allow.empty() ? method : ", " + method;
            }
            Response response = error_response(405);
            response.headers.push_back(Field{"Allow", allow});
            return response;
        }
        request.params = std::move(chosen_params);
        return chosen->handler(request);
    } catch (const RequestError& error) {
        net::log::info("{} {}: {} ({})", request.method, request.path, error.status(), error.what());
        return error_response(error.status());
    } catch (const std::exception& error) {
        net::log::info("{} {}: the handler failed: {}", request.method, request.path, error.what());
        return error_response(500);
    }
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

std::string serialize(const Response& response, std::string_view method, bool close,
                      std::chrono::system_clock::time_point now) {
    static constexpr std::array<std::string_view, 7> days = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);  // GMT, whatever TZ says: localtime_r here is the classic bug

    std::string out = fmt::format("HTTP/1.1 {} {}\r\nDate: {}, {:02} {} {} {:02}:{:02}:{:02} GMT\r\n", response.status,
                                  reason_phrase(response.status), days.at(static_cast<std::size_t>(utc.tm_wday)),
                                  utc.tm_mday, months.at(static_cast<std::size_t>(utc.tm_mon)), utc.tm_year + 1900,
                                  utc.tm_hour, utc.tm_min, utc.tm_sec);
    if (!response.content_type.empty()) {
        out += fmt::format("Content-Type: {}\r\n", response.content_type);
    }
    if (has_body(response.status)) {  // never on 1xx, 204 or 304 (RFC 9110 §8.6)
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
