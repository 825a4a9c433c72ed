#pragma once
// A check ends in exactly one verdict. These types and the readers that build
// them from the compiler's diagnostics and the test binary's events are pure
// functions of text, so the unit tests can feed them recorded output.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace workbook {

enum class VerdictKind { passed, not_started, does_not_compile, failing, crashed, timed_out };

// "passed", "not started", "does not compile", "failing", "crashed", "timed out".
[[nodiscard]] std::string_view verdict_label(VerdictKind kind);
[[nodiscard]] std::optional<VerdictKind> verdict_from_label(std::string_view label);

struct CompileError {
    std::string file;  // relative to the repository when it is inside it
    int line = 0;
    int column = 0;
    std::string message;
    std::vector<std::string> excerpt;  // g++'s "  20 |  code" and caret lines
    bool in_learner_file = false;
};

struct TestFailure {
    std::string test_name;
    std::string location;   // "tests/02-tcp-client-server.cpp:25"
    std::string assertion;  // "REQUIRE( client.recv_exact(12) == "hello, echo\n" )"
    std::string expected;   // empty when the output does not say
    std::string got;
    std::string exception;  // what() of an exception the code under test threw
    std::string message;    // doctest's words when nothing above fits
    std::vector<std::string> wire;   // the transcript: "test sent     "..." (N bytes)"
    std::vector<std::string> notes;  // other INFO() lines
};

struct TestCounts {
    int total = 0;
    int passed = 0;
    int failed = 0;
    int skipped = 0;
};

struct Verdict {
    VerdictKind kind = VerdictKind::failing;
    std::string summary;  // one line: the function not started, the signal, the step waited at
    std::optional<CompileError> compile_error;
    std::optional<TestFailure> failure;
    std::vector<std::string> report;  // a sanitizer report's head, or the tail of unexpected output
    std::optional<TestCounts> counts;
};

// The outcome of running a test binary.
struct TestRun {
    std::string output;  // the console: for a sanitizer's report, or the tail of something unexpected
    std::string events;  // the WORKBOOK_EVENTS file the test main wrote (JSON Lines); "" when none
    bool exited = true;
    int exit_code = 0;
    int signal = 0;
    bool killed_at_deadline = false;
    int deadline_seconds = 0;
};

// What a test binary's event file says (the format is in tests/support/events.hpp).
struct TestEvents {
    bool run_started = false;
    bool run_ended = false;    // false: the process ended (crashed, timed out, was killed) mid-run
    std::string running_case;  // the case that started and never ended, with its subcases
    std::optional<TestCounts> counts;
    std::optional<TestFailure> failure;  // the first failure, as the learner sees it
    std::string exception_type;          // of that failure's exception, demangled: "net::NotImplemented"
    std::string not_started;             // net::todo's text when that exception is a stub's
    int waited_ms = 0;                   // when that exception is harness::Timeout: how long,
    std::string waited_at;               // and the step it waited at
    struct Timeout {
        std::string test_name;
        std::string step;        // what it was waiting at
        int limit_seconds = 0;   // the watchdog's limit, or 0 when
        std::string stuck;       // the harness could not unblock this
    };
    std::optional<Timeout> timeout;  // the last event before the process ended itself
    int unreadable_lines = 0;        // a line cut short by a crash, say
};
[[nodiscard]] TestEvents read_test_events(std::string_view json_lines, std::string_view build_dir,
                                          std::string_view source_root);

// From ninja's output after the build of an exercise's tests failed, and
// g++'s JSON diagnostics for the compile that failed (see failed_compile_command).
// `lesson_name` picks the learner's files ("exercises/<lesson_name>/").
[[nodiscard]] Verdict verdict_from_build_output(std::string_view output, std::string_view lesson_name,
                                                std::string_view build_dir, std::string_view source_root,
                                                std::string_view json_diagnostics = {});

// The errors in g++'s -fdiagnostics-format=json output (a JSON array), in
// order, each with a two-line source excerpt read from the file. Paths are
// relative to `compile_dir`. Empty when the text is not such an array.
[[nodiscard]] std::vector<CompileError> read_json_diagnostics(std::string_view diagnostics, std::string_view lesson_name,
                                                              std::string_view compile_dir, std::string_view source_root);

// A compile as compile_commands.json records it: a shell command to run in `directory`.
struct CompileCommand {
    std::string directory;
    std::string command;
};
// The compile behind ninja's first "FAILED: <object>" line, looked up in
// compile_commands.json's text; nullopt when that step was not a compile (a link, say).
[[nodiscard]] std::optional<CompileCommand> failed_compile_command(std::string_view ninja_output,
                                                                   std::string_view compile_commands);

// From the run of the tests (the event file, the exit status, a sanitizer's report).
[[nodiscard]] Verdict verdict_from_test_run(const TestRun& run, std::string_view build_dir,
                                            std::string_view source_root);

// Helpers shared by the parsers (and tested on their own).
[[nodiscard]] std::string strip_ansi(std::string_view text);
[[nodiscard]] std::vector<std::string> split_lines(std::string_view text);
// "../exercises/x/y.cpp" as the compiler saw it from the build folder, made
// relative to the repository when it lies inside it.
[[nodiscard]] std::string repository_path(std::string_view path, std::string_view build_dir,
                                          std::string_view source_root);
// "serve_client: recv, send ..." (net::todo's text) -> "serve_client is not written yet (recv, send ...)".
[[nodiscard]] std::string not_started_summary(std::string_view todo_text);
// The head of an AddressSanitizer / UBSan / LeakSanitizer report (empty when none).
[[nodiscard]] std::vector<std::string> sanitizer_report(const std::vector<std::string>& lines,
                                                        std::string_view build_dir, std::string_view source_root);
// Bytes as the harness shows them: \n, \t, \xNN for the rest.
[[nodiscard]] std::string escape_bytes(std::string_view bytes);

}  // namespace workbook
