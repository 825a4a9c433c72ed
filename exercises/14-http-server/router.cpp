// Exercise 14 — the router and the response writer. The contract is in
// http_server.hpp. Replace each net::todo(...) with your code, then run:
// ./workbook check 14
#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "http_server.hpp"
#include "net/error.hpp"

namespace http {

void Router::route([[maybe_unused]] std::string_view method, [[maybe_unused]] std::string_view pattern,
                   [[maybe_unused]] Handler handler) {
    net::todo("Router::route: remember the method, the pattern's segments and the handler");
}

Response Router::dispatch([[maybe_unused]] Request& request) const {
    net::todo("Router::dispatch: the handler whose pattern matches, else 404, 405 with Allow, or 501");
}

std::string_view reason_phrase([[maybe_unused]] int status) {
    net::todo("reason_phrase: \"OK\", \"Not Found\" ...");
}

std::string serialize([[maybe_unused]] const Response& response, [[maybe_unused]] std::string_view method,
                      [[maybe_unused]] bool close, [[maybe_unused]] std::chrono::system_clock::time_point now) {
    net::todo("serialize: status line, Date, Content-Type, Content-Length, Connection, fields, body (none for HEAD)");
}

}  // namespace http
