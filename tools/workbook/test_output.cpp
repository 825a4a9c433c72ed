// Reading the test main's event file (WORKBOOK_EVENTS, one JSON object per
// line; tests/support/events.hpp describes it) into a verdict.
#include <algorithm>

#include <nlohmann/json.hpp>

#include <fmt/core.h>

#include "signals.hpp"
#include "verdict.hpp"

namespace workbook {

namespace {

using nlohmann::json;

std::string text_of(const json& event, const char* key) {
    const auto found = event.find(key);
    return found != event.end() && found->is_string() ? found->get<std::string>() : std::string{};
}

int number_of(const json& event, const char* key) {
    const auto found = event.find(key);
    return found != event.end() && found->is_number() ? found->get<int>() : 0;
}

// "serve_client echoes" or, inside subcases, "frames / one byte at a time".
std::string test_name(const json& event) {
    std::string name = text_of(event, "case");
    if (const auto subcases = event.find("subcases"); subcases != event.end() && subcases->is_array()) {
        for (const json& subcase : *subcases) {
            if (subcase.is_string() && !subcase.get<std::string>().empty()) {
                name += " / " + subcase.get<std::string>();
            }
        }
    }
    return name;
}

bool is_plain_value(std::string_view value) {
    if (value == "true" || value == "false" || value == "nullptr") {
        return true;
    }
    const std::string_view digits = value.starts_with('-') ? value.substr(1) : value;
    const std::size_t dot = digits.find('.');
    const auto all_digits = [](std::string_view part) {
        return !part.empty() && part.find_first_not_of("0123456789") == std::string_view::npos;
    };
    return dot == std::string_view::npos ? all_digits(digits)
                                         : all_digits(digits.substr(0, dot)) && all_digits(digits.substr(dot + 1));
}

// A value as the learner should read it: numbers and booleans as they are,
// anything else quoted with its bytes escaped.
std::string shown_value(std::string_view value) {
    if (is_plain_value(value)) {
        return std::string(value);
    }
    constexpr std::size_t limit = 200;
    std::string shown = escape_bytes(value.substr(0, limit));
    if (value.size() > limit) {
        return fmt::format("\"{}\"... ({} bytes in all)", shown, value.size());
    }
    return fmt::format("\"{}\"", shown);
}

std::optional<unsigned long long> as_unsigned(std::string_view value) {
    if (value.empty() || value.size() > 20 || value.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    return std::stoull(std::string(value));
}

// Integers beside their hex, padded to the same width, so that a byte swap
// shows (expected 32769 (0x8001), got 384 (0x0180)): for values of more than
// one byte, and for bytes the check calls bytes. Counts stay as they are.
void add_hex(std::string& expected, std::string& got, std::string_view expression) {
    const auto a = as_unsigned(expected);
    const auto b = as_unsigned(got);
    if (!a || !b || *a == *b) {
        return;
    }
    const bool bytes = expression.find("byte") != std::string_view::npos ||
                       expression.find("uint8") != std::string_view::npos ||
                       expression.find("0x") != std::string_view::npos;
    if (std::max(*a, *b) < 256 && !bytes) {
        return;
    }
    const unsigned long long larger = std::max(*a, *b);
    const int width = larger > 0xFFFFFFFFULL ? 16 : larger > 0xFFFFULL ? 8 : larger > 0xFFULL ? 4 : 2;
    expected = fmt::format("{} (0x{:0{}X})", *a, *a, width);
    got = fmt::format("{} (0x{:0{}X})", *b, *b, width);
}

// "a == b" -> {"a", "b"} when the comparison can be split unambiguously.
std::optional<std::pair<std::string, std::string>> split_equality(std::string_view text) {
    const std::size_t equals = text.find(" == ");
    if (equals == std::string_view::npos || text.find(" == ", equals + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    return std::pair{std::string(text.substr(0, equals)), std::string(text.substr(equals + 4))};
}

// "0x556476f9d2c8": an INFO() of something doctest can only print as an address.
bool is_bare_pointer(std::string_view line) {
    return line.size() > 2 && line.starts_with("0x") &&
           line.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string_view::npos;
}

// INFO() texts become notes, one per line; the Client's transcript is the wire.
void add_contexts(const json& event, TestFailure& failure) {
    if (const auto info = event.find("info"); info != event.end() && info->is_array()) {
        for (const json& context : *info) {
            if (!context.is_string()) {
                continue;
            }
            for (std::string& line : split_lines(context.get<std::string>())) {
                const std::size_t start = line.find_first_not_of(' ');
                if (start != std::string::npos && !is_bare_pointer(std::string_view(line).substr(start))) {
                    failure.notes.push_back(line.substr(start));
                }
            }
        }
    }
    if (const auto wire = event.find("wire"); wire != event.end() && wire->is_array()) {
        for (const json& line : *wire) {
            if (line.is_string()) {
                failure.wire.push_back(line.get<std::string>());
            }
        }
    }
}

// What a thrown exception means beyond its text: a stub's todo, a harness timeout.
void note_exception(const json& exception, TestEvents& events) {
    events.exception_type = text_of(exception, "type");
    const std::string message = text_of(exception, "message");
    constexpr std::string_view prefix = "not started: ";
    if (events.exception_type == "net::NotImplemented") {
        events.not_started = message.starts_with(prefix) ? message.substr(prefix.size()) : message;
    }
    if (events.exception_type == "harness::Timeout") {
        events.waited_ms = number_of(exception, "waited_ms");
        events.waited_at = text_of(exception, "step");
    }
}

TestFailure failed_assertion(const json& event, TestEvents& events) {
    TestFailure failure;
    failure.assertion = text_of(event, "check");
    const json& exception = event.contains("exception") ? event["exception"] : json();
    const std::string expected_type = text_of(event, "expected_exception");
    const bool checks_a_throw = text_of(event, "assert").find("THROWS") != std::string::npos;
    if (exception.is_object()) {
        note_exception(exception, events);
        failure.exception = text_of(exception, "message");
        if (!expected_type.empty()) {
            failure.expected = "an exception of type " + expected_type;
        } else if (const auto sides = split_equality(text_of(event, "expression"))) {
            failure.expected = sides->second;  // as the test wrote it
        }
    } else if (checks_a_throw) {
        failure.expected = expected_type.empty() ? "an exception" : "an exception of type " + expected_type;
        failure.got = "it returned normally, without throwing";
    } else if (const std::string expanded = text_of(event, "expanded"); const auto sides = split_equality(expanded)) {
        failure.got = shown_value(sides->first);
        failure.expected = shown_value(sides->second);
        add_hex(failure.expected, failure.got, text_of(event, "expression"));
    } else if (expanded == "false" || expanded == "true") {
        // CHECK(x) / CHECK_FALSE(x) on a bool: doctest's "values" repeat the
        // check. Say it in words; the test's message (a note) says why.
        const bool wanted_false = text_of(event, "assert").find("FALSE") != std::string::npos;
        failure.message = fmt::format("{} was {}, and the test needs it {}", text_of(event, "expression"), expanded,
                                      wanted_false ? "false" : "true");
    } else {
        failure.message = fmt::format("the values were: {}", escape_bytes(expanded.substr(0, 300)));
    }
    return failure;
}

// 4294967216 is 0xFFFFFFB0: the byte 0xB0 read through a signed char and
// sign-extended on its way into a wider unsigned type. Lesson 05's classic.
void note_sign_extension(TestFailure& failure) {
    for (const std::string* text : {&failure.got, &failure.exception, &failure.message}) {
        std::size_t at = 0;
        while ((at = text->find_first_of("0123456789", at)) != std::string::npos) {
            const std::size_t end = std::min(text->find_first_not_of("0123456789", at), text->size());
            const auto value = as_unsigned(std::string_view(*text).substr(at, end - at));
            at = end;
            if (!value) {
                continue;
            }
            const bool from_32 = *value >= 0xFFFFFF80ULL && *value <= 0xFFFFFFFFULL;
            const bool from_64 = *value >= 0xFFFFFFFFFFFFFF80ULL;
            if (from_32 || from_64) {
                failure.notes.push_back(fmt::format(
                    "{} is 0x{:X}: the byte 0x{:02X} sign-extended. A byte read as a signed char (-{}) and widened "
                    "fills the upper bits with 1s; read bytes as unsigned (std::uint8_t) before you shift or widen them",
                    *value, *value, *value & 0xFFU, 0x100U - (*value & 0xFFU)));
                return;
            }
        }
    }
}

TestFailure thrown_from_case(const json& event, TestEvents& events) {
    TestFailure failure;
    if (event.value("crash", false)) {
        return failure;  // the verdict names the signal; doctest's words would only repeat it
    }
    note_exception(event, events);
    failure.exception = text_of(event, "message");
    return failure;
}

}  // namespace

TestEvents read_test_events(std::string_view json_lines, std::string_view build_dir, std::string_view source_root) {
    TestEvents events;
    for (const std::string& line : split_lines(json_lines)) {
        const json event = json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (!event.is_object()) {
            events.unreadable_lines += line.empty() ? 0 : 1;
            continue;
        }
        const std::string kind = text_of(event, "event");
        if (kind == "run_start") {
            events.run_started = true;
        } else if (kind == "run_end") {
            events.run_ended = true;
            events.counts = TestCounts{number_of(event, "cases"), number_of(event, "passed"),
                                       number_of(event, "failed"), number_of(event, "skipped")};
        } else if (kind == "case_start") {
            events.running_case = test_name(event);
        } else if (kind == "case_end") {
            events.running_case.clear();
        } else if (kind == "timeout") {
            events.timeout = TestEvents::Timeout{test_name(event), text_of(event, "step"),
                                                 number_of(event, "limit_seconds"), text_of(event, "stuck")};
        } else if (!events.failure && ((kind == "assertion_failed" && !event.value("warning", false)) ||
                                       kind == "exception" || (kind == "message" && event.value("failed", false)))) {
            TestFailure failure;
            if (kind == "assertion_failed") {
                failure = failed_assertion(event, events);
            } else if (kind == "exception") {
                failure = thrown_from_case(event, events);
            } else {
                failure.message = text_of(event, "text");  // FAIL("...")
            }
            failure.test_name = test_name(event);
            if (event.contains("line")) {
                failure.location = fmt::format("{}:{}", repository_path(text_of(event, "file"), build_dir, source_root),
                                               number_of(event, "line"));
            }
            add_contexts(event, failure);
            events.failure = std::move(failure);
        }
    }
    return events;
}

Verdict verdict_from_test_run(const TestRun& run, std::string_view build_dir, std::string_view source_root) {
    const TestEvents events = read_test_events(run.events, build_dir, source_root);
    const std::vector<std::string> lines = split_lines(strip_ansi(run.output));
    Verdict verdict;
    verdict.counts = events.counts;
    verdict.failure = events.failure;
    if (!verdict.failure && !events.running_case.empty()) {
        verdict.failure.emplace().test_name = events.running_case;  // the test it was running
    }
    const std::string test_name = verdict.failure ? verdict.failure->test_name : std::string{};

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
    if (const auto& timeout = events.timeout) {
        verdict.kind = VerdictKind::timed_out;
        const std::string who = timeout->test_name.empty() ? "the test" : fmt::format("test \"{}\"", timeout->test_name);
        verdict.summary = timeout->stuck.empty()
                              ? fmt::format("{} was still running after {} s; it was waiting at: {}", who,
                                            timeout->limit_seconds, timeout->step)
                              : fmt::format("{} was waiting at: {} (it never finished, even when unblocked)", who,
                                            timeout->stuck);
        return verdict;
    }
    if (run.exit_code == 0) {
        verdict.kind = VerdictKind::passed;
        verdict.summary = verdict.counts ? fmt::format("all {} tests pass", verdict.counts->passed) : "the tests pass";
        verdict.failure.reset();
        return verdict;
    }
    if (!events.failure) {
        verdict.kind = run.exit_code == 124 ? VerdictKind::timed_out : VerdictKind::failing;
        verdict.summary = fmt::format("the tests failed without naming a test (exit status {})", run.exit_code);
        const std::size_t from = lines.size() > 15 ? lines.size() - 15 : 0;
        verdict.report.assign(lines.begin() + static_cast<std::ptrdiff_t>(from), lines.end());
        return verdict;
    }
    if (events.exception_type == "net::NotImplemented") {
        verdict.kind = VerdictKind::not_started;
        verdict.summary = not_started_summary(events.not_started);
        return verdict;
    }
    if (events.exception_type == "harness::Timeout") {
        verdict.kind = VerdictKind::timed_out;
        verdict.summary = fmt::format("test \"{}\" waited {} ms at: {}", test_name, events.waited_ms, events.waited_at);
        return verdict;
    }
    verdict.kind = VerdictKind::failing;
    verdict.summary = fmt::format("test \"{}\"", test_name);
    note_sign_extension(*verdict.failure);
    return verdict;
}

}  // namespace workbook
