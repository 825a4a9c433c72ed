#pragma once
// Small text helpers of HTTP/1.1 (chapter 14): case-insensitive names,
// optional whitespace, comma-separated lists, tokens, percent-decoding.
#include <cstddef>
#include <string>
#include <string_view>

namespace http {

[[nodiscard]] bool iequals(std::string_view a, std::string_view b);

// Without the spaces and tabs (OWS, RFC 9110 §5.6.3) at either end.
[[nodiscard]] std::string_view trim(std::string_view text);

// Calls `each` with every element of a comma-separated list (RFC 9110 §5.6.1),
// trimmed; empty elements are skipped.
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

[[nodiscard]] bool is_digit(char c);
// tchar (RFC 9110 §5.6.2): what a method, a field name or a coding is made of.
[[nodiscard]] bool is_token_char(char c);
[[nodiscard]] bool is_token(std::string_view text);
// Controls other than HTAB (when allowed) never belong in a field value or a target.
[[nodiscard]] bool has_control(std::string_view text, bool allow_tab);

// "J%C3%BCrgen" → "Jürgen" (RFC 3986 §2.1), once; a '%' without two hex
// digits is a RequestError(400).
[[nodiscard]] std::string percent_decode(std::string_view text);

}  // namespace http
