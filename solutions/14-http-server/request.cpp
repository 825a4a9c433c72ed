// Exercise 14 — the request parser (solution).
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/core.h>

#include "http_server.hpp"

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

// Calls `each` with every element of a comma-separated list, trimmed.
template <typename F>
void for_each_token(std::string_view list, F&& each) {
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        const std::string_view token = trim(list.substr(0, comma));
        if (!token.empty()) {
            each(token);
        }
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// tchar (RFC 9110 §5.6.2): what a method or a field name is made of.
bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || (c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

bool is_token(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), is_token_char);
}

// Controls other than HTAB never belong in a field value or a target.
bool has_control(std::string_view text, bool allow_tab) {
    return std::any_of(text.begin(), text.end(), [allow_tab](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return (byte < 0x20 && !(allow_tab && c == '\t')) || byte == 0x7f;
    });
}

[[noreturn]] void bad_request(std::string why) { throw RequestError(400, why); }

// 1*DIGIT (RFC 9110 §8.6), without overflow.
std::uint64_t parse_length(std::string_view text) {
    if (text.empty() || !std::all_of(text.begin(), text.end(), is_digit)) {
        bad_request(fmt::format("invalid Content-Length \"{}\"", text.substr(0, 40)));
    }
    std::uint64_t value = 0;
    for (const char c : text) {
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (UINT64_MAX - digit) / 10) {
            bad_request(fmt::format("Content-Length \"{}\" is out of range", text.substr(0, 40)));
        }
        value = value * 10 + digit;
    }
    return value;
}

// chunk-size [ ;ext ] (RFC 9112 §7.1), without overflow.
std::uint64_t parse_chunk_size(std::string_view line) {
    const std::string_view size = trim(line.substr(0, line.find(';')));
    if (size.empty()) {
        bad_request("empty chunk size");
    }
    std::uint64_t value = 0;
    for (const char c : size) {
        if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
            bad_request(fmt::format("invalid chunk size \"{}\"", size.substr(0, 40)));
        }
        if (value > (UINT64_MAX >> 4)) {
            bad_request(fmt::format("chunk size \"{}\" overflows", size.substr(0, 40)));
        }
        const int digit = is_digit(c) ? c - '0' : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
        value = (value << 4) | static_cast<std::uint64_t>(digit);
    }
    return value;
}

constexpr std::size_t max_chunk_line = 4096;  // a chunk size and its extensions

}  // namespace

const std::string* Request::header(std::string_view name) const {
    for (const Field& field : headers) {
        if (iequals(field.name, name)) {
            return &field.value;
        }
    }
    return nullptr;
}

enum class Phase { request_line, fields, body_length, chunk_size, chunk_data, chunk_end, trailers, done };

struct RequestParser::State {
    Limits limits;
    Phase phase = Phase::request_line;
    std::string line;               // an unfinished line, when a read cut one
    std::size_t header_bytes = 0;   // of the field lines (or trailers) so far, each counted with a CRLF
    std::size_t trailer_count = 0;
    std::uint64_t remaining = 0;    // of the Content-Length body or this chunk
    bool started = false;           // the request line has begun
    Request request;

    // The longest the next line may be in this phase (without its line end).
    [[nodiscard]] std::size_t line_limit() const {
        switch (phase) {
        case Phase::request_line: return limits.max_request_line;
        case Phase::fields:
        case Phase::trailers: {
            const std::size_t left = limits.max_header_bytes - std::min(header_bytes, limits.max_header_bytes);
            return left >= 2 ? left - 2 : 0;
        }
        default: return max_chunk_line;
        }
    }
    [[noreturn]] void line_too_long() const {
        switch (phase) {
        case Phase::request_line:
            throw RequestError(414, fmt::format("request line longer than {} bytes", limits.max_request_line));
        case Phase::fields:
        case Phase::trailers:
            throw RequestError(431, fmt::format("header section larger than {} bytes", limits.max_header_bytes));
        default: bad_request("chunk size line too long");
        }
    }

    void add_body(std::string_view bytes) {
        if (request.body.size() + bytes.size() > limits.max_body_bytes) {
            throw RequestError(413, fmt::format("body larger than {} bytes", limits.max_body_bytes));
        }
        request.body.append(bytes);
    }

    void on_line(std::string_view text);
    void on_request_line(std::string_view text);
    void on_field_line(std::string_view text);
    void on_fields_end();
};

void RequestParser::State::on_request_line(std::string_view text) {
    const std::size_t first = text.find(' ');
    const std::size_t second = first == std::string_view::npos ? first : text.find(' ', first + 1);
    if (second == std::string_view::npos || text.find(' ', second + 1) != std::string_view::npos) {
        bad_request(fmt::format("malformed request line \"{}\"", text.substr(0, 80)));
    }
    const std::string_view method = text.substr(0, first);
    const std::string_view target = text.substr(first + 1, second - first - 1);
    const std::string_view version = text.substr(second + 1);
    if (!is_token(method)) {
        bad_request(fmt::format("malformed method \"{}\"", method.substr(0, 40)));
    }
    if (target.empty() || (target.front() != '/' && target != "*") || has_control(target, false)) {
        bad_request(fmt::format("malformed request target \"{}\"", target.substr(0, 80)));
    }
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !is_digit(version[5]) || version[6] != '.' ||
        !is_digit(version[7])) {
        bad_request(fmt::format("malformed HTTP version \"{}\"", version.substr(0, 40)));
    }
    if (version[5] != '1' || version[7] > '1') {
        throw RequestError(505, fmt::format("{} is not supported", version));
    }
    request.method = method;
    request.target = target;
    const std::size_t question = target.find('?');
    request.path = target.substr(0, question);
    request.query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
    request.minor_version = version[7] - '0';
    phase = Phase::fields;
}

void RequestParser::State::on_field_line(std::string_view text) {
    if (text.front() == ' ' || text.front() == '\t') {
        bad_request("obsolete line folding (a field line starting with whitespace)");
    }
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        bad_request(fmt::format("field line without a colon \"{}\"", text.substr(0, 80)));
    }
    const std::string_view name = text.substr(0, colon);
    if (!is_token(name)) {
        bad_request(fmt::format("malformed field name \"{}\"", name.substr(0, 80)));  // "Host :" lands here
    }
    const std::string_view value = trim(text.substr(colon + 1));
    if (has_control(value, true)) {
        bad_request(fmt::format("control character in the value of {}", name));
    }
    if (phase == Phase::trailers) {
        if (++trailer_count > limits.max_fields) {
            throw RequestError(431, fmt::format("more than {} trailer fields", limits.max_fields));
        }
        return;  // trailers are read and dropped
    }
    if (request.headers.size() == limits.max_fields) {
        throw RequestError(431, fmt::format("more than {} header fields", limits.max_fields));
    }
    request.headers.push_back(Field{std::string(name), std::string(value)});
}

void RequestParser::State::on_fields_end() {
    Request& r = request;
    std::size_t hosts = 0;
    bool close = false;
    bool keep_alive_asked = false;
    bool chunked = false;
    bool after_chunked = false;  // a coding applied after chunked: the body's end is unknowable
    bool unknown_coding = false;
    std::optional<std::uint64_t> length;
    for (const Field& field : r.headers) {
        if (iequals(field.name, "Host")) {
            ++hosts;
        } else if (iequals(field.name, "Connection")) {
            for_each_token(field.value, [&](std::string_view token) {
                close = close || iequals(token, "close");
                keep_alive_asked = keep_alive_asked || iequals(token, "keep-alive");
            });
        } else if (iequals(field.name, "Transfer-Encoding")) {
            for_each_token(field.value, [&](std::string_view coding) {
                after_chunked = after_chunked || chunked;
                chunked = iequals(coding, "chunked");
                unknown_coding = unknown_coding || !chunked;
            });
        } else if (iequals(field.name, "Content-Length")) {
            for_each_token(field.value, [&](std::string_view token) {
                const std::uint64_t value = parse_length(token);
                if (length && *length != value) {
                    bad_request(fmt::format("conflicting Content-Length values {} and {}", *length, value));
                }
                length = value;
            });
            if (trim(field.value).empty()) {
                bad_request("empty Content-Length");
            }
        }
    }
    if (hosts != 1 && (r.minor_version == 1 || hosts > 1)) {
        bad_request(hosts == 0 ? "an HTTP/1.1 request without Host" : "more than one Host field");
    }
    r.keep_alive = !close && (r.minor_version >= 1 || keep_alive_asked);

    if (chunked || unknown_coding) {
        if (!chunked || after_chunked) {
            bad_request("a Transfer-Encoding whose final coding is not chunked, once");
        }
        if (length) {
            bad_request("both Transfer-Encoding and Content-Length");
        }
        if (unknown_coding) {  // "gzip, chunked": framed, but this server cannot decode gzip (§6.1)
            throw RequestError(501, "a transfer coding other than chunked");
        }
        phase = Phase::chunk_size;
        return;
    }
    if (length && *length > limits.max_body_bytes) {
        throw RequestError(413, fmt::format("a body of {} bytes; the limit is {}", *length, limits.max_body_bytes));
    }
    remaining = length.value_or(0);
    phase = remaining > 0 ? Phase::body_length : Phase::done;
}

void RequestParser::State::on_line(std::string_view text) {
    if (!text.empty() && text.back() == '\r') {
        text.remove_suffix(1);
    }
    switch (phase) {
    case Phase::request_line:
        if (text.empty() && !started) {
            return;  // an empty line before the request line (§2.2)
        }
        on_request_line(text);
        return;
    case Phase::fields:
    case Phase::trailers:
        if (text.empty()) {
            if (phase == Phase::fields) {
                on_fields_end();
            } else {
                phase = Phase::done;
            }
            return;
        }
        header_bytes += text.size() + 2;  // feed() checked the limit before the line ended
        on_field_line(text);
        return;
    case Phase::chunk_size:
        remaining = parse_chunk_size(text);
        if (remaining == 0) {
            header_bytes = 0;
            phase = Phase::trailers;
        } else if (remaining > limits.max_body_bytes - request.body.size()) {
            throw RequestError(413, fmt::format("chunks larger than {} bytes", limits.max_body_bytes));
        } else {
            phase = Phase::chunk_data;
        }
        return;
    case Phase::chunk_end:
        if (!text.empty()) {
            bad_request("chunk data longer than its size");
        }
        phase = Phase::chunk_size;
        return;
    default:
        return;
    }
}

RequestParser::RequestParser(Limits limits) : state_(std::make_unique<State>()) { state_->limits = limits; }
RequestParser::~RequestParser() = default;
RequestParser::RequestParser(RequestParser&&) noexcept = default;
RequestParser& RequestParser::operator=(RequestParser&&) noexcept = default;

std::size_t RequestParser::feed(std::string_view bytes) {
    State& s = *state_;
    std::size_t used = 0;
    while (used < bytes.size() && s.phase != Phase::done) {
        const std::string_view rest = bytes.substr(used);
        if (s.phase == Phase::body_length || s.phase == Phase::chunk_data) {
            const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(s.remaining, rest.size()));
            s.add_body(rest.substr(0, take));
            s.remaining -= take;
            used += take;
            if (s.remaining == 0) {
                s.phase = s.phase == Phase::body_length ? Phase::done : Phase::chunk_end;
            }
            continue;
        }
        // A line phase: the line ends at '\n'. Usually all of it is here and
        // is parsed in place; a line cut by a read is kept until its end comes.
        if (s.phase == Phase::request_line && !rest.empty() && rest.front() != '\r' && rest.front() != '\n') {
            s.started = true;
        }
        const std::size_t newline = rest.find('\n');
        const std::size_t piece = newline == std::string_view::npos ? rest.size() : newline;
        const std::size_t limit = s.line_limit();
        // Checked before the line is whole, so that a line that never ends
        // costs at most the limit. Its CR (if that is what the last byte so
        // far is) does not count.
        const std::size_t length = s.line.size() + piece;
        if (newline == std::string_view::npos) {
            if (length > limit + 1) {
                s.line_too_long();
            }
        } else {
            const bool ends_in_cr = piece > 0 ? rest[piece - 1] == '\r' : !s.line.empty() && s.line.back() == '\r';
            if (length - (ends_in_cr ? 1 : 0) > limit) {
                s.line_too_long();
            }
        }
        if (newline == std::string_view::npos) {
            s.line.append(rest);
            used += rest.size();
            continue;
        }
        used += newline + 1;
        if (s.line.empty()) {
            s.on_line(rest.substr(0, newline));
        } else {
            s.line.append(rest.substr(0, newline));
            const std::string whole = std::exchange(s.line, std::string());
            s.on_line(whole);
        }
    }
    return used;
}

bool RequestParser::done() const { return state_->phase == Phase::done; }

bool RequestParser::idle() const { return state_->phase == Phase::request_line && !state_->started; }

Request RequestParser::take() {
    if (state_->phase != Phase::done) {
        throw RequestError(500, "take() before the request is complete");
    }
    Request request = std::move(state_->request);
    const Limits limits = state_->limits;
    *state_ = State{};
    state_->limits = limits;
    return request;
}

}  // namespace http
