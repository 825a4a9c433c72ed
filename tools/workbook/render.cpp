#include "render.hpp"

#include <fmt/core.h>

#include "errno_guide.hpp"
#include "status.hpp"

namespace workbook {

namespace {

// Collects the report as lines, each with a tone, so that it can be printed
// with or without colour.
class Report {
public:
    void line(std::string text, Tone tone = Tone::plain) { lines_.push_back({std::move(text), tone}); }
    void field(std::string_view name, std::string value, Tone tone = Tone::plain) {
        line(fmt::format("   {:<12}{}", name, value), tone);
    }
    void print(std::FILE* out, const Style& style) const {
        for (const auto& [text, tone] : lines_) {
            fmt::print(out, "{}\n", style.paint(tone, text));
        }
    }
    [[nodiscard]] std::string text() const {
        std::string all;
        for (const auto& [text, tone] : lines_) {
            all += text + "\n";
        }
        return all;
    }

private:
    std::vector<std::pair<std::string, Tone>> lines_;
};

std::string files_to_edit(const Course& course, const Lesson& lesson) {
    std::string names;
    for (const auto& file : course.files_to_edit(lesson)) {
        names += (names.empty() ? "" : ", ") + course.display(file);
    }
    return names.empty() ? course.display(course.exercise_dir(lesson)) : names;
}

std::string contract_headers(const Course& course, const Lesson& lesson) {
    std::string names;
    for (const auto& file : course.exercise_files(lesson)) {
        if (file.extension() != ".cpp") {
            names += (names.empty() ? "" : ", ") + file.filename().string();
        }
    }
    return names;
}

void add_failure(Report& report, const TestFailure& failure) {
    if (!failure.test_name.empty()) {
        report.field("test:", failure.test_name, Tone::bold);
    }
    if (!failure.location.empty()) {
        report.field("at:", failure.location, Tone::dim);
    }
    if (!failure.assertion.empty()) {
        report.field("check:", failure.assertion, Tone::code);
    }
    if (!failure.expected.empty()) {
        report.field("expected:", failure.expected, Tone::good);
    }
    if (!failure.exception.empty()) {
        report.field("got:", fmt::format("an exception: {}", failure.exception), Tone::bad);
    } else if (!failure.got.empty()) {
        report.field("got:", failure.got, Tone::bad);
    }
    if (!failure.message.empty()) {
        report.field("problem:", failure.message, Tone::bad);
    }
    for (const std::string& note : failure.notes) {
        report.field("note:", note);
    }
    if (!failure.wire.empty()) {
        report.line("   what went over the wire, as the test saw it:");
        for (const std::string& line : failure.wire) {
            report.line("     " + line, Tone::accent);
        }
    }
}

void add_errno_pointer(Report& report, const Verdict& verdict) {
    if (verdict.kind == VerdictKind::not_started) {
        return;  // whatever the socket saw, the cause is the net::todo
    }
    // What happened (the summary, an exception's text), not the test's own
    // explanation of what could happen, which may name errnos that did not.
    std::string said = verdict.summary;
    if (verdict.failure) {
        said += "\n" + verdict.failure->exception;
    }
    if (const ErrnoGuide* guide = errno_mentioned_in(said)) {
        report.line(fmt::format("   {} means: {}", guide->name, guide->in_practice), Tone::dim);
        report.line(fmt::format("   more: ./workbook explain {}", guide->name), Tone::dim);
    }
}

void add_next_step(Report& report, const Course& course, const Lesson& lesson, const Verdict& verdict) {
    const std::string files = files_to_edit(course, lesson);
    const std::string headers = contract_headers(course, lesson);
    const std::string contract = headers.empty() ? std::string{} : fmt::format(" (the contract is in {})", headers);
    std::string next;
    switch (verdict.kind) {
    case VerdictKind::passed: return;
    case VerdictKind::not_started: next = fmt::format("replace the net::todo(...) in {}{}", files, contract); break;
    case VerdictKind::does_not_compile:
        next = verdict.compile_error && verdict.compile_error->line > 0
                   ? fmt::format("fix line {} of {}", verdict.compile_error->line, verdict.compile_error->file)
                   : fmt::format("make {} match its header{}", files, contract);
        break;
    case VerdictKind::failing: next = fmt::format("compare expected and got above, then fix {}{}", files, contract); break;
    case VerdictKind::crashed:
        next = verdict.summary.find("LeakSanitizer") != std::string::npos
                   ? fmt::format("free what {} allocates: the frames above show where it was allocated, and nothing "
                                 "freed it (a missing freeaddrinfo, close, delete?)", files)
                   : fmt::format("find the bad memory access or uncaught exception in {}", files);
        break;
    case VerdictKind::timed_out:
        next = fmt::format("the test waited for your code in {}: a recv() or accept() that never returns, "
                           "or a loop that never ends?", files);
        break;
    }
    report.line("");
    report.line(fmt::format(" next: {}", next), Tone::bold);
    // A check under the sanitizers (./workbook check NN --asan runs this CLI on
    // build-asan/) is to be run again the same way: a plain check passes a leak.
    const bool sanitized = course.build().filename() == "build-asan";
    report.line(fmt::format("       then ./workbook check {}{}   (stuck? ./workbook hint {})", lesson.number,
                            sanitized ? " --asan" : "", lesson.number),
                Tone::dim);
}

Report build_report(const Course& course, const Lesson& lesson, const Verdict& verdict) {
    Report report;
    const bool passed = verdict.kind == VerdictKind::passed;
    std::string counts;
    if (verdict.counts && !passed && verdict.kind != VerdictKind::not_started) {
        counts = fmt::format("   ({} of {} tests passed before the first failure)", verdict.counts->passed,
                             verdict.counts->total + verdict.counts->skipped);
    } else if (verdict.counts && passed) {
        counts = fmt::format("   ({} tests)", verdict.counts->passed);
    }
    report.line(fmt::format(" {} {}   {}{}", passed ? "✓" : "✗", verdict_label(verdict.kind), lesson_heading(lesson), counts),
                verdict_tone(verdict.kind));
    if (!verdict.summary.empty() && !passed && verdict.kind != VerdictKind::failing && !verdict.compile_error) {
        report.line("   " + verdict.summary);
    }
    if (verdict.compile_error) {
        const CompileError& error = *verdict.compile_error;
        if (error.line > 0) {
            const std::string column = error.column > 0 ? fmt::format("{}:", error.column) : std::string{};
            report.line(fmt::format("   {}:{}:{} error: {}", error.file, error.line, column, error.message), Tone::bad);
        } else {
            report.line("   " + error.message, Tone::bad);
        }
        for (const std::string& excerpt : error.excerpt) {
            report.line("   " + excerpt, Tone::code);
        }
    }
    if (verdict.failure && verdict.kind != VerdictKind::not_started) {
        add_failure(report, *verdict.failure);
    } else if (verdict.failure && !verdict.failure->test_name.empty()) {
        report.field("first test:", verdict.failure->test_name, Tone::dim);
    }
    for (const std::string& line : verdict.report) {
        report.line("   " + line, Tone::dim);
    }
    add_errno_pointer(report, verdict);
    add_next_step(report, course, lesson, verdict);
    return report;
}

}  // namespace

std::string lesson_heading(const Lesson& lesson) { return fmt::format("{} {}", lesson.number, lesson.title); }

void print_verdict(std::FILE* out, const Style& style, const Course& course, const Lesson& lesson,
                   const Verdict& verdict) {
    build_report(course, lesson, verdict).print(out, style);
}

std::string verdict_text(const Course& course, const Lesson& lesson, const Verdict& verdict) {
    return build_report(course, lesson, verdict).text();
}

}  // namespace workbook
