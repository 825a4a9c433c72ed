#pragma once
// Narration for the lesson programs: fmt formatting, colour only on a terminal.

#include <concepts>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/core.h>

namespace net {

// "1 byte", "2 bytes": narration that counts gets the plural right. Any integer
// type: byte counts are size_t, and recv()'s result is ssize_t.
template <std::integral Count>
[[nodiscard]] std::string plural(Count count, std::string_view noun) {
    return fmt::format("{} {}{}", count, noun, count == 1 ? "" : "s");
}

}  // namespace net

namespace net::log {

enum class Style { plain, step, good, warning, error };

// Colour is used only when `stream` is a terminal and NO_COLOR is unset
// (https://no-color.org), so piped output stays plain text.
[[nodiscard]] bool color_enabled(std::FILE* stream);

// Writes one line (a newline is added) and flushes, so narration interleaves
// correctly with other processes in the same terminal. errno is left as it was.
void write_line(std::FILE* stream, Style style, std::string_view text);

// What the program is doing, to stdout: "listening on 127.0.0.1:5000".
template <typename... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
    write_line(stdout, Style::plain, fmt::format(format, std::forward<Args>(args)...));
}

// A system call and its result, to stdout, highlighted: "accept() = 4".
template <typename... Args>
void step(fmt::format_string<Args...> format, Args&&... args) {
    write_line(stdout, Style::step, fmt::format(format, std::forward<Args>(args)...));
}

// Something that went well and matters: "echoed 5 bytes back".
template <typename... Args>
void good(fmt::format_string<Args...> format, Args&&... args) {
    write_line(stdout, Style::good, fmt::format(format, std::forward<Args>(args)...));
}

// To stderr, prefixed "warning: ".
template <typename... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
    write_line(stderr, Style::warning, fmt::format(format, std::forward<Args>(args)...));
}

// To stderr, prefixed "error: ".
template <typename... Args>
void error(fmt::format_string<Args...> format, Args&&... args) {
    write_line(stderr, Style::error, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace net::log
