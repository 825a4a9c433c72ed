#include "hints.hpp"

#include <algorithm>

namespace workbook {

HintReveal reveal_next_hint(const Lesson& lesson, int already_shown) {
    HintReveal reveal;
    reveal.total = static_cast<int>(lesson.hints.size());
    const int before = std::clamp(already_shown, 0, reveal.total);
    reveal.shown = std::min(before + 1, reveal.total);
    reveal.revealed_new = reveal.shown > before;
    reveal.visible.assign(lesson.hints.begin(), lesson.hints.begin() + reveal.shown);
    return reveal;
}

}  // namespace workbook
