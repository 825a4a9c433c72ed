#pragma once
// ./workbook hint: one more hint each time it is asked.

#include <string>
#include <vector>

#include "course.hpp"

namespace workbook {

struct HintReveal {
    std::vector<std::string> visible;  // every hint shown so far, the new one last
    int shown = 0;                     // how many are shown now (store this)
    int total = 0;
    bool revealed_new = false;  // false once every hint was already shown
};

// Reveals the hint after the `already_shown` first ones (if there is one).
[[nodiscard]] HintReveal reveal_next_hint(const Lesson& lesson, int already_shown);

}  // namespace workbook
