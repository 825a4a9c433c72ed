// Chapter 14's body-framing rule (the end of on_fields_end in the solution of
// exercise 14), as the parser's default FramingRule. Chapter 15 replaces it
// with a stricter one written by the learner (501 for a coding the server does
// not know, no Transfer-Encoding in HTTP/1.0, chunked applied once).
#include <cstdint>
#include <optional>
#include <string_view>

#include <fmt/core.h>

#include "http/parser.hpp"
#include "http/text.hpp"

namespace http {
namespace {

// 1*DIGIT (RFC 9110 §8.6), without overflow.
std::uint64_t parse_length(std::string_view text) {
    std::uint64_t value = 0;
    for (const char c : text) {
        if (!is_digit(c)) {
            throw RequestError(400, fmt::format("invalid Content-Length \"{}\"", text.substr(0, 40)));
        }
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (UINT64_MAX - digit) / 10) {
            throw RequestError(400, fmt::format("Content-Length \"{}\" is out of range", text.substr(0, 40)));
        }
        value = value * 10 + digit;
    }
    return value;
}

}  // namespace

std::optional<std::uint64_t> content_length(const Request& head) {
    std::optional<std::uint64_t> length;
    for (const Field& field : head.headers) {
        if (!iequals(field.name, "Content-Length")) {
            continue;
        }
        if (trim(field.value).empty()) {
            throw RequestError(400, "empty Content-Length");
        }
        // "5, 5" is one length said twice (§8.6 lets a recipient accept it);
        // "5, 6", or two fields that differ, is two lengths: refused.
        for_each_token(field.value, [&](std::string_view token) {
            const std::uint64_t value = parse_length(token);
            if (length && *length != value) {
                throw RequestError(400, fmt::format("conflicting Content-Length values {} and {}", *length, value));
            }
            length = value;
        });
        if (field.value.find(",,") != std::string::npos || trim(field.value).front() == ',' ||
            trim(field.value).back() == ',') {
            throw RequestError(400, fmt::format("malformed Content-Length \"{}\"", field.value.substr(0, 40)));
        }
    }
    return length;
}

Framing lesson14_framing(const Request& head) {
    bool chunked = false;
    bool other_coding = false;
    for (const Field& field : head.headers) {
        if (iequals(field.name, "Transfer-Encoding")) {
            for_each_token(field.value, [&](std::string_view coding) {
                other_coding = other_coding || chunked;  // anything after chunked
                chunked = iequals(coding, "chunked");
                other_coding = other_coding || !chunked;
            });
        }
    }
    const std::optional<std::uint64_t> length = content_length(head);
    if (chunked || other_coding) {
        if (other_coding || !chunked) {
            throw RequestError(400, "a Transfer-Encoding whose final coding is not chunked");
        }
        if (length) {
            throw RequestError(400, "both Transfer-Encoding and Content-Length");
        }
        return {BodyKind::chunked, 0};
    }
    if (length) {
        return {BodyKind::length, *length};
    }
    return {};
}

}  // namespace http
