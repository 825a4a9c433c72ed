#include "check.hpp"

#include <cstdlib>
#include <filesystem>

#include <fmt/core.h>

#include "files.hpp"
#include "process.hpp"
#include "status.hpp"
#include "workbook_config.hpp"

namespace workbook {

namespace {

// Seconds one test case may run before the harness's watchdog ends the run
// naming the step it waited at; the learner's own setting wins.
constexpr std::string_view default_test_case_limit = "15";

// The texts of the net::todo("...") calls still in the learner's files.
std::vector<std::string> remaining_todos(const Course& course, const Lesson& lesson) {
    constexpr std::string_view call = "net::todo(\"";
    std::vector<std::string> todos;
    for (const auto& file : course.files_to_edit(lesson)) {
        std::string source;
        try {
            source = read_file(file);
        } catch (const std::system_error&) {
            continue;
        }
        for (std::size_t at = source.find(call); at != std::string::npos; at = source.find(call, at + 1)) {
            const std::size_t start = at + call.size();
            todos.push_back(source.substr(start, source.find('"', start) - start));
        }
    }
    return todos;
}

// A stub that has not been started can still fail a test some other way: a
// server function that throws net::todo closes its socket while unwinding, and
// the test may see that reset before it learns why. Say what is really going on.
void explain_unwritten_code(const Course& course, const Lesson& lesson, bool pristine, Verdict& verdict) {
    if (verdict.kind == VerdictKind::passed || verdict.kind == VerdictKind::not_started ||
        verdict.kind == VerdictKind::does_not_compile) {
        return;
    }
    const std::vector<std::string> todos = remaining_todos(course, lesson);
    if (todos.empty()) {
        return;
    }
    if (pristine) {
        verdict.kind = VerdictKind::not_started;
        verdict.summary = not_started_summary(todos.front());
        verdict.report.clear();
        return;
    }
    // Only when it may be the cause: the unwritten function is the one the
    // test is about, or the test saw what its unwinding looks like from
    // outside (a connection closed or reset, a wait that never ended).
    const std::string function = todos.front().substr(0, todos.front().find(':'));
    std::string seen = verdict.summary;
    if (verdict.failure) {
        seen += " " + verdict.failure->test_name + " " + verdict.failure->exception + " " + verdict.failure->message;
    }
    const bool about_it = !function.empty() && seen.find(function) != std::string::npos;
    const bool looks_like_it = verdict.kind == VerdictKind::timed_out || verdict.kind == VerdictKind::crashed ||
                               seen.find("closed") != std::string::npos || seen.find("reset") != std::string::npos ||
                               seen.find("EOF") != std::string::npos;
    if (!about_it && !looks_like_it) {
        return;
    }
    verdict.report.push_back(fmt::format("note: net::todo(\"{}\") is still in your code; a function that is not "
                                         "written yet can make a test fail this way",
                                         todos.front()));
}

// g++'s JSON diagnostics for the compile that failed: that one compile rerun
// with -fsyntax-only, so the learner's own ninja and editor keep g++'s text.
// "" when the failed step was not a compile, or the rerun said nothing.
std::string json_diagnostics(const Course& course, std::string_view ninja_output, const ProcessOptions& options) {
    std::string commands;
    try {
        commands = read_file(course.build() / "compile_commands.json");
    } catch (const std::system_error&) {
        return {};
    }
    const std::optional<CompileCommand> compile = failed_compile_command(ninja_output, commands);
    if (!compile) {
        return {};
    }
    // The command is shell text (meson quotes it); the options appended last win.
    const ProcessResult rerun = run_captured(
        {"/bin/sh", "-c",
         "cd \"$0\" && exec " + compile->command +
             " -fsyntax-only -fdiagnostics-format=json -fdiagnostics-color=never -fno-diagnostics-show-caret",
         compile->directory},
        options);
    if (rerun.cancelled) {
        throw Interrupted();
    }
    return rerun.output;
}

ProcessOptions options_for(const CheckSettings& settings, std::chrono::milliseconds deadline) {
    ProcessOptions options;
    options.deadline = deadline;
    options.cancel_fd = settings.cancel_fd;
    return options;
}

}  // namespace

CheckResult check_lesson(const Course& course, const Lesson& lesson, const CheckSettings& settings) {
    if (!course.has_tests(lesson)) {
        throw std::runtime_error(fmt::format("lesson {} has no tests yet (tests/{}.cpp)", lesson.number, lesson.name));
    }
    if (!std::filesystem::exists(course.build() / "build.ninja")) {
        throw std::runtime_error(fmt::format("{} is not set up yet: run ./workbook once (it configures and builds)",
                                             course.display(course.build())));
    }
    CheckResult result;
    result.fingerprint = course.fingerprint(lesson);
    const bool pristine = course.is_pristine(lesson);

    // Only this exercise's test binary: the learner's files are recompiled and
    // linked against the prebuilt test object and doctest main.
    const ProcessResult build = run_captured(
        {std::string(config::ninja), "-C", course.build().string(), course.test_target(lesson)},
        options_for(settings, std::chrono::minutes(10)));
    result.build_time = build.elapsed;
    if (build.cancelled) {
        throw Interrupted();
    }
    if (!build.exited || build.exit_code != 0) {
        result.verdict = verdict_from_build_output(
            build.output, lesson.name, course.build().string(), course.root().string(),
            json_diagnostics(course, build.output, options_for(settings, std::chrono::minutes(1))));
        return result;
    }

    ProcessOptions test_options = options_for(settings, settings.deadline);
    const char* limit = std::getenv("WORKBOOK_TEST_TIMEOUT");
    test_options.environment.emplace_back("WORKBOOK_TEST_TIMEOUT",
                                          limit != nullptr && *limit != '\0' ? limit : default_test_case_limit);
    // The test main writes what happens as JSON Lines there; the console
    // output stays doctest's, for people.
    const std::filesystem::path events = course.build() / "workbook-events" / (lesson.name + ".jsonl");
    std::filesystem::create_directories(events.parent_path());
    std::filesystem::remove(events);  // a run that writes nothing must not be read as the last one
    test_options.environment.emplace_back("WORKBOOK_EVENTS", events.string());
    // Stop at the first failed assertion: the verdict reports only the first
    // failure, and a pristine stub then finishes in milliseconds.
    const ProcessResult tests = run_captured({course.test_binary(lesson).string(), "--abort-after=1"}, test_options);
    result.test_time = tests.elapsed;
    if (tests.cancelled) {
        throw Interrupted();
    }
    TestRun run;
    run.output = tests.output;
    if (std::filesystem::exists(events)) {
        run.events = read_file(events);
    }
    run.exited = tests.exited;
    run.exit_code = tests.exit_code;
    run.signal = tests.signal;
    run.killed_at_deadline = tests.timed_out;
    run.deadline_seconds = static_cast<int>(settings.deadline.count());
    result.verdict = verdict_from_test_run(run, course.build().string(), course.root().string());
    explain_unwritten_code(course, lesson, pristine, result.verdict);
    return result;
}

void record_check(const Course& course, Progress& progress, const Lesson& lesson, const CheckResult& result) {
    progress.record_check(lesson.name, {std::string(verdict_label(result.verdict.kind)), result.fingerprint});
    if (result.verdict.kind != VerdictKind::passed) {
        return;
    }
    const bool was_current = current_lesson(course, progress).name == lesson.name;
    progress.mark_done(lesson.name);
    if (was_current) {
        if (const Lesson* next = next_unfinished(course, progress, lesson)) {
            progress.set_current(next->name);
        }
    }
}

}  // namespace workbook
