#include "status.hpp"

#include <algorithm>

namespace workbook {

Tone verdict_tone(VerdictKind kind) {
    switch (kind) {
    case VerdictKind::passed: return Tone::good;
    case VerdictKind::not_started: return Tone::dim;
    case VerdictKind::does_not_compile:
    case VerdictKind::failing:
    case VerdictKind::crashed:
    case VerdictKind::timed_out: return Tone::bad;
    }
    return Tone::plain;
}

LessonStatus lesson_status(const Course& course, const Progress& progress, const Lesson& lesson) {
    if (progress.is_done(lesson.name)) {
        return {"done", Tone::good};
    }
    const auto last = progress.last_check(lesson.name);
    const auto kind = last ? verdict_from_label(last->verdict) : std::nullopt;
    if (last && kind && last->fingerprint == course.fingerprint(lesson)) {
        return {last->verdict, verdict_tone(*kind)};
    }
    if (course.is_pristine(lesson)) {
        return {"not started", Tone::dim};
    }
    if (last && kind) {
        return {last->verdict + " (edited since)", verdict_tone(*kind)};
    }
    return {"edited, not checked yet", Tone::warning};
}

const Lesson& current_lesson(const Course& course, const Progress& progress) {
    const auto& lessons = course.lessons();
    if (lessons.empty()) {
        throw std::runtime_error("no exercises found (exercises/NN-name/exercise.json)");
    }
    if (const auto current = progress.current()) {
        if (const Lesson* lesson = course.find_by_name(*current)) {
            return *lesson;
        }
    }
    const auto unfinished =
        std::find_if(lessons.begin(), lessons.end(), [&](const Lesson& l) { return !progress.is_done(l.name); });
    return unfinished != lessons.end() ? *unfinished : lessons.back();
}

const Lesson* next_unfinished(const Course& course, const Progress& progress, const Lesson& from) {
    const auto& lessons = course.lessons();
    const auto start = std::find_if(lessons.begin(), lessons.end(), [&](const Lesson& l) { return l.name == from.name; });
    const std::size_t origin = start == lessons.end() ? 0 : static_cast<std::size_t>(start - lessons.begin());
    for (std::size_t step = 1; step < lessons.size(); ++step) {
        const Lesson& candidate = lessons[(origin + step) % lessons.size()];
        if (!progress.is_done(candidate.name)) {
            return &candidate;
        }
    }
    return nullptr;
}

int lessons_done(const Course& course, const Progress& progress) {
    return static_cast<int>(std::count_if(course.lessons().begin(), course.lessons().end(),
                                          [&](const Lesson& l) { return progress.is_done(l.name); }));
}

}  // namespace workbook
