#include "net/log.hpp"

#include <cerrno>
#include <cstdlib>
#include <unistd.h>

namespace net::log {

bool color_enabled(std::FILE* stream) {
    const char* no_color = std::getenv("NO_COLOR");
    if (no_color != nullptr && no_color[0] != '\0') {
        return false;
    }
    return ::isatty(::fileno(stream)) == 1;
}

void write_line(std::FILE* stream, Style style, std::string_view text) {
    // Narration must not disturb the caller's errno: a program that logs a
    // warning between a failed call and throw_errno would report isatty's
    // ENOTTY instead of the real error.
    const int saved_errno = errno;
    std::string_view prefix;
    std::string_view color;
    switch (style) {
    case Style::plain: break;
    case Style::step: color = "\x1b[36m"; break;
    case Style::good: color = "\x1b[32m"; break;
    case Style::warning: prefix = "warning: "; color = "\x1b[33m"; break;
    case Style::error: prefix = "error: "; color = "\x1b[31m"; break;
    }
    if (!color.empty() && color_enabled(stream)) {
        fmt::print(stream, "{}{}{}\x1b[0m\n", color, prefix, text);
    } else {
        fmt::print(stream, "{}{}\n", prefix, text);
    }
    std::fflush(stream);
    errno = saved_errno;
}

}  // namespace net::log
