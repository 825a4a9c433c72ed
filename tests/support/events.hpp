#pragma once
// Machine-readable test results for the learner CLI. When the environment
// variable WORKBOOK_EVENTS names a file, the test main writes one JSON object
// per line to it (JSON Lines) for each event of the run; doctest's console
// output stays as it is, for people. Without the variable nothing is written.
//
// Every event has "event" and "case" (the running test case, "" outside one):
//   run_start         binary, seed (WORKBOOK_SEED, or null: each test picks its own)
//   case_start        file, line
//   assertion_failed  subcases, file, line, assert ("REQUIRE"), warning (a WARN,
//                     which fails nothing), expression,
//                     check ("REQUIRE( a == b )"), expanded ("1 == 2"), threw,
//                     exception {type, message} or null, expected_exception,
//                     info [INFO()/CAPTURE() texts], wire [transcript lines]
//   message           subcases, file, line, failed, severity, text, info, wire
//   exception         subcases, crash, type, message, info, wire
//                     (the case threw, or doctest caught a signal: crash)
//   timeout           subcases, step, and either limit_seconds (the watchdog)
//                     or stuck (what could not be unblocked); the process ends next
//   case_end          passed, seconds, asserts, asserts_failed
//   run_end           cases, passed, failed, skipped, asserts, asserts_failed
// An exception's type is demangled ("net::NotImplemented": a stub's todo;
// "harness::Timeout": then also waited_ms and step). A run that ends without
// run_end crashed or was killed; a line cut short is its last, unfinished write.

#include <chrono>
#include <string_view>

namespace harness::events {

// The watchdog's last word: the case ran past `limit` while waiting at `step`.
// On disk when this returns; the caller then ends the process with _Exit.
void watchdog_timeout(std::chrono::seconds limit, std::string_view step);

// The harness could not unblock `what` (waiting at `step`); the process ends next.
void could_not_unblock(std::string_view what, std::string_view step);

}  // namespace harness::events
