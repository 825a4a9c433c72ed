#pragma once
// Terminal styling: colour only when the stream is a terminal and NO_COLOR is
// unset (https://no-color.org), so piped output and logs stay plain text.

#include <cstdio>
#include <string>
#include <string_view>

namespace workbook {

enum class Tone { plain, bold, dim, good, bad, warning, accent, code };

class Style {
public:
    explicit Style(bool colour) : colour_(colour) {}
    [[nodiscard]] static Style for_stream(std::FILE* stream);

    [[nodiscard]] std::string paint(Tone tone, std::string_view text) const;
    [[nodiscard]] bool colour() const noexcept { return colour_; }

private:
    bool colour_;
};

// True when standard input and output are both terminals (watch's keys, pagers).
[[nodiscard]] bool interactive_terminal();

}  // namespace workbook
