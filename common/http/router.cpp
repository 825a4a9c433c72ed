// http::Router — the solution of exercise 14 (chapter 14), moved to common/;
// chapter 15 adds fallback(), the handler for paths no route matches.
#include <algorithm>
#include <array>
#include <exception>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "http/router.hpp"
#include "http/text.hpp"
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
            if (allowed.empty() && fallback_) {
                return fallback_(request);
            }
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

}  // namespace http
