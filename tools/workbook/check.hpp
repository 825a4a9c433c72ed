#pragma once
// ./workbook check: build only the exercise's test binary, run it with a
// deadline, and turn what happened into one verdict.

#include <chrono>
#include <stdexcept>

#include "course.hpp"
#include "progress.hpp"
#include "verdict.hpp"

namespace workbook {

// Ctrl-C (or SIGTERM) arrived while a check was running in watch mode.
class Interrupted : public std::runtime_error {
public:
    Interrupted() : std::runtime_error("interrupted") {}
};

struct CheckSettings {
    std::chrono::seconds deadline{60};  // the whole test run; the watchdog handles single tests
    int cancel_fd = -1;                 // readable -> stop and throw Interrupted
};

struct CheckResult {
    Verdict verdict;
    std::string fingerprint;  // of the learner's files as they were checked
    std::chrono::milliseconds build_time{0};
    std::chrono::milliseconds test_time{0};
};

[[nodiscard]] CheckResult check_lesson(const Course& course, const Lesson& lesson, const CheckSettings& settings = {});

// Writes the verdict to the progress: the last check, and on a pass "done"
// and (when it was the current exercise) the next unfinished one as current.
void record_check(const Course& course, Progress& progress, const Lesson& lesson, const CheckResult& result);

}  // namespace workbook
