// Exercise 18, part 1 — the reply reader. The contract is in ftp.hpp.
#include <cctype>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/core.h>

#include "ftp.hpp"

namespace ftp {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "226 ..." or "211-...": three digits, the first 1-5, then a space or a
// hyphen — or nothing (a bare "226" is a whole reply to ftplib too).
bool starts_reply(std::string_view line) {
    return line.size() >= 3 && line[0] >= '1' && line[0] <= '5' && is_digit(line[1]) && is_digit(line[2]) &&
           (line.size() == 3 || line[3] == ' ' || line[3] == '-');
}

std::string shown(std::string_view line) {
    std::string out;
    for (const char c : line.substr(0, 60)) {
        out += std::isprint(static_cast<unsigned char>(c)) ? std::string(1, c) : fmt::format("\\x{:02x}", c);
    }
    return line.size() > 60 ? out + "..." : out;
}

}  // namespace

struct ReplyReader::State {
    Limits limits;
    std::string line;  // the unfinished line
    Reply reply;
    bool multi = false;  // the first line had a hyphen: wait for "NNN "
    bool done = false;
};

ReplyReader::ReplyReader(Limits limits) : state_(std::make_unique<State>()) { state_->limits = limits; }
ReplyReader::~ReplyReader() = default;
ReplyReader::ReplyReader(ReplyReader&&) noexcept = default;
ReplyReader& ReplyReader::operator=(ReplyReader&&) noexcept = default;

std::size_t ReplyReader::feed(std::string_view bytes) {
    State& s = *state_;
    std::size_t used = 0;
    while (!s.done && used < bytes.size()) {
        const std::string_view rest = bytes.substr(used);
        const std::size_t newline = rest.find('\n');
        const std::size_t take = newline == std::string_view::npos ? rest.size() : newline + 1;
        // The limit is checked before the line is complete: a server that
        // never sends '\n' must not grow this string without end. (+1 for a
        // CR that may turn out to be the line's end.)
        if (s.line.size() + take > s.limits.max_line_bytes + 2) {
            throw Error(fmt::format("a reply line longer than the limit of {} bytes", s.limits.max_line_bytes));
        }
        s.line.append(rest.substr(0, take));
        used += take;
        if (newline == std::string_view::npos) {
            break;  // the rest of the line comes in a later piece
        }
        std::string line = std::move(s.line);
        s.line.clear();
        line.pop_back();  // '\n'
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (s.reply.lines.empty()) {
            if (!starts_reply(line)) {
                throw Error(fmt::format("malformed reply line \"{}\": no three-digit code", shown(line)));
            }
            s.reply.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
            s.multi = line.size() > 3 && line[3] == '-';
            s.done = !s.multi;
        } else if (s.reply.lines.size() >= s.limits.max_lines) {
            throw Error(fmt::format("a multi-line reply of more than {} lines", s.limits.max_lines));
        } else {
            // RFC 959 §4.2: the last line starts with the same code and a
            // space. Any other line — "211 x" inside a 214 reply, " 211 x",
            // "211-x" — is text.
            s.done = line.size() >= 4 && line.compare(0, 3, fmt::format("{}", s.reply.code)) == 0 && line[3] == ' ';
            s.done = s.done || line == fmt::format("{}", s.reply.code);
        }
        s.reply.lines.push_back(std::move(line));
    }
    return used;
}

bool ReplyReader::done() const { return state_->done; }

Reply ReplyReader::take() {
    if (!state_->done) {
        throw Error("ReplyReader::take: the reply is not complete");
    }
    Reply reply = std::move(state_->reply);
    const Limits limits = state_->limits;
    *state_ = State{};
    state_->limits = limits;
    return reply;
}

}  // namespace ftp
