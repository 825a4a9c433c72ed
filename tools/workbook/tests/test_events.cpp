// Reading the test main's event file (tests/support/events.hpp): what a
// finished run, a crashed one and a timed-out one leave behind, as recorded,
// and as the real test main writes it for event_fixture.cpp's cases.
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>

#include "files.hpp"
#include "process.hpp"
#include "scratch_dir.hpp"
#include "verdict.hpp"

namespace {

workbook::TestEvents read(std::string_view json_lines) {
    return workbook::read_test_events(json_lines, "/repo/build", "/repo");
}

// Runs one case of event_fixture.cpp as the CLI runs a test binary and
// returns what the CLI makes of it, the events as written, and the verdict.
struct FixtureRun {
    std::string events;
    workbook::Verdict verdict;
};

FixtureRun run_fixture(const std::string& test_case) {
    const char* fixture = std::getenv("WORKBOOK_EVENT_FIXTURE");
    REQUIRE_MESSAGE(fixture != nullptr, "run by meson, which names the fixture in WORKBOOK_EVENT_FIXTURE");
    const workbook::testing::ScratchDir scratch;
    const auto events_file = scratch.path() / "events.jsonl";
    workbook::ProcessOptions options;
    options.deadline = std::chrono::seconds(20);
    options.environment = {{"WORKBOOK_EVENTS", events_file.string()}, {"WORKBOOK_TEST_TIMEOUT", "1"}};
    const workbook::ProcessResult result =
        workbook::run_captured({fixture, "-tc=" + test_case, "--abort-after=1"}, options);
    workbook::TestRun run;
    run.output = result.output;
    run.events = workbook::read_file(events_file);
    run.exited = result.exited;
    run.exit_code = result.exit_code;
    run.signal = result.signal;
    run.killed_at_deadline = result.timed_out;
    INFO(run.output);
    INFO(run.events);
    return {run.events, workbook::verdict_from_test_run(run, "/repo/build", "/repo")};
}

}  // namespace

TEST_CASE("a finished run: counts, no case left running, the first failure with its exception type") {
    const auto events = read(R"jsonl({"binary":"t","case":"","event":"run_start","seed":"42"}
{"case":"a","event":"case_start","file":"../tests/t.cpp","line":3}
{"case":"a","event":"exception","crash":false,"type":"std::system_error","message":"recv: Connection reset by peer","info":["seed 42"],"wire":["test sent     \"x\" (1 bytes)","<RST>"],"subcases":[]}
{"asserts":1,"asserts_failed":0,"case":"a","event":"case_end","passed":false,"seconds":0.1}
{"asserts":1,"asserts_failed":0,"case":"","cases":2,"event":"run_end","failed":1,"passed":1,"skipped":5}
)jsonl");
    CHECK(events.run_started);
    CHECK(events.run_ended);
    CHECK(events.running_case.empty());
    REQUIRE(events.counts);
    CHECK(events.counts->total == 2);
    CHECK(events.counts->passed == 1);
    CHECK(events.counts->failed == 1);
    CHECK(events.counts->skipped == 5);
    REQUIRE(events.failure);
    CHECK(events.failure->test_name == "a");
    CHECK(events.failure->exception == "recv: Connection reset by peer");
    CHECK(events.failure->location.empty());  // doctest gives a case's exception no line
    CHECK(events.failure->notes == std::vector<std::string>{"seed 42"});
    CHECK(events.failure->wire.size() == 2);
    CHECK(events.exception_type == "std::system_error");
    CHECK_FALSE(events.timeout);
    CHECK(events.unreadable_lines == 0);
}

TEST_CASE("a crashed run: no run_end, the case still running, the cut-short last line skipped") {
    const auto events = read(R"jsonl({"binary":"t","case":"","event":"run_start","seed":null}
{"case":"one","event":"case_start","file":"t.cpp","line":3}
{"asserts":2,"asserts_failed":0,"case":"one","event":"case_end","passed":true,"seconds":0.1}
{"case":"two","event":"case_start","file":"t.cpp","line":9}
{"assert":"CHECK","case":"two","check":"CHECK( a ==)jsonl");
    CHECK(events.run_started);
    CHECK_FALSE(events.run_ended);
    CHECK(events.running_case == "two");
    CHECK_FALSE(events.counts);
    CHECK_FALSE(events.failure);
    CHECK(events.unreadable_lines == 1);
}

TEST_CASE("a watchdog TIMEOUT: the case with its subcases, the limit and the step") {
    const auto events = read(R"jsonl({"binary":"./hang","case":"","event":"run_start","seed":null}
{"case":"hangs","event":"case_start","file":"hang.cpp","line":6}
{"case":"hangs","event":"timeout","limit_seconds":15,"step":"accept: waiting for a client to connect","subcases":["in a subcase"]}
)jsonl");
    REQUIRE(events.timeout);
    CHECK(events.timeout->test_name == "hangs / in a subcase");
    CHECK(events.timeout->limit_seconds == 15);
    CHECK(events.timeout->step == "accept: waiting for a client to connect");
    CHECK(events.timeout->stuck.empty());
    CHECK(events.running_case == "hangs");
}

TEST_CASE("a stub's todo and a harness timeout are recognised by the exception's type") {
    auto events = read(R"jsonl({"assert":"REQUIRE","case":"c","check":"REQUIRE( f() )","event":"assertion_failed","exception":{"message":"not started: parse: read the header","type":"net::NotImplemented"},"expanded":"","expected_exception":null,"expression":"f()","file":"../tests/t.cpp","info":[],"line":7,"subcases":[],"threw":true,"wire":[]}
)jsonl");
    CHECK(events.not_started == "parse: read the header");
    REQUIRE(events.failure);
    CHECK(events.failure->location == "tests/t.cpp:7");
    // The text alone is not enough: a test may well quote "not started: ".
    events = read(R"jsonl({"assert":"REQUIRE","case":"c","check":"REQUIRE( f() )","event":"assertion_failed","exception":{"message":"not started: parse","type":"std::runtime_error"},"expanded":"","expected_exception":null,"expression":"f()","file":"t.cpp","info":[],"line":7,"subcases":[],"threw":true,"wire":[]}
)jsonl");
    CHECK(events.not_started.empty());
    events = read(R"jsonl({"assert":"REQUIRE","case":"c","check":"REQUIRE( f() )","event":"assertion_failed","exception":{"message":"timed out after 500 ms: reading","step":"reading","type":"harness::Timeout","waited_ms":500},"expanded":"","expected_exception":null,"expression":"f()","file":"t.cpp","info":[],"line":7,"subcases":[],"threw":true,"wire":[]}
)jsonl");
    CHECK(events.waited_ms == 500);
    CHECK(events.waited_at == "reading");
}

TEST_CASE("garbage, blank lines and unknown events are skipped; MESSAGE and WARN are not failures") {
    const auto events = read("\nnot json\n[1,2]\n{\"event\":\"from the future\",\"case\":\"x\"}\n"
                             "{\"event\":\"message\",\"failed\":false,\"case\":\"x\",\"text\":\"fyi\"}\n"
                             "{\"event\":\"assertion_failed\",\"warning\":true,\"case\":\"x\",\"check\":\"WARN( x )\"}\n");
    CHECK(events.unreadable_lines == 2);
    CHECK_FALSE(events.failure);
    CHECK_FALSE(events.run_started);
}

TEST_CASE("round trip: a wrong reply is failing, with expected, got and the wire") {
    const auto [events, verdict] = run_fixture("a wrong reply");
    INFO(events);
    CHECK(verdict.kind == workbook::VerdictKind::failing);
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->test_name == "a wrong reply");
    CHECK(verdict.failure->assertion == R"(CHECK( client.recv_exact(2) == "ho" ))");
    CHECK(verdict.failure->got == R"("hi")");
    CHECK(verdict.failure->expected == R"("ho")");
    REQUIRE(verdict.failure->wire.size() == 2);
    CHECK(verdict.failure->wire[1] == R"(test received "hi" (2 bytes))");
    REQUIRE(verdict.counts);
    CHECK(verdict.counts->failed == 1);
}

TEST_CASE("round trip: a stub's todo is not started") {
    const auto [events, verdict] = run_fixture("a stub");
    INFO(events);
    CHECK(verdict.kind == workbook::VerdictKind::not_started);
    CHECK(verdict.summary == "serve is not written yet (accept, then answer)");
}

TEST_CASE("round trip: the watchdog's timeout names the case, the subcase and the step") {
    const auto [events, verdict] = run_fixture("a hang");
    INFO(events);
    CHECK(verdict.kind == workbook::VerdictKind::timed_out);
    CHECK(verdict.summary == "test \"a hang / in a subcase\" was still running after 1 s; it was waiting at: waiting for nothing");
}

TEST_CASE("round trip: a signal doctest does not catch is crashed, in the case it was running") {
    const auto [events, verdict] = run_fixture("a SIGPIPE");
    INFO(events);
    CHECK(events.find("run_end") == std::string::npos);
    CHECK(verdict.kind == workbook::VerdictKind::crashed);
    CHECK(verdict.summary.starts_with("SIGPIPE"));
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->test_name == "a SIGPIPE");
}
