#pragma once
// http::RequestParser — chapter 14's incremental request parser (the solution
// of exercise 14, with its syntax rules and limits unchanged), and the hook
// chapter 15 adds: the decision how the body is framed is a FramingRule the
// parser calls once the head is complete. The default is chapter 14's rule;
// lesson 15's exercise writes the one that stops request smuggling.
//
// The syntax (RFC 9112): request-line = method SP request-target SP
// HTTP-version CRLF; field lines name ":" OWS value OWS; an empty line ends
// the head. Limits: request line → 414, header section → 431, body → 413,
// each noticed as soon as the bytes that break it arrive.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "http/message.hpp"

namespace http {

struct Limits {
    std::size_t max_request_line = 8 * 1024;   // bytes, without the CRLF
    std::size_t max_header_bytes = 16 * 1024;  // all field lines, with their line ends
    std::size_t max_fields = 100;
    std::uint64_t max_body_bytes = 1 << 20;
};

// How the body of a request is delimited (RFC 9112 §6.3).
enum class BodyKind { none, length, chunked };
struct Framing {
    BodyKind kind = BodyKind::none;
    std::uint64_t length = 0;  // for BodyKind::length
    friend bool operator==(const Framing&, const Framing&) = default;
};

// Given the head as received (method, minor_version, headers in order, with
// every repetition), how is the body framed? Throws RequestError to refuse
// the request (400, 501 ...). Called once per request, after the empty line.
using FramingRule = std::function<Framing(const Request& head)>;

// Chapter 14's rule: chunked when the final Transfer-Encoding coding is
// chunked, Content-Length (1*DIGIT, repeated only with the same value) when
// there is one, else no body; TE with CL, or a TE not ending in chunked, is a 400.
[[nodiscard]] Framing lesson14_framing(const Request& head);

// Content-Length's value (RFC 9110 §8.6): 1*DIGIT, without overflow; a list or
// repeated fields only when every value is the same. nullopt when `head` has
// none; RequestError(400) for anything else.
[[nodiscard]] std::optional<std::uint64_t> content_length(const Request& head);

// Where a connection is in the request it is reading (chapter 15's deadlines
// ask): between requests, in the head, in the body.
enum class Stage { idle, head, body };

struct ParserOptions {
    Limits limits = {};
    FramingRule framing = {};         // empty: lesson14_framing
    bool strict_line_ends = false;    // true: a bare LF (no CR) is a 400 (RFC 9112 §2.2 lets a server refuse it)
};

class RequestParser {
public:
    explicit RequestParser(Limits limits = {});
    explicit RequestParser(ParserOptions options);
    ~RequestParser();
    RequestParser(RequestParser&&) noexcept;
    RequestParser& operator=(RequestParser&&) noexcept;

    // Takes bytes that arrived; returns how many belong to this request. Once
    // the request is complete it takes no more (the rest is the next request).
    // Throws RequestError on malformed input or a broken limit.
    std::size_t feed(std::string_view bytes);

    // The whole request has arrived.
    [[nodiscard]] bool done() const;
    // Nothing of a request has arrived yet (empty lines before one don't count).
    [[nodiscard]] bool idle() const;
    // idle, head (request line or fields arriving) or body (the body, or a
    // complete request not taken yet).
    [[nodiscard]] Stage stage() const;

    // The request, once done() (RequestError(500) otherwise). Moves it out
    // and makes the parser ready for the next request on the connection.
    [[nodiscard]] Request take();

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace http
