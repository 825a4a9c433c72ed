// Reading the test main's event file (tests/support/events.hpp): what a
// finished run, a crashed one and a timed-out one leave behind.
#include <doctest/doctest.h>

#include <string>

#include "verdict.hpp"

namespace {

workbook::TestEvents read(std::string_view json_lines) {
    return workbook::read_test_events(json_lines, "/repo/build", "/repo");
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
