#include "style.hpp"

#include <cstdlib>
#include <unistd.h>

#include <fmt/color.h>
#include <fmt/core.h>

namespace workbook {

Style Style::for_stream(std::FILE* stream) {
    const char* no_color = std::getenv("NO_COLOR");
    const bool asked_for_plain = no_color != nullptr && *no_color != '\0';
    return Style(!asked_for_plain && ::isatty(::fileno(stream)) == 1);
}

std::string Style::paint(Tone tone, std::string_view text) const {
    if (!colour_ || tone == Tone::plain) {
        return std::string(text);
    }
    fmt::text_style style;
    switch (tone) {
    case Tone::bold: style = fmt::emphasis::bold; break;
    case Tone::dim: style = fmt::emphasis::faint; break;
    case Tone::good: style = fmt::fg(fmt::terminal_color::green) | fmt::emphasis::bold; break;
    case Tone::bad: style = fmt::fg(fmt::terminal_color::red) | fmt::emphasis::bold; break;
    case Tone::warning: style = fmt::fg(fmt::terminal_color::yellow) | fmt::emphasis::bold; break;
    case Tone::accent: style = fmt::fg(fmt::terminal_color::cyan); break;
    case Tone::code: style = fmt::fg(fmt::terminal_color::magenta); break;
    case Tone::plain: break;
    }
    return fmt::format(style, "{}", text);
}

bool interactive_terminal() { return ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1; }

}  // namespace workbook
