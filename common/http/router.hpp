#pragma once
// http::Router — chapter 14's router (Flask's app.route), from the solution of
// exercise 14, plus a fallback handler for what no route matches (chapter 15
// serves files there).
//   - no pattern matches the path (and no fallback)       → 404
//   - a pattern matches, not for this method               → 405 with Allow
//   - a method this server knows nothing about             → 501
//   - HEAD with no HEAD route runs the GET handler
//   - a handler's RequestError answers with its status; anything else is a 500.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace http {

using Handler = std::function<Response(const Request&)>;

class Router {
public:
    // app.route(pattern, methods=[method]): "/users/<id>"; <id> is one
    // non-empty, percent-decoded segment, in request.params["id"].
    void route(std::string_view method, std::string_view pattern, Handler handler);
    void get(std::string_view pattern, Handler handler) { route("GET", pattern, std::move(handler)); }
    void post(std::string_view pattern, Handler handler) { route("POST", pattern, std::move(handler)); }
    // Called, for any known method, when no pattern matches the path.
    void fallback(Handler handler) { fallback_ = std::move(handler); }

    // The answer to `request`; fills request.params.
    [[nodiscard]] Response dispatch(Request& request) const;

private:
    struct Route {
        std::string method;
        std::vector<std::string> segments;  // "users", "<id>"
        Handler handler;
    };
    std::vector<Route> routes_;
    Handler fallback_;
};

}  // namespace http
