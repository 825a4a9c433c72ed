// Exercise 18, part 1 — the reply reader. The contract is in ftp.hpp.
// Replace each net::todo(...) with your code, then run: ./workbook check 18
#include <memory>
#include <string>
#include <string_view>

#include "ftp.hpp"
#include "net/error.hpp"

namespace ftp {

// Whatever your reader needs to remember between feed() calls: the
// unfinished line, the reply so far, whether it is a multi-line one.
struct ReplyReader::State {
    Limits limits;
    Reply reply;
};

ReplyReader::ReplyReader(Limits limits) : state_(std::make_unique<State>()) { state_->limits = limits; }
ReplyReader::~ReplyReader() = default;
ReplyReader::ReplyReader(ReplyReader&&) noexcept = default;
ReplyReader& ReplyReader::operator=(ReplyReader&&) noexcept = default;

std::size_t ReplyReader::feed([[maybe_unused]] std::string_view bytes) {
    net::todo("ReplyReader::feed: lines up to '\\n', a code of three digits, '-' opens a multi-line reply");
}

bool ReplyReader::done() const {
    net::todo("ReplyReader::done");
}

Reply ReplyReader::take() {
    net::todo("ReplyReader::take: move the reply out and start afresh");
}

}  // namespace ftp
