#pragma once
// Printing verdicts so that a learner knows what to do next without opening
// the test file. The format is described in tools/workbook/README.md.

#include <cstdio>
#include <string>

#include "course.hpp"
#include "style.hpp"
#include "verdict.hpp"

namespace workbook {

// The verdict, its explanation (expected/got, the wire transcript, the
// compiler error, the signal ...), and the next thing to do.
void print_verdict(std::FILE* out, const Style& style, const Course& course, const Lesson& lesson,
                   const Verdict& verdict);

// Every line of print_verdict as plain text (for tests and logs).
[[nodiscard]] std::string verdict_text(const Course& course, const Lesson& lesson, const Verdict& verdict);

// "02 Your first TCP server and client"
[[nodiscard]] std::string lesson_heading(const Lesson& lesson);

}  // namespace workbook
