// Exercise 14 — the request parser. The contract is in http_server.hpp.
// Replace each net::todo(...) with your code, then run: ./workbook check 14
#include <memory>
#include <string>
#include <string_view>

#include "http_server.hpp"
#include "net/error.hpp"

namespace http {

const std::string* Request::header([[maybe_unused]] std::string_view name) const {
    net::todo("Request::header: the first field with this name, in any case");
}

// Whatever your parser needs to remember between feed() calls: where it is
// (request line, fields, body, chunks...), the unfinished line, the bytes
// still due, how much of each limit is used.
struct RequestParser::State {
    Limits limits;
    Request request;
};

RequestParser::RequestParser(Limits limits) : state_(std::make_unique<State>()) { state_->limits = limits; }
RequestParser::~RequestParser() = default;
RequestParser::RequestParser(RequestParser&&) noexcept = default;
RequestParser& RequestParser::operator=(RequestParser&&) noexcept = default;

std::size_t RequestParser::feed([[maybe_unused]] std::string_view bytes) {
    net::todo("RequestParser::feed: request line, fields, then the body (Content-Length or chunked), within the Limits");
}

bool RequestParser::done() const {
    net::todo("RequestParser::done");
}

bool RequestParser::idle() const {
    net::todo("RequestParser::idle");
}

Request RequestParser::take() {
    net::todo("RequestParser::take: move the request out and start over");
}

}  // namespace http
