// Turning a test run (its event file, exit status, console) into a verdict,
// on events recorded from real runs (lesson 02's stub, a harness-linked binary
// that hangs, crashes and fails on purpose) or written in the same format.
#include <doctest/doctest.h>

#include <fmt/core.h>

#include <csignal>
#include <string>

#include "verdict.hpp"

namespace {

constexpr std::string_view build_dir = "/repo/build";
constexpr std::string_view source_root = "/repo";

workbook::Verdict from_run(std::string events, int exit_code = 1, std::string output = {}) {
    workbook::TestRun run;
    run.events = std::move(events);
    run.output = std::move(output);
    run.exit_code = exit_code;
    return workbook::verdict_from_test_run(run, build_dir, source_root);
}

// Recorded from lesson 02's pristine stub (WORKBOOK_EVENTS, --abort-after=1).
const std::string stub_events = R"jsonl({"binary":"tests/test-02-tcp-client-server-exercise","case":"","event":"run_start","seed":null}
{"case":"serve_client echoes a message byte for byte, then closes when the client does","event":"case_start","file":"../tests/02-tcp-client-server.cpp","line":19}
{"assert":"REQUIRE","case":"serve_client echoes a message byte for byte, then closes when the client does","check":"REQUIRE( client.recv_exact(12) == \"hello, echo\\n\" )","event":"assertion_failed","exception":{"message":"not started: serve_client: recv, send the same bytes back, until recv returns 0","type":"net::NotImplemented"},"expanded":"","expected_exception":null,"expression":"client.recv_exact(12) == \"hello, echo\\n\"","file":"../tests/02-tcp-client-server.cpp","info":[],"line":25,"subcases":[],"threw":true,"wire":["connected to 127.0.0.1:33733","test sent     \"hello, echo\\n\" (12 bytes)"]}
{"asserts":1,"asserts_failed":1,"case":"serve_client echoes a message byte for byte, then closes when the client does","event":"case_end","passed":false,"seconds":0.002516}
{"asserts":1,"asserts_failed":1,"case":"","cases":1,"event":"run_end","failed":1,"passed":0,"skipped":9}
)jsonl";

const std::string reads_once_events = R"jsonl({"binary":"tests/test-02-tcp-client-server-mutant-client-reads-once","case":"","event":"run_start","seed":null}
{"case":"echo_once waits for the whole echo when it arrives in pieces","event":"case_start","file":"../tests/02-tcp-client-server.cpp","line":134}
{"assert":"REQUIRE","case":"echo_once waits for the whole echo when it arrives in pieces","check":"REQUIRE( echo_within_deadline(echo, \"127.0.0.1\", message) == message )","event":"assertion_failed","exception":null,"expanded":"one recv  == one recv is not one message","expected_exception":null,"expression":"echo_within_deadline(echo, \"127.0.0.1\", message) == message","file":"../tests/02-tcp-client-server.cpp","info":[],"line":137,"subcases":[],"threw":false,"wire":[]}
{"asserts":1,"asserts_failed":1,"case":"echo_once waits for the whole echo when it arrives in pieces","event":"case_end","passed":false,"seconds":0.01}
{"asserts":15,"asserts_failed":1,"case":"","cases":7,"event":"run_end","failed":1,"passed":6,"skipped":3}
)jsonl";

const std::string count_events = R"jsonl({"case":"serve_client echoes a message byte for byte, then closes when the client does","event":"case_start","file":"../tests/02-tcp-client-server.cpp","line":19}
{"assert":"CHECK","case":"serve_client echoes a message byte for byte, then closes when the client does","check":"CHECK( echoed == 12 )","event":"assertion_failed","exception":null,"expanded":"13 == 12","expected_exception":null,"expression":"echoed == 12","file":"../tests/02-tcp-client-server.cpp","info":["what(): connect 127.0.0.1:9: Connection refused"],"line":29,"subcases":[],"threw":false,"wire":["connected to 127.0.0.1:33615","test sent     \"hello, echo\\n\" (12 bytes)","test received \"hello, echo\\n\" (12 bytes)","test called shutdown(SHUT_WR): no more data from the test","the server closed the connection (EOF)"]}
)jsonl";

}  // namespace

TEST_CASE("a pristine stub is not started, naming the function") {
    const auto verdict = from_run(stub_events);
    CHECK(verdict.kind == workbook::VerdictKind::not_started);
    CHECK(verdict.summary == "serve_client is not written yet (recv, send the same bytes back, until recv returns 0)");
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->test_name ==
          "serve_client echoes a message byte for byte, then closes when the client does");
    CHECK(verdict.failure->wire.size() == 2);
}

TEST_CASE("a wrong value is failing, with expected and got, trailing spaces kept") {
    const auto verdict = from_run(reads_once_events);
    CHECK(verdict.kind == workbook::VerdictKind::failing);
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->test_name == "echo_once waits for the whole echo when it arrives in pieces");
    CHECK(verdict.failure->location == "tests/02-tcp-client-server.cpp:137");
    CHECK(verdict.failure->assertion == R"(REQUIRE( echo_within_deadline(echo, "127.0.0.1", message) == message ))");
    CHECK(verdict.failure->got == "\"one recv \"");
    CHECK(verdict.failure->expected == "\"one recv is not one message\"");
    REQUIRE(verdict.counts);
    CHECK(verdict.counts->passed == 6);
    CHECK(verdict.counts->skipped == 3);
}

TEST_CASE("numbers are shown bare; the wire transcript and other INFO lines are kept apart") {
    const auto verdict = from_run(count_events);
    CHECK(verdict.kind == workbook::VerdictKind::failing);
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->expected == "12");
    CHECK(verdict.failure->got == "13");
    REQUIRE(verdict.failure->wire.size() == 5);
    CHECK(verdict.failure->wire[1] == R"(test sent     "hello, echo\n" (12 bytes))");
    CHECK(verdict.failure->wire[4] == "the server closed the connection (EOF)");
    REQUIRE(verdict.failure->notes.size() == 1);
    CHECK(verdict.failure->notes[0] == "what(): connect 127.0.0.1:9: Connection refused");
}

TEST_CASE("an exception in a comparison: what() is what came back, the right side what was expected") {
    const auto verdict = from_run(R"jsonl({"assert":"REQUIRE","case":"serve_client echoes","check":"REQUIRE( client.recv_exact(12) == \"hello, echo\\n\" )","event":"assertion_failed","exception":{"message":"expected 12 bytes from the server but 4096 arrived","type":"std::runtime_error"},"expanded":"","expected_exception":null,"expression":"client.recv_exact(12) == \"hello, echo\\n\"","file":"../tests/02-tcp-client-server.cpp","info":[],"line":25,"subcases":[],"threw":true,"wire":["test received \"hello, echo\\n[\\x00 x 700]\" (4096 bytes)"]}
)jsonl");
    CHECK(verdict.kind == workbook::VerdictKind::failing);
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->expected == R"("hello, echo\n")");
    CHECK(verdict.failure->exception == "expected 12 bytes from the server but 4096 arrived");
    CHECK(verdict.failure->wire.size() == 1);
}

TEST_CASE("values with control bytes are escaped; a multi-line INFO is one note per line") {
    const auto verdict = from_run(R"jsonl({"assert":"CHECK","case":"lines","check":"CHECK( line == \"a\\n\" )","event":"assertion_failed","exception":null,"expanded":"a\tb\n == a\n","expected_exception":null,"expression":"line == \"a\\n\"","file":"x.cpp","info":["expected 3 bytes,\n  got 4"],"line":3,"subcases":[],"threw":false,"wire":[]}
)jsonl");
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->got == R"("a\tb\n")");
    CHECK(verdict.failure->expected == R"("a\n")");
    CHECK(verdict.failure->notes == std::vector<std::string>{"expected 3 bytes,", "got 4"});
}

// Recorded from a test binary linked with the harness (CHECK_THROWS_AS, FAIL_CHECK).
TEST_CASE("REQUIRE_THROWS_AS: a different exception, or none at all; FAIL's message") {
    auto verdict = from_run(R"jsonl({"assert":"CHECK_THROWS_AS","case":"throws as","check":"CHECK_THROWS_AS( throw std::logic_error(\"x\"), std::runtime_error )","event":"assertion_failed","exception":{"message":"x","type":"std::logic_error"},"expanded":"","expected_exception":"std::runtime_error","expression":"throw std::logic_error(\"x\")","file":"hang.cpp","info":[],"line":14,"subcases":[],"threw":true,"wire":[]}
)jsonl");
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->expected == "an exception of type std::runtime_error");
    CHECK(verdict.failure->exception == "x");
    verdict = from_run(R"jsonl({"assert":"CHECK_THROWS_AS","case":"throws as","check":"CHECK_THROWS_AS( (void)0, std::runtime_error )","event":"assertion_failed","exception":null,"expanded":"","expected_exception":"std::runtime_error","expression":"(void)0","file":"hang.cpp","info":[],"line":14,"subcases":[],"threw":false,"wire":[]}
)jsonl");
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->expected == "an exception of type std::runtime_error");
    CHECK(verdict.failure->got == "it returned normally, without throwing");
    verdict = from_run(R"jsonl({"case":"throws as","event":"message","failed":true,"file":"hang.cpp","info":[],"line":14,"severity":"ERROR","subcases":[],"text":"a message","wire":[]}
)jsonl");
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->message == "a message");
    CHECK(verdict.failure->location == "build/hang.cpp:14");
}

TEST_CASE("a harness timeout inside a test is timed out, naming the step") {
    const auto verdict = from_run(R"jsonl({"assert":"REQUIRE","case":"serve_client echoes a message byte for byte, then closes when the client does","check":"REQUIRE( client.recv_exact(12) == \"hello, echo\\n\" )","event":"assertion_failed","exception":{"message":"timed out after 2000 ms: waiting for 12 bytes from the server, 0 arrived so far","step":"waiting for 12 bytes from the server, 0 arrived so far","type":"harness::Timeout","waited_ms":2000},"expanded":"","expected_exception":null,"expression":"client.recv_exact(12) == \"hello, echo\\n\"","file":"../tests/02-tcp-client-server.cpp","info":[],"line":25,"subcases":[],"threw":true,"wire":["test sent     \"hello, echo\\n\" (12 bytes)"]}
)jsonl");
    CHECK(verdict.kind == workbook::VerdictKind::timed_out);
    CHECK(verdict.summary == "test \"serve_client echoes a message byte for byte, then closes when the client does\" "
                             "waited 2000 ms at: waiting for 12 bytes from the server, 0 arrived so far");
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->wire.size() == 1);
}

// Recorded: the watchdog (WORKBOOK_TEST_TIMEOUT=1) ended a case that slept in a subcase.
TEST_CASE("the watchdog's and the harness's timeouts are timed out") {
    auto verdict = from_run(R"jsonl({"binary":"./hang","case":"","event":"run_start","seed":null}
{"case":"hangs","event":"case_start","file":"hang.cpp","line":6}
{"case":"hangs","event":"timeout","limit_seconds":1,"step":"waiting for godot","subcases":["in a subcase"]}
)jsonl",
                            124);
    CHECK(verdict.kind == workbook::VerdictKind::timed_out);
    CHECK(verdict.summary == "test \"hangs / in a subcase\" was still running after 1 s; it was waiting at: waiting for godot");
    // Recorded: harness::within could not unblock a sleep.
    verdict = from_run(R"jsonl({"binary":"./stuck","case":"","event":"run_start","seed":null}
{"case":"stuck","event":"case_start","file":"stuck.cpp","line":4}
{"case":"stuck","event":"timeout","step":"calling the unstoppable","stuck":"sleep that ignores unblocking","subcases":[]}
)jsonl",
                       124);
    CHECK(verdict.kind == workbook::VerdictKind::timed_out);
    CHECK(verdict.summary ==
          "test \"stuck\" was waiting at: sleep that ignores unblocking (it never finished, even when unblocked)");
}

TEST_CASE("killed at the deadline is timed out") {
    workbook::TestRun run;
    run.exited = false;
    run.signal = SIGKILL;
    run.killed_at_deadline = true;
    run.deadline_seconds = 60;
    const auto verdict = workbook::verdict_from_test_run(run, build_dir, source_root);
    CHECK(verdict.kind == workbook::VerdictKind::timed_out);
    CHECK(verdict.summary.find("60 s") != std::string::npos);
}

// Recorded: doctest catches SIGSEGV and reports it, then the signal ends the process.
TEST_CASE("a signal is crashed, named, with the test doctest saw crash") {
    workbook::TestRun run;
    run.events = R"jsonl({"binary":"./hang","case":"","event":"run_start","seed":null}
{"case":"segv","event":"case_start","file":"hang.cpp","line":13}
{"case":"segv","crash":true,"event":"exception","info":[],"message":"SIGSEGV - Segmentation violation signal","subcases":[],"type":"","wire":[]}
{"asserts":0,"asserts_failed":0,"case":"segv","event":"case_end","passed":false,"seconds":0.000275}
{"asserts":0,"asserts_failed":0,"case":"","cases":1,"event":"run_end","failed":1,"passed":0,"skipped":3}
)jsonl";
    run.exited = false;
    run.signal = SIGSEGV;
    auto verdict = workbook::verdict_from_test_run(run, build_dir, source_root);
    CHECK(verdict.kind == workbook::VerdictKind::crashed);
    CHECK(verdict.summary.starts_with("SIGSEGV (Segmentation fault)"));
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->test_name == "segv");
    CHECK(verdict.failure->message.empty());
    CHECK(verdict.failure->exception.empty());
}

// Recorded: SIGPIPE is not one doctest catches; the log stops at the case's start.
TEST_CASE("a run the signal cut short is crashed, in the case that was running") {
    workbook::TestRun run;
    run.events = R"jsonl({"binary":"./hang","case":"","event":"run_start","seed":null}
{"case":"pipe","event":"case_start","file":"hang.cpp","line":12}
{"case":"pipe","event":"assertion_fa)jsonl";
    run.exited = false;
    run.signal = SIGPIPE;
    const auto verdict = workbook::verdict_from_test_run(run, build_dir, source_root);
    CHECK(verdict.kind == workbook::VerdictKind::crashed);
    CHECK(verdict.summary.starts_with("SIGPIPE (Broken pipe)"));
    CHECK(verdict.summary.find("MSG_NOSIGNAL") != std::string::npos);
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->test_name == "pipe");

    run.events.clear();  // no event file at all
    CHECK(workbook::verdict_from_test_run(run, build_dir, source_root).kind == workbook::VerdictKind::crashed);
}

TEST_CASE("a sanitizer report is crashed, with its head and readable frames") {
    const auto verdict = from_run({}, 1, R"out(=================================================================
==4242==ERROR: AddressSanitizer: stack-buffer-overflow on address 0x7ffd1 at pc 0x55 bp 0x7f sp 0x7f
WRITE of size 8192 at 0x7ffd1 thread T1
    #0 0x7f1 in __interceptor_recv ../../../../src/libsanitizer/sanitizer_common/sanitizer_common_interceptors.inc:6945
    #1 0x55a in lesson02::serve_client(net::Fd) ../exercises/02-tcp-client-server/echo.cpp:20

SUMMARY: AddressSanitizer: stack-buffer-overflow
)out");
    CHECK(verdict.kind == workbook::VerdictKind::crashed);
    CHECK(verdict.summary == "ERROR: AddressSanitizer: stack-buffer-overflow on address 0x7ffd1 at pc 0x55 bp 0x7f sp 0x7f");
    REQUIRE(verdict.report.size() == 3);
    CHECK(verdict.report[2] == "  #1 lesson02::serve_client(net::Fd) ../exercises/02-tcp-client-server/echo.cpp:20");

    const auto undefined = from_run({}, 0,
                                    "../exercises/02-tcp-client-server/echo.cpp:12:20: runtime error: signed integer "
                                    "overflow: 2147483647 + 1 cannot be represented in type 'int'\n");
    CHECK(undefined.kind == workbook::VerdictKind::crashed);
    CHECK(undefined.summary.starts_with("exercises/02-tcp-client-server/echo.cpp:12: runtime error: signed integer"));
}

TEST_CASE("a LeakSanitizer report shows the leak and the frames that allocated it, past the blank line") {
    const auto verdict = from_run({}, 23, R"out(
=================================================================
==6723==ERROR: LeakSanitizer: detected memory leaks

Direct leak of 76 byte(s) in 1 object(s) allocated from:
    #0 0x7f6 in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69
    #1 0x7f6 in __GI_getaddrinfo ../sysdeps/posix/getaddrinfo.c:2398
    #2 0x55b in lesson01::resolve_all(std::basic_string_view<char>, int, bool) ../exercises/01-addresses-and-bytes/addresses.cpp:28

SUMMARY: AddressSanitizer: 76 byte(s) leaked in 1 allocation(s).
)out");
    CHECK(verdict.kind == workbook::VerdictKind::crashed);
    CHECK(verdict.summary == "ERROR: LeakSanitizer: detected memory leaks");
    REQUIRE(verdict.report.size() == 4);
    CHECK(verdict.report[0] == "Direct leak of 76 byte(s) in 1 object(s) allocated from:");
    CHECK(verdict.report[3] ==
          "  #2 lesson01::resolve_all(std::basic_string_view<char>, int, bool) ../exercises/01-addresses-and-bytes/addresses.cpp:28");
}

namespace {

// One failed assertion of a made-up test, as the test main reports it.
std::string failed(std::string_view assert_macro, std::string_view expression, std::string_view expanded,
                   std::string_view info = "") {
    return fmt::format(R"jsonl({{"binary":"t","case":"","event":"run_start","seed":null}}
{{"case":"c","event":"case_start","file":"../tests/05-framing.cpp","line":1}}
{{"assert":"{0}","case":"c","check":"{0}( {1} )","event":"assertion_failed","expanded":"{2}","expected_exception":null,"expression":"{1}","file":"../tests/05-framing.cpp","info":[{3}],"line":9,"subcases":[],"threw":false,"wire":[]}}
{{"asserts":1,"asserts_failed":1,"case":"c","event":"case_end","passed":false,"seconds":0.1}}
)jsonl",
                       assert_macro, expression, expanded, info);
}

}  // namespace

TEST_CASE("failure output: integers get their hex beside them, the same width, so a byte swap shows") {
    const auto verdict = from_run(failed("CHECK", "port == 32769", "384 == 32769"));
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->got == "384 (0x0180)");
    CHECK(verdict.failure->expected == "32769 (0x8001)");
    const auto small = from_run(failed("CHECK", "n == 3", "2 == 3"));
    CHECK(small.failure->got == "2");
}

TEST_CASE("failure output: a bool check is said in words, not as doctest's REQUIRE( false )") {
    const auto verdict = from_run(failed("REQUIRE", "reply.starts_with(\\\"HTTP/1.1\\\")", "false"));
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->message == "reply.starts_with(\"HTTP/1.1\") was false, and the test needs it true");
    const auto negated = from_run(failed("CHECK_FALSE", "closed", "true"));
    CHECK(negated.failure->message == "closed was true, and the test needs it false");
}

TEST_CASE("failure output: a bare pointer is no note; a sign-extended byte is explained") {
    const auto verdict = from_run(failed("CHECK", "length == 176", "4294967216 == 176", R"("0x556476f9d2c8","the frame's length")"));
    REQUIRE(verdict.failure);
    REQUIRE(verdict.failure->notes.size() == 2);
    CHECK(verdict.failure->notes[0] == "the frame's length");
    CHECK(verdict.failure->notes[1].starts_with("4294967216 is 0xFFFFFFB0: the byte 0xB0 sign-extended"));
}

TEST_CASE("exit status 0 is passed, with the count") {
    const auto verdict = from_run(R"jsonl({"binary":"t","case":"","event":"run_start","seed":null}
{"asserts":20,"asserts_failed":0,"case":"","cases":10,"event":"run_end","failed":0,"passed":10,"skipped":0}
)jsonl",
                                  0);
    CHECK(verdict.kind == workbook::VerdictKind::passed);
    CHECK(verdict.summary == "all 10 tests pass");
    CHECK_FALSE(verdict.failure);
}

TEST_CASE("a failure without a test case keeps the tail of the output") {
    const auto verdict = from_run({}, 3, "something unexpected\nterminate called without an active exception\n");
    CHECK(verdict.kind == workbook::VerdictKind::failing);
    CHECK(verdict.report.back() == "terminate called without an active exception");
}

TEST_CASE("subcases are part of the test's name; the first failure is the one shown") {
    const auto verdict = from_run(R"jsonl({"case":"frames","event":"case_start","file":"x.cpp","line":1}
{"assert":"CHECK","case":"frames","check":"CHECK( n == 3 )","event":"assertion_failed","exception":null,"expanded":"2 == 3","expected_exception":null,"expression":"n == 3","file":"x.cpp","info":[],"line":9,"subcases":["one byte at a time"],"threw":false,"wire":[]}
{"assert":"CHECK","case":"frames","check":"CHECK( m == 4 )","event":"assertion_failed","exception":null,"expanded":"1 == 4","expected_exception":null,"expression":"m == 4","file":"x.cpp","info":[],"line":10,"subcases":["one byte at a time"],"threw":false,"wire":[]}
)jsonl");
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->test_name == "frames / one byte at a time");
    CHECK(verdict.failure->got == "2");
}

TEST_CASE("labels round-trip") {
    for (const auto kind : {workbook::VerdictKind::passed, workbook::VerdictKind::not_started,
                            workbook::VerdictKind::does_not_compile, workbook::VerdictKind::failing,
                            workbook::VerdictKind::crashed, workbook::VerdictKind::timed_out}) {
        CHECK(workbook::verdict_from_label(workbook::verdict_label(kind)) == kind);
    }
    CHECK_FALSE(workbook::verdict_from_label("exploded"));
}
