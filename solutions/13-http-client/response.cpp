// Exercise 13 — the response parser (solution).
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/core.h>

#include "http.hpp"

namespace http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// 1*DIGIT (RFC 9110 §8.6): no sign, no space, no overflow.
std::uint64_t parse_length(std::string_view text) {
    if (text.empty() || !std::all_of(text.begin(), text.end(), is_digit)) {
        throw Error(fmt::format("invalid Content-Length \"{}\"", text));
    }
    std::uint64_t value = 0;
    for (const char c : text) {
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (UINT64_MAX - digit) / 10) {
            throw Error(fmt::format("Content-Length \"{}\" is out of range", text));
        }
        value = value * 10 + digit;
    }
    return value;
}

// chunk-size = 1*HEXDIG, optionally followed by ";ext" (RFC 9112 §7.1).
std::uint64_t parse_chunk_size(std::string_view line) {
    const std::string_view size = trim(line.substr(0, line.find(';')));
    if (size.empty()) {
        throw Error(fmt::format("invalid chunk size line \"{}\"", line));
    }
    std::uint64_t value = 0;
    for (const char c : size) {
        const int digit = std::isxdigit(static_cast<unsigned char>(c)) == 0 ? -1
                          : is_digit(c)                                     ? c - '0'
                                                     : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
        if (digit < 0) {
            throw Error(fmt::format("invalid chunk size \"{}\"", size));
        }
        if (value > (UINT64_MAX >> 4)) {
            throw Error(fmt::format("chunk size \"{}\" overflows", size));
        }
        value = (value << 4) | static_cast<std::uint64_t>(digit);
    }
    return value;
}

}  // namespace

enum class Phase { status, fields, body_length, body_close, chunk_size, chunk_data, chunk_end, trailers, done };

struct ResponseParser::State {
    std::string method;
    Limits limits;
    Phase phase = Phase::status;
    std::string line;                 // the unfinished line
    std::size_t header_bytes = 0;     // of this header section (or trailers) so far
    std::uint64_t remaining = 0;      // of the Content-Length body or this chunk
    Response response;

    // Appends body bytes, counting them against the limit.
    void add_body(std::string_view bytes) {
        if (response.body.size() + bytes.size() > limits.max_body_bytes) {
            throw Error(fmt::format("body longer than the limit of {} bytes", limits.max_body_bytes));
        }
        response.body.append(bytes);
    }

    void on_line(std::string_view text);
    void on_status_line(std::string_view text);
    void on_field_line(std::string_view text, std::vector<Field>& fields);
    void on_fields_end();
};

void ResponseParser::State::on_status_line(std::string_view text) {
    // "HTTP/1.1 200 OK": the version, three digits, an optional reason.
    if (text.size() < 12 || text.substr(0, 7) != "HTTP/1." || !is_digit(text[7]) || text[8] != ' ' ||
        !is_digit(text[9]) || !is_digit(text[10]) || !is_digit(text[11]) ||
        (text.size() > 12 && text[12] != ' ')) {
        throw Error(fmt::format("malformed status line \"{}\"", text.substr(0, 80)));
    }
    response = Response{};
    response.minor_version = text[7] - '0';
    response.status = (text[9] - '0') * 100 + (text[10] - '0') * 10 + (text[11] - '0');
    if (response.status < 100) {
        throw Error(fmt::format("malformed status line \"{}\"", text.substr(0, 80)));
    }
    response.reason = text.size() > 13 ? std::string(text.substr(13)) : std::string();
    phase = Phase::fields;
}

void ResponseParser::State::on_field_line(std::string_view text, std::vector<Field>& fields) {
    if (text.front() == ' ' || text.front() == '\t') {
        // obs-fold (RFC 9112 §5.2): a user agent replaces it with SP.
        if (fields.empty()) {
            throw Error("a header section starts with whitespace");
        }
        std::string& value = fields.back().value;
        value += ' ';
        value += trim(text);
        return;
    }
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0) {
        throw Error(fmt::format("malformed header line \"{}\"", text.substr(0, 80)));
    }
    const std::string_view name = text.substr(0, colon);
    if (name.back() == ' ' || name.back() == '\t') {
        throw Error(fmt::format("whitespace before the colon in header \"{}\"", name));
    }
    fields.push_back(Field{std::string(name), std::string(trim(text.substr(colon + 1)))});
}

void ResponseParser::State::on_fields_end() {
    Response& r = response;
    if (r.status >= 100 && r.status < 200 && r.status != 101) {
        phase = Phase::status;  // interim: the final response follows
        header_bytes = 0;
        return;
    }
    bool close = false;
    bool keep_alive_asked = false;
    std::string codings;
    std::optional<std::uint64_t> length;
    for (const Field& field : r.headers) {
        if (iequals(field.name, "Connection")) {
            std::string_view list = field.value;
            while (!list.empty()) {
                const std::size_t comma = list.find(',');
                const std::string_view token = trim(list.substr(0, comma));
                close = close || iequals(token, "close");
                keep_alive_asked = keep_alive_asked || iequals(token, "keep-alive");
                list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
            }
        } else if (iequals(field.name, "Transfer-Encoding")) {
            codings += codings.empty() ? field.value : "," + field.value;
        } else if (iequals(field.name, "Content-Length")) {
            std::string_view list = field.value;
            while (true) {  // "5, 5" is one length said twice
                const std::size_t comma = list.find(',');
                const std::uint64_t value = parse_length(trim(list.substr(0, comma)));
                if (length && *length != value) {
                    throw Error("conflicting Content-Length values");
                }
                length = value;
                if (comma == std::string_view::npos) {
                    break;
                }
                list = list.substr(comma + 1);
            }
        }
    }
    r.keep_alive = !close && (r.minor_version >= 1 || keep_alive_asked);

    // RFC 9112 §6.3, rule by rule.
    if (iequals(method, "HEAD") || r.status == 101 || r.status == 204 || r.status == 304) {
        phase = Phase::done;
        return;
    }
    if (!codings.empty()) {
        const std::size_t comma = codings.rfind(',');
        const std::string_view last = trim(comma == std::string::npos ? std::string_view(codings)
                                                                      : std::string_view(codings).substr(comma + 1));
        if (length) {
            r.keep_alive = false;  // TE and CL together: TE wins, the connection is suspect
        }
        if (iequals(last, "chunked")) {
            phase = Phase::chunk_size;
        } else {
            r.keep_alive = false;
            phase = Phase::body_close;
        }
        return;
    }
    if (length) {
        if (*length > limits.max_body_bytes) {
            throw Error(fmt::format("Content-Length {} is over the limit of {} bytes", *length,
                                    limits.max_body_bytes));
        }
        remaining = *length;
        phase = remaining == 0 ? Phase::done : Phase::body_length;
        return;
    }
    r.keep_alive = false;
    phase = Phase::body_close;
}

void ResponseParser::State::on_line(std::string_view text) {
    switch (phase) {
    case Phase::status:
        if (text.empty()) {
            return;  // RFC 9112 §2.2: a stray empty line before the status line may be ignored
        }
        on_status_line(text);
        return;
    case Phase::fields:
        if (text.empty()) {
            on_fields_end();
        } else {
            on_field_line(text, response.headers);
        }
        return;
    case Phase::chunk_size:
        header_bytes = 0;  // the limit holds per chunk-size line, not for the whole body
        remaining = parse_chunk_size(text);
        if (remaining == 0) {
            phase = Phase::trailers;
            header_bytes = 0;
        } else {
            if (response.body.size() + remaining > limits.max_body_bytes) {
                throw Error(fmt::format("body longer than the limit of {} bytes", limits.max_body_bytes));
            }
            phase = Phase::chunk_data;
        }
        return;
    case Phase::chunk_end:
        header_bytes = 0;
        if (!text.empty()) {
            throw Error("chunk data longer than its size");
        }
        phase = Phase::chunk_size;
        return;
    case Phase::trailers:
        if (text.empty()) {
            phase = Phase::done;
        } else {
            on_field_line(text, response.trailers);
        }
        return;
    default:
        return;
    }
}

ResponseParser::ResponseParser(std::string_view method, Limits limits) : state_(std::make_unique<State>()) {
    state_->method = std::string(method);
    state_->limits = limits;
}
ResponseParser::~ResponseParser() = default;
ResponseParser::ResponseParser(ResponseParser&&) noexcept = default;
ResponseParser& ResponseParser::operator=(ResponseParser&&) noexcept = default;

std::size_t ResponseParser::feed(std::string_view bytes) {
    State& s = *state_;
    std::size_t used = 0;
    while (used < bytes.size() && s.phase != Phase::done) {
        const std::string_view rest = bytes.substr(used);
        if (s.phase == Phase::body_close) {
            s.add_body(rest);
            used = bytes.size();
        } else if (s.phase == Phase::body_length || s.phase == Phase::chunk_data) {
            const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(s.remaining, rest.size()));
            s.add_body(rest.substr(0, take));
            s.remaining -= take;
            used += take;
            if (s.remaining == 0) {
                s.phase = s.phase == Phase::body_length ? Phase::done : Phase::chunk_end;
            }
        } else {
            // A line: status, field, chunk size, chunk end or trailer.
            const std::size_t newline = rest.find('\n');
            const std::size_t take = newline == std::string_view::npos ? rest.size() : newline + 1;
            s.header_bytes += take;
            if (s.header_bytes > s.limits.max_header_bytes) {
                throw Error(fmt::format("header section over the limit of {} bytes", s.limits.max_header_bytes));
            }
            s.line.append(rest.substr(0, take));
            used += take;
            if (newline != std::string_view::npos) {
                std::string_view text = s.line;
                text.remove_suffix(1);
                if (!text.empty() && text.back() == '\r') {
                    text.remove_suffix(1);
                }
                const std::string line = std::move(s.line);
                s.line.clear();
                s.on_line(std::string_view(line).substr(0, text.size()));
            }
        }
    }
    return used;
}

void ResponseParser::finish() {
    State& s = *state_;
    switch (s.phase) {
    case Phase::done:
        return;
    case Phase::body_close:
        s.phase = Phase::done;
        return;
    case Phase::status:
        throw Error(s.line.empty() && s.header_bytes == 0 ? "connection closed before any response"
                                                           : "connection closed in the status line");
    case Phase::body_length:
        throw Error(fmt::format("connection closed after {} body bytes, {} more were promised",
                                s.response.body.size(), s.remaining));
    case Phase::fields:
        throw Error("connection closed in the header section");
    default:
        throw Error("connection closed in the middle of a chunked body");
    }
}

bool ResponseParser::done() const { return state_->phase == Phase::done; }

Response ResponseParser::take() {
    if (!done()) {
        throw Error("the response is not complete yet");
    }
    return std::move(state_->response);
}

}  // namespace http
