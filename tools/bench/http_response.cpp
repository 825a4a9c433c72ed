#include "http_response.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>

#include <fmt/core.h>

namespace bench {

namespace {

constexpr std::size_t head_limit = 64 * 1024;
constexpr std::size_t line_limit = 4 * 1024;
constexpr std::uint64_t body_limit = std::uint64_t{1} << 40;

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
        return (x | 0x20) == (y | 0x20);  // enough for the ASCII field names and tokens compared here
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

// The last element of a comma-separated field value ("gzip, chunked" -> "chunked").
std::string_view last_token(std::string_view value) {
    const auto comma = value.rfind(',');
    return trim(comma == std::string_view::npos ? value : value.substr(comma + 1));
}

bool has_token(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        const auto comma = value.find(',');
        if (equals_ignoring_case(trim(value.substr(0, comma)), token)) {
            return true;
        }
        value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    }
    return false;
}

}  // namespace

std::size_t ResponseReader::feed(const char* data, std::size_t size) {
    std::size_t used = 0;
    while (used < size && step_ == Step::more) {
        switch (state_) {
        case State::head:
            used += feed_head(data + used, size - used);
            break;
        case State::body:
        case State::chunk_data: {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, size - used));
            used += n;
            remaining_ -= n;
            body_bytes_ += n;
            if (remaining_ == 0) {
                if (state_ == State::body) {
                    finish();
                } else {
                    state_ = State::chunk_end;
                }
            }
            break;
        }
        default:
            used += feed_line(data + used, size - used);
        }
    }
    bytes_ += used;
    return used;
}

void ResponseReader::next() {
    // Field by field: buffer_ keeps its capacity, so a response costs no allocation.
    state_ = State::head;
    step_ = Step::more;
    buffer_.clear();
    remaining_ = 0;
    status_ = 0;
    status_line_.clear();
    close_ = false;
    bytes_ = 0;
    body_bytes_ = 0;
}

std::size_t ResponseReader::feed_head(const char* data, std::size_t size) {
    // Whole responses usually come in one piece: search them in place and
    // copy only the head; buffer_ holds a head cut between two reads.
    const std::size_t before = buffer_.size();
    const std::size_t take = std::min(size, head_limit + 4 - before);
    buffer_.append(data, take);
    const auto end = buffer_.find("\r\n\r\n", before >= 3 ? before - 3 : 0);
    if (end == std::string::npos) {
        if (buffer_.size() > head_limit) {
            fail(fmt::format("a response head longer than {} bytes", head_limit));
        }
        return take;
    }
    buffer_.resize(end + 4);
    parse_head();
    return end + 4 - before;
}

void ResponseReader::parse_head() {
    std::string_view head(buffer_);
    const auto eol = head.find("\r\n");
    status_line_ = std::string(head.substr(0, eol));
    const std::string_view line(status_line_);
    // "HTTP/1.1 200 OK": the version, a space, three digits, then a space or nothing.
    if (line.size() < 12 || !line.starts_with("HTTP/1.") || line[8] != ' ' || (line.size() > 12 && line[12] != ' ')
        || std::from_chars(line.data() + 9, line.data() + 12, status_).ptr != line.data() + 12 || status_ < 100) {
        return fail(fmt::format("not an HTTP/1.x status line: '{:.80}'", line));
    }
    bool chunked = false;
    bool has_length = false;
    std::uint64_t length = 0;
    for (std::size_t at = eol + 2; at < head.size() - 2;) {
        const auto end = head.find("\r\n", at);
        const std::string_view field = head.substr(at, end - at);
        at = end + 2;
        const auto colon = field.find(':');
        if (colon == std::string_view::npos || colon == 0 || field[colon - 1] == ' ' || field[colon - 1] == '\t') {
            return fail(fmt::format("a malformed header field: '{:.80}'", field));
        }
        const std::string_view name = field.substr(0, colon);
        const std::string_view value = trim(field.substr(colon + 1));
        if (equals_ignoring_case(name, "content-length")) {
            std::uint64_t parsed = 0;
            const auto [end_of_number, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
            if (value.empty() || error != std::errc{} || end_of_number != value.data() + value.size()
                || parsed > body_limit || (has_length && parsed != length)) {
                return fail(fmt::format("a bad or conflicting Content-Length: '{:.40}'", value));
            }
            has_length = true;
            length = parsed;
        } else if (equals_ignoring_case(name, "transfer-encoding")) {
            if (!equals_ignoring_case(last_token(value), "chunked")) {
                return fail(fmt::format("Transfer-Encoding '{:.40}' does not end in chunked: no framing", value));
            }
            chunked = true;
        } else if (equals_ignoring_case(name, "connection")) {
            close_ = close_ || has_token(value, "close");
        }
    }
    buffer_.clear();
    if (status_ < 200) {  // an interim response (100 Continue, 103 Early Hints): the real one follows
        if (status_ == 101) {
            return fail("101 Switching Protocols: the connection is no longer HTTP");
        }
        status_line_.clear();
        return;
    }
    if (status_ == 204 || status_ == 304) {
        return finish();
    }
    if (chunked) {  // it overrides a Content-Length (RFC 9112 §6.3)
        state_ = State::chunk_size;
    } else if (has_length) {
        state_ = State::body;
        remaining_ = length;
        if (length == 0) {
            finish();
        }
    } else {
        fail("a response without Content-Length or chunked: its body ends with the connection, "
             "so the connection cannot be kept alive");
    }
}

std::size_t ResponseReader::feed_line(const char* data, std::size_t size) {
    const auto* newline = static_cast<const char*>(std::memchr(data, '\n', size));
    const std::size_t take = newline == nullptr ? size : static_cast<std::size_t>(newline - data) + 1;
    buffer_.append(data, take);
    if (newline == nullptr) {
        if (buffer_.size() > line_limit) {
            fail(fmt::format("a chunk line longer than {} bytes", line_limit));
        }
        return take;
    }
    if (buffer_.size() < 2 || buffer_[buffer_.size() - 2] != '\r') {
        fail("a chunk line that ends in a bare LF");
        return take;
    }
    on_line(std::string_view(buffer_).substr(0, buffer_.size() - 2));
    buffer_.clear();
    return take;
}

void ResponseReader::on_line(std::string_view line) {
    if (state_ == State::chunk_end) {
        if (!line.empty()) {
            return fail("a chunk's data is longer than its size says");
        }
        state_ = State::chunk_size;
    } else if (state_ == State::chunk_size) {
        // "1a;name=value": the size in hex, then extensions, which mean nothing here.
        std::uint64_t size = 0;
        const char* end = line.data() + line.size();
        const auto [stop, error] = std::from_chars(line.data(), end, size, 16);
        if (stop == line.data() || error != std::errc{} || size > body_limit
            || (stop != end && *stop != ';' && *stop != ' ' && *stop != '\t')) {
            return fail(fmt::format("a bad chunk size line: '{:.40}'", line));
        }
        remaining_ = size;
        state_ = size == 0 ? State::trailers : State::chunk_data;
    } else if (line.empty()) {  // trailers end with an empty line, and so does the response
        finish();
    }
}

void ResponseReader::fail(std::string what) {
    step_ = Step::failed;
    error_ = std::move(what);
}

void ResponseReader::finish() {
    step_ = Step::complete;
}

}  // namespace bench
