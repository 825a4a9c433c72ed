// Exercise 15 — the body's framing (solution). Every way two servers could
// read the same head differently is refused before a byte of body is read.
#include <cstdint>
#include <optional>
#include <string_view>

#include <fmt/core.h>

#include "hardening.hpp"

namespace hardening {
namespace {

[[noreturn]] void refuse(int status, std::string why) { throw http::RequestError(status, why); }

// 1*DIGIT (RFC 9110 §8.6): no sign, no space, no hex, no overflow.
std::uint64_t parse_length(std::string_view text) {
    if (text.empty()) {
        refuse(400, "an empty Content-Length");
    }
    std::uint64_t value = 0;
    for (const char c : text) {
        if (!http::is_digit(c)) {
            refuse(400, fmt::format("Content-Length \"{}\" is not a number", text.substr(0, 40)));
        }
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (UINT64_MAX - digit) / 10) {
            refuse(400, fmt::format("Content-Length \"{}\" is out of range", text.substr(0, 40)));
        }
        value = value * 10 + digit;
    }
    return value;
}

// Every Content-Length value, from every field and every list element; they
// must all be the same number.
std::optional<std::uint64_t> lengths_of(const http::Request& head) {
    std::optional<std::uint64_t> length;
    for (const http::Field& field : head.headers) {
        if (!http::iequals(field.name, "Content-Length")) {
            continue;
        }
        // Split by hand rather than with for_each_token, which skips empty
        // elements: "5,,5" and "5," are not a length.
        std::string_view list = field.value;
        while (true) {
            const std::size_t comma = list.find(',');
            const std::uint64_t value = parse_length(http::trim(list.substr(0, comma)));
            if (length && *length != value) {
                refuse(400, fmt::format("two different Content-Lengths, {} and {}", *length, value));
            }
            length = value;
            if (comma == std::string_view::npos) {
                break;
            }
            list.remove_prefix(comma + 1);
        }
    }
    return length;
}

}  // namespace

http::Framing decide_framing(const http::Request& head) {
    bool has_transfer_encoding = false;
    int codings = 0;
    int chunked_at = -1;  // the position of the last "chunked"
    int chunked_count = 0;
    std::string_view unknown;
    for (const http::Field& field : head.headers) {
        if (!http::iequals(field.name, "Transfer-Encoding")) {
            continue;
        }
        has_transfer_encoding = true;
        // Several fields are one list, in order (RFC 9110 §5.3).
        http::for_each_token(field.value, [&](std::string_view coding) {
            if (http::iequals(coding, "chunked")) {
                chunked_at = codings;
                ++chunked_count;
            } else if (unknown.empty()) {
                unknown = coding;
            }
            ++codings;
        });
    }
    const std::optional<std::uint64_t> length = lengths_of(head);
    if (has_transfer_encoding) {
        if (head.minor_version == 0) {
            refuse(400, "Transfer-Encoding in an HTTP/1.0 request");
        }
        if (length) {
            refuse(400, "both Transfer-Encoding and Content-Length: which one frames the body?");
        }
        if (codings == 0) {
            refuse(400, "an empty Transfer-Encoding");
        }
        if (chunked_at != codings - 1) {
            refuse(400, "the last transfer coding is not chunked: where does the body end?");
        }
        if (chunked_count > 1) {
            refuse(400, "chunked applied more than once");
        }
        if (!unknown.empty()) {
            refuse(501, fmt::format("the transfer coding \"{}\" is not implemented", unknown.substr(0, 40)));
        }
        return {http::BodyKind::chunked, 0};
    }
    if (length) {
        return {http::BodyKind::length, *length};
    }
    return {};
}

}  // namespace hardening
