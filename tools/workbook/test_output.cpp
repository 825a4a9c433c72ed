// Reading doctest's console output (and the harness's markers) into a verdict.
#include <regex>

#include <fmt/core.h>

#include "signals.hpp"
#include "verdict.hpp"

namespace workbook {

namespace {

// One failed assertion or exception as doctest reports it: a first line
// "file:line: ERROR: message", then indented "values:" and "logged:" lines.
struct Entry {
    std::string test_name;
    std::string file;
    std::string line;
    std::string message;
    std::vector<std::string> body;
};

std::string trimmed(std::string_view text) {
    const std::size_t first = text.find_first_not_of(' ');
    return first == std::string_view::npos ? std::string{} : std::string(text.substr(first));
}

bool ends_an_entry(const std::string& line) {
    static const std::regex test_header(R"(^\S+:\d+:$)");
    return line.starts_with("=====") || line.starts_with("TEST CASE:") || line.starts_with("[doctest] ") ||
           line.starts_with("Aborting - too many failed asserts") || line.starts_with("TIMEOUT: ") ||
           std::regex_match(line, test_header);
}

std::vector<Entry> failure_entries(const std::vector<std::string>& lines) {
    static const std::regex entry_start(R"(^(.+?):(\d+): (?:FATAL ERROR|ERROR): (.*)$)");
    std::vector<Entry> entries;
    std::string test_name;
    bool in_entry = false;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        std::smatch match;
        if (line.starts_with("TEST CASE:")) {
            test_name = trimmed(line.substr(10));
            // Subcases follow, indented, until the blank line.
            while (i + 1 < lines.size() && lines[i + 1].starts_with("  ")) {
                ++i;
                test_name += " / " + trimmed(lines[i]);
            }
            in_entry = false;
        } else if (std::regex_match(line, match, entry_start)) {
            entries.push_back({test_name, match[1].str(), match[2].str(), match[3].str(), {}});
            in_entry = true;
        } else if (ends_an_entry(line)) {
            in_entry = false;
        } else if (in_entry) {
            entries.back().body.push_back(line);
        }
    }
    for (Entry& entry : entries) {
        while (!entry.body.empty() && entry.body.back().empty()) {
            entry.body.pop_back();
        }
    }
    return entries;
}

std::string unquote(std::string text) {
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
        return text.substr(1, text.size() - 2);
    }
    return text;
}

// A value from doctest's "values:" line as the learner should read it: numbers
// and booleans as they are, anything else quoted with its bytes escaped.
std::string shown_value(std::string_view value) {
    static const std::regex plain(R"(^(-?\d+(\.\d+)?|true|false|nullptr)$)");
    if (std::regex_match(value.begin(), value.end(), plain)) {
        return std::string(value);
    }
    constexpr std::size_t limit = 200;
    std::string shown = escape_bytes(value.substr(0, limit));
    if (value.size() > limit) {
        return fmt::format("\"{}\"... ({} bytes in all)", shown, value.size());
    }
    return fmt::format("\"{}\"", shown);
}

// "CHECK( a == b )" -> {"a", "b"} when the comparison can be split unambiguously.
std::optional<std::pair<std::string, std::string>> split_equality(std::string_view text) {
    const std::size_t open = text.find("( ");
    const std::size_t close = text.rfind(" )");
    if (open == std::string_view::npos || close == std::string_view::npos || close < open + 2) {
        return std::nullopt;
    }
    const std::string_view inside = text.substr(open + 2, close - open - 2);
    const std::size_t equals = inside.find(" == ");
    if (equals == std::string_view::npos || inside.find(" == ", equals + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    return std::pair{std::string(inside.substr(0, equals)), std::string(inside.substr(equals + 4))};
}

// "REQUIRE_THROWS_AS( call(), std::runtime_error )" -> "std::runtime_error".
std::string expected_exception_type(const std::string& assertion) {
    const std::size_t comma = assertion.rfind(", ");
    const std::size_t close = assertion.rfind(" )");
    if (comma == std::string::npos || close == std::string::npos || close < comma) {
        return "an exception";
    }
    return "an exception of type " + assertion.substr(comma + 2, close - comma - 2);
}

// Splits an entry's body into the "values:" text, the continuation of the
// first line, and the INFO contexts ("logged:").
void read_body(const std::vector<std::string>& body, std::string& values, std::string& continuation,
               TestFailure& failure) {
    enum class Part { continuation, values, logged } part = Part::continuation;
    bool in_transcript = false;
    for (const std::string& line : body) {
        if (line.starts_with("  values: ")) {
            part = Part::values;
            values = line.substr(10);
            continue;
        }
        std::string context;
        if (line.starts_with("  logged: ")) {
            part = Part::logged;
            context = line.substr(10);
        } else if (part == Part::logged && line.starts_with("          ")) {
            context = line.substr(10);  // the next INFO() context
        } else if (part == Part::logged && in_transcript && line.starts_with("  ")) {
            failure.wire.push_back(line.substr(2));
            continue;
        } else if (part == Part::logged) {
            if (!line.empty()) {
                failure.notes.push_back(line);
            }
            continue;
        }
        if (part == Part::logged) {
            in_transcript = context.starts_with("what went over the wire");
            if (!in_transcript && !context.empty()) {
                failure.notes.push_back(context);
            }
        } else if (part == Part::values) {
            values += "\n" + line;
        } else {
            continuation += "\n" + line;
        }
    }
}

TestFailure interpret(const Entry& entry, std::string_view build_dir, std::string_view source_root) {
    TestFailure failure;
    failure.test_name = entry.test_name;
    failure.location = fmt::format("{}:{}", repository_path(entry.file, build_dir, source_root), entry.line);
    std::string values;
    std::string continuation;
    read_body(entry.body, values, continuation, failure);
    const std::string& message = entry.message;
    constexpr std::string_view not_correct = " is NOT correct!";
    constexpr std::string_view threw = " THREW exception: ";
    constexpr std::string_view threw_other = " threw a DIFFERENT exception: ";
    constexpr std::string_view no_throw = " did NOT throw at all!";
    constexpr std::string_view case_threw = "test case THREW exception: ";
    if (message.ends_with(not_correct)) {
        failure.assertion = message.substr(0, message.size() - not_correct.size());
        if (const auto sides = split_equality(values)) {
            failure.got = shown_value(sides->first);
            failure.expected = shown_value(sides->second);
        } else {
            failure.message = fmt::format("the values were: {}", escape_bytes(values.substr(0, 300)));
        }
    } else if (const std::size_t at = message.find(threw_other); at != std::string::npos) {
        failure.assertion = message.substr(0, at);
        failure.expected = expected_exception_type(failure.assertion);
        failure.exception = unquote(message.substr(at + threw_other.size()) + continuation);
    } else if (message.ends_with(no_throw)) {
        failure.assertion = message.substr(0, message.size() - no_throw.size());
        failure.expected = expected_exception_type(failure.assertion);
        failure.got = "it returned normally, without throwing";
    } else if (message.starts_with("test case CRASHED: ")) {
        // The verdict names the signal; doctest's words would only repeat it.
    } else if (message.starts_with(case_threw)) {
        failure.exception = message.substr(case_threw.size()) + continuation;
    } else if (const std::size_t at_throw = message.find(threw); at_throw != std::string::npos) {
        failure.assertion = message.substr(0, at_throw);
        failure.exception = unquote(message.substr(at_throw + threw.size()) + continuation);
        if (const auto sides = split_equality(failure.assertion)) {
            failure.expected = sides->second;  // as the test wrote it
        }
    } else {
        failure.message = message + continuation;
    }
    return failure;
}

}  // namespace

Verdict verdict_from_test_run(const TestRun& run, std::string_view build_dir, std::string_view source_root) {
    const std::vector<std::string> lines = split_lines(strip_ansi(run.output));
    Verdict verdict;
    verdict.counts = doctest_counts(lines);
    const std::vector<Entry> entries = failure_entries(lines);
    if (!entries.empty()) {
        verdict.failure = interpret(entries.front(), build_dir, source_root);
    }
    const std::string test_name = verdict.failure ? verdict.failure->test_name : std::string{};
    static const std::regex watchdog(
        R"re(^TIMEOUT: test case "(.*)" was still running after (\d+) s; it was waiting at: (.*)$)re");
    // The optional test name is for a harness that names the running test here too.
    static const std::regex stuck(R"re(^TIMEOUT: (?:test case "(.*)": )?(.*) did not finish and could not be unblocked.*$)re");
    static const std::regex harness_timeout(R"(timed out after (\d+) ms: (.*))");

    if (verdict.report = sanitizer_report(lines, build_dir, source_root); !verdict.report.empty()) {
        verdict.kind = VerdictKind::crashed;
        verdict.summary = verdict.report.front();
        verdict.report.erase(verdict.report.begin());
        return verdict;
    }
    if (run.killed_at_deadline) {
        verdict.kind = VerdictKind::timed_out;
        verdict.summary = fmt::format("the tests were still running after {} s and were stopped", run.deadline_seconds);
        return verdict;
    }
    if (!run.exited) {
        verdict.kind = VerdictKind::crashed;
        verdict.summary = signal_summary(run.signal);
        return verdict;
    }
    for (const std::string& line : lines) {
        std::smatch match;
        if (std::regex_match(line, match, watchdog)) {
            verdict.kind = VerdictKind::timed_out;
            verdict.summary = fmt::format("test \"{}\" was still running after {} s; it was waiting at: {}",
                                          match[1].str(), match[2].str(), match[3].str());
            return verdict;
        }
        if (std::regex_match(line, match, stuck)) {
            verdict.kind = VerdictKind::timed_out;
            verdict.summary = fmt::format("{} was waiting at: {} (it never finished, even when unblocked)",
                                          match[1].matched ? fmt::format("test \"{}\"", match[1].str()) : "the test",
                                          match[2].str());
            return verdict;
        }
    }
    if (run.exit_code == 0) {
        verdict.kind = VerdictKind::passed;
        verdict.summary = verdict.counts ? fmt::format("all {} tests pass", verdict.counts->passed) : "the tests pass";
        verdict.failure.reset();
        return verdict;
    }
    if (!verdict.failure) {
        verdict.kind = run.exit_code == 124 ? VerdictKind::timed_out : VerdictKind::failing;
        verdict.summary = fmt::format("the tests failed without naming a test (exit status {})", run.exit_code);
        const std::size_t from = lines.size() > 15 ? lines.size() - 15 : 0;
        verdict.report.assign(lines.begin() + static_cast<std::ptrdiff_t>(from), lines.end());
        return verdict;
    }
    const TestFailure& failure = *verdict.failure;
    const std::string said = failure.exception + "\n" + failure.message;
    if (const std::size_t at = said.find("not started: "); at != std::string::npos) {
        verdict.kind = VerdictKind::not_started;
        verdict.summary = not_started_summary(said.substr(at + 13, said.find_first_of("\"\n", at) - at - 13));
        return verdict;
    }
    if (std::smatch match; std::regex_search(said, match, harness_timeout)) {
        verdict.kind = VerdictKind::timed_out;
        verdict.summary = fmt::format("test \"{}\" waited {} ms at: {}", test_name, match[1].str(), match[2].str());
        return verdict;
    }
    verdict.kind = VerdictKind::failing;
    verdict.summary = fmt::format("test \"{}\"", test_name);
    return verdict;
}

}  // namespace workbook
