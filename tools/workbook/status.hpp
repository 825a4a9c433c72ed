#pragma once
// Where the learner is: each lesson's status and the current exercise.

#include <string>

#include "course.hpp"
#include "progress.hpp"
#include "style.hpp"
#include "verdict.hpp"

namespace workbook {

struct LessonStatus {
    std::string label;  // "done", "failing", "not started", "edited, not checked yet" ...
    Tone tone = Tone::plain;
};

// From the progress file and the files on disk; never runs anything.
[[nodiscard]] LessonStatus lesson_status(const Course& course, const Progress& progress, const Lesson& lesson);

[[nodiscard]] Tone verdict_tone(VerdictKind kind);

// The lesson named "current" in the progress file, else the first one not done
// (the last lesson once everything is done). Throws when there are no lessons.
[[nodiscard]] const Lesson& current_lesson(const Course& course, const Progress& progress);

// The first lesson not done after `from` (wrapping round), or nullptr when
// every other lesson is done.
[[nodiscard]] const Lesson* next_unfinished(const Course& course, const Progress& progress, const Lesson& from);

[[nodiscard]] int lessons_done(const Course& course, const Progress& progress);

}  // namespace workbook
