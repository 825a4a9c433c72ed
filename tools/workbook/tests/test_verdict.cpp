// Parsing the test runner's and the compiler's output into verdicts, on
// output recorded from real runs of lesson 02 (stub, mutants, broken code).
#include <doctest/doctest.h>

#include <csignal>
#include <string>

#include "verdict.hpp"

namespace {

constexpr std::string_view build_dir = "/repo/build";
constexpr std::string_view source_root = "/repo";

workbook::Verdict from_run(std::string output, int exit_code = 1) {
    workbook::TestRun run;
    run.output = std::move(output);
    run.exit_code = exit_code;
    return workbook::verdict_from_test_run(run, build_dir, source_root);
}

const std::string stub_output = R"out(===============================================================================
../tests/02-tcp-client-server.cpp:19:
TEST CASE:  serve_client echoes a message byte for byte, then closes when the client does

../tests/02-tcp-client-server.cpp:25: FATAL ERROR: REQUIRE( client.recv_exact(12) == "hello, echo\n" ) THREW exception: "not started: serve_client: recv, send the same bytes back, until recv returns 0"
  logged: what went over the wire:
  connected to 127.0.0.1:35559
  test sent     "hello, echo\n" (12 bytes)


Aborting - too many failed asserts!
===============================================================================
[doctest] test cases: 1 | 0 passed | 1 failed | 9 skipped
[doctest] assertions: 1 | 0 passed | 1 failed |
[doctest] Status: FAILURE!
)out";

const std::string reads_once_output = R"out(===============================================================================
../tests/02-tcp-client-server.cpp:134:
TEST CASE:  echo_once waits for the whole echo when it arrives in pieces

../tests/02-tcp-client-server.cpp:137: FATAL ERROR: REQUIRE( echo_within_deadline(echo, "127.0.0.1", message) == message ) is NOT correct!
  values: REQUIRE( one recv  == one recv is not one message )

Aborting - too many failed asserts!
===============================================================================
[doctest] test cases:  7 |  6 passed | 1 failed | 3 skipped
[doctest] assertions: 15 | 14 passed | 1 failed |
[doctest] Status: FAILURE!
)out";

const std::string count_output = R"out(===============================================================================
../tests/02-tcp-client-server.cpp:19:
TEST CASE:  serve_client echoes a message byte for byte, then closes when the client does

../tests/02-tcp-client-server.cpp:29: ERROR: CHECK( echoed == 12 ) is NOT correct!
  values: CHECK( 13 == 12 )
  logged: what went over the wire:
  connected to 127.0.0.1:33615
  test sent     "hello, echo\n" (12 bytes)
  test received "hello, echo\n" (12 bytes)
  test called shutdown(SHUT_WR): no more data from the test
  the server closed the connection (EOF)
          what(): connect 127.0.0.1:9: Connection refused


Aborting - too many failed asserts!
===============================================================================
[doctest] test cases: 1 | 0 passed | 1 failed | 9 skipped
)out";

}  // namespace

TEST_CASE("a pristine stub is not started, naming the function") {
    const auto verdict = from_run(stub_output);
    CHECK(verdict.kind == workbook::VerdictKind::not_started);
    CHECK(verdict.summary == "serve_client is not written yet (recv, send the same bytes back, until recv returns 0)");
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->test_name ==
          "serve_client echoes a message byte for byte, then closes when the client does");
}

TEST_CASE("a wrong value is failing, with expected and got, trailing spaces kept") {
    const auto verdict = from_run(reads_once_output);
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
    const auto verdict = from_run(count_output);
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
    const auto verdict = from_run(R"out(TEST CASE:  serve_client echoes

../tests/02-tcp-client-server.cpp:25: FATAL ERROR: REQUIRE( client.recv_exact(12) == "hello, echo\n" ) THREW exception: "expected 12 bytes from the server but 4096 arrived"
  logged: what went over the wire:
  test received "hello, echo\n[\x00 x 700]" (4096 bytes)
)out");
    CHECK(verdict.kind == workbook::VerdictKind::failing);
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->expected == R"("hello, echo\n")");
    CHECK(verdict.failure->exception == "expected 12 bytes from the server but 4096 arrived");
    CHECK(verdict.failure->wire.size() == 1);
}

TEST_CASE("values spanning lines are joined, and their bytes escaped") {
    const auto verdict = from_run("TEST CASE:  lines\n\nx.cpp:3: ERROR: CHECK( line == \"a\\n\" ) is NOT correct!\n"
                                  "  values: CHECK( a\tb\n == a\n )\n\n");
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->got == R"("a\tb\n")");
    CHECK(verdict.failure->expected == R"("a\n")");
}

TEST_CASE("REQUIRE_THROWS_AS: a different exception, or none at all") {
    auto verdict = from_run("TEST CASE:  t\n\nx.cpp:3: FATAL ERROR: REQUIRE_THROWS_AS( f(), std::runtime_error ) threw a "
                            "DIFFERENT exception: \"connect: Connection refused\"\n");
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->expected == "an exception of type std::runtime_error");
    CHECK(verdict.failure->exception == "connect: Connection refused");
    verdict = from_run("TEST CASE:  t\n\nx.cpp:3: FATAL ERROR: REQUIRE_THROWS_AS( f(), std::runtime_error ) did NOT throw at all!\n");
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->expected == "an exception of type std::runtime_error");
    CHECK(verdict.failure->got == "it returned normally, without throwing");
}

TEST_CASE("a harness timeout inside a test is timed out, naming the step") {
    const auto verdict = from_run(R"out(TEST CASE:  serve_client echoes a message byte for byte, then closes when the client does

../tests/02-tcp-client-server.cpp:25: FATAL ERROR: REQUIRE( client.recv_exact(12) == "hello, echo\n" ) THREW exception: "timed out after 2000 ms: waiting for 12 bytes from the server, 0 arrived so far"
  logged: what went over the wire:
  test sent     "hello, echo\n" (12 bytes)
)out");
    CHECK(verdict.kind == workbook::VerdictKind::timed_out);
    CHECK(verdict.summary == "test \"serve_client echoes a message byte for byte, then closes when the client does\" "
                             "waited 2000 ms at: waiting for 12 bytes from the server, 0 arrived so far");
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->wire.size() == 1);
}

TEST_CASE("the watchdog's and the harness's TIMEOUT lines are timed out") {
    auto verdict = from_run("\nTIMEOUT: test case \"serve_client keeps echoing\" was still running after 15 s; it was "
                            "waiting at: accepting a connection\n",
                            124);
    CHECK(verdict.kind == workbook::VerdictKind::timed_out);
    CHECK(verdict.summary ==
          "test \"serve_client keeps echoing\" was still running after 15 s; it was waiting at: accepting a connection");
    verdict = from_run("\nTIMEOUT: echo_once waiting for its echo did not finish and could not be unblocked; ending the "
                       "test run\n",
                       124);
    CHECK(verdict.kind == workbook::VerdictKind::timed_out);
    CHECK(verdict.summary ==
          "the test was waiting at: echo_once waiting for its echo (it never finished, even when unblocked)");
    verdict = from_run("TIMEOUT: test case \"echo_once works\": the server function did not finish and could not be "
                       "unblocked; ending the test run\n",
                       124);
    CHECK(verdict.summary ==
          "test \"echo_once works\" was waiting at: the server function (it never finished, even when unblocked)");
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

TEST_CASE("a signal is crashed, named, with the test doctest saw crash") {
    workbook::TestRun run;
    run.output = R"out(===============================================================================
../tests/02-tcp-client-server.cpp:19:
TEST CASE:  serve_client echoes a message byte for byte, then closes when the client does

../tests/02-tcp-client-server.cpp:19: FATAL ERROR: test case CRASHED: SIGSEGV - Segmentation violation signal

)out";
    run.exited = false;
    run.signal = SIGSEGV;
    auto verdict = workbook::verdict_from_test_run(run, build_dir, source_root);
    CHECK(verdict.kind == workbook::VerdictKind::crashed);
    CHECK(verdict.summary.starts_with("SIGSEGV (Segmentation fault)"));
    REQUIRE(verdict.failure);
    CHECK(verdict.failure->test_name == "serve_client echoes a message byte for byte, then closes when the client does");
    CHECK(verdict.failure->message.empty());

    run.output.clear();
    run.signal = SIGPIPE;
    verdict = workbook::verdict_from_test_run(run, build_dir, source_root);
    CHECK(verdict.summary.starts_with("SIGPIPE (Broken pipe)"));
    CHECK(verdict.summary.find("MSG_NOSIGNAL") != std::string::npos);
}

TEST_CASE("a sanitizer report is crashed, with its head and readable frames") {
    const auto verdict = from_run(R"out(=================================================================
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

    const auto undefined = from_run("../exercises/02-tcp-client-server/echo.cpp:12:20: runtime error: signed integer "
                                    "overflow: 2147483647 + 1 cannot be represented in type 'int'\n",
                                    0);
    CHECK(undefined.kind == workbook::VerdictKind::crashed);
    CHECK(undefined.summary.starts_with("exercises/02-tcp-client-server/echo.cpp:12: runtime error: signed integer"));
}

TEST_CASE("exit status 0 is passed, with the count") {
    const auto verdict = from_run("[doctest] test cases: 10 | 10 passed | 0 failed | 0 skipped\n"
                                  "[doctest] Status: SUCCESS!\n",
                                  0);
    CHECK(verdict.kind == workbook::VerdictKind::passed);
    CHECK(verdict.summary == "all 10 tests pass");
    CHECK_FALSE(verdict.failure);
}

TEST_CASE("a failure without a test case keeps the tail of the output") {
    const auto verdict = from_run("something unexpected\nterminate called without an active exception\n", 3);
    CHECK(verdict.kind == workbook::VerdictKind::failing);
    CHECK(verdict.report.back() == "terminate called without an active exception");
}

TEST_CASE("subcases are part of the test's name; colour codes are ignored") {
    const auto verdict = from_run("\x1b[0;33mTEST CASE:  \x1b[0mframes\n  one byte at a time\n\n"
                                  "\x1b[1;31mx.cpp:9: ERROR: \x1b[0mCHECK( n == 3 ) is NOT correct!\n"
                                  "  values: CHECK( 2 == 3 )\n");
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
