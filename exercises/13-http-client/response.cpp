// Exercise 13 — the response parser. The contract is in http.hpp.
// Replace each net::todo(...) with your code, then run: ./workbook check 13
#include <memory>
#include <string>
#include <string_view>

#include "http.hpp"
#include "net/error.hpp"

namespace http {

// Whatever your parser needs to remember between feed() calls: where it is
// (status line, fields, body...), the unfinished line, the bytes still due.
struct ResponseParser::State {
    std::string method;
    Limits limits;
    Response response;
};

ResponseParser::ResponseParser(std::string_view method, Limits limits) : state_(std::make_unique<State>()) {
    state_->method = std::string(method);
    state_->limits = limits;
}
ResponseParser::~ResponseParser() = default;
ResponseParser::ResponseParser(ResponseParser&&) noexcept = default;
ResponseParser& ResponseParser::operator=(ResponseParser&&) noexcept = default;

std::size_t ResponseParser::feed([[maybe_unused]] std::string_view bytes) {
    net::todo("ResponseParser::feed: status line, fields, then the body framed by RFC 9112 §6.3");
}

void ResponseParser::finish() {
    net::todo("ResponseParser::finish: the server closed; end a read-until-close body, else an Error");
}

bool ResponseParser::done() const {
    net::todo("ResponseParser::done");
}

Response ResponseParser::take() {
    net::todo("ResponseParser::take");
}

}  // namespace http
