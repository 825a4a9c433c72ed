// "does not compile": the first error, trimmed to the learner's file and line,
// from g++'s JSON diagnostics, or from its text when there are none.
#include <doctest/doctest.h>

#include <string>

#include "scratch_dir.hpp"
#include "verdict.hpp"

namespace {

constexpr std::string_view lesson = "02-tcp-client-server";

workbook::Verdict from_build(std::string_view output) {
    return workbook::verdict_from_build_output(output, lesson, "/repo/build", "/repo");
}

}  // namespace

TEST_CASE("a syntax error: file, line, column, message and the source excerpt") {
    const auto verdict = from_build(R"out(ninja: Entering directory `build'
[1/3] Compiling C++ object exercises/libexercise-02-tcp-client-server.a.p/02-tcp-client-server_echo.cpp.o
FAILED: exercises/libexercise-02-tcp-client-server.a.p/02-tcp-client-server_echo.cpp.o
c++ -Iexercises -fdiagnostics-color=always -c ../exercises/02-tcp-client-server/echo.cpp
../exercises/02-tcp-client-server/echo.cpp: In function ‘std::size_t lesson02::serve_client(net::Fd)’:
)out" "\x1b[01m\x1b[K../exercises/02-tcp-client-server/echo.cpp:20:13:\x1b[m\x1b[K \x1b[01;31m\x1b[Kerror: \x1b[m\x1b[K"
                                    R"out(expected primary-expression before ‘;’ token
   20 |     int x = ;
      |             ^
../exercises/02-tcp-client-server/echo.cpp:20:9: warning: unused variable ‘x’ [-Wunused-variable]
   20 |     int x = ;
      |         ^
../exercises/02-tcp-client-server/echo.cpp:31:1: error: expected declaration before ‘}’ token
ninja: build stopped: subcommand failed.
)out");
    CHECK(verdict.kind == workbook::VerdictKind::does_not_compile);
    REQUIRE(verdict.compile_error);
    CHECK(verdict.compile_error->file == "exercises/02-tcp-client-server/echo.cpp");
    CHECK(verdict.compile_error->line == 20);
    CHECK(verdict.compile_error->column == 13);
    CHECK(verdict.compile_error->message == "expected primary-expression before ‘;’ token");
    CHECK(verdict.compile_error->in_learner_file);
    REQUIRE(verdict.compile_error->excerpt.size() == 2);
    CHECK(verdict.compile_error->excerpt[0] == "   20 |     int x = ;");
    CHECK(verdict.summary == "exercises/02-tcp-client-server/echo.cpp:20: expected primary-expression before ‘;’ token");
}

TEST_CASE("an error inside a library header points at the learner's line that led there") {
    const auto verdict = from_build(R"out(FAILED: exercises/libexercise-02-tcp-client-server.a.p/02-tcp-client-server_echo.cpp.o
In file included from /usr/include/c++/12/algorithm:61,
                 from ../exercises/02-tcp-client-server/echo.cpp:2:
/usr/include/c++/12/bits/stl_algo.h: In instantiation of ‘constexpr void std::__sort(_RandomAccessIterator, _RandomAccessIterator, _Compare)’:
/usr/include/c++/12/bits/stl_algo.h:4820:18:   required from ‘constexpr void std::sort(_RAIter, _RAIter) [with _RAIter = _List_iterator<int>]’
../exercises/02-tcp-client-server/echo.cpp:7:14:   required from here
/usr/include/c++/12/bits/stl_algo.h:1938:50: error: no match for ‘operator-’ (operand types are ‘std::_List_iterator<int>’ and ‘std::_List_iterator<int>’)
 1938 |                                 std::__lg(__last - __first) * 2,
      |                                           ~~~~~~~^~~~~~~~~
)out");
    REQUIRE(verdict.compile_error);
    CHECK(verdict.compile_error->file == "exercises/02-tcp-client-server/echo.cpp");
    CHECK(verdict.compile_error->line == 7);
    CHECK(verdict.compile_error->column == 14);
    CHECK(verdict.compile_error->message.starts_with("no match for ‘operator-’"));
    CHECK(verdict.compile_error->message.ends_with("(inside /usr/include/c++/12/bits/stl_algo.h:1938)"));
}

TEST_CASE("the learner's own error wins over an earlier one elsewhere") {
    const auto verdict = from_build("../tests/02-tcp-client-server.cpp:5:1: error: something in the test\n"
                                    "../exercises/02-tcp-client-server/echo.cpp:9:3: error: yours\n");
    REQUIRE(verdict.compile_error);
    CHECK(verdict.compile_error->line == 9);
    CHECK(verdict.compile_error->message == "yours");
}

TEST_CASE("an error only in another file is shown with that file") {
    const auto verdict = from_build("/repo/build/../tests/02-tcp-client-server.cpp:5:1: error: no member named echo\n");
    REQUIRE(verdict.compile_error);
    CHECK(verdict.compile_error->file == "tests/02-tcp-client-server.cpp");
    CHECK_FALSE(verdict.compile_error->in_learner_file);
}

TEST_CASE("a missing function is a linker error, with the signature readable") {
    const auto verdict = from_build(R"out(FAILED: tests/test-02-tcp-client-server-exercise
/usr/bin/ld: tests/libtests-02-tcp-client-server.a.p/02-tcp-client-server.cpp.o: in function `echo_within_deadline':
/repo/build/../tests/02-tcp-client-server.cpp:121: undefined reference to `lesson02::echo_once(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&, unsigned short, std::basic_string_view<char, std::char_traits<char> >)'
collect2: error: ld returned 1 exit status
)out");
    CHECK(verdict.kind == workbook::VerdictKind::does_not_compile);
    REQUIRE(verdict.compile_error);
    CHECK(verdict.compile_error->message ==
          "undefined reference to lesson02::echo_once(std::string const&, unsigned short, std::string_view)");
    CHECK(verdict.compile_error->line == 0);
    REQUIRE_FALSE(verdict.report.empty());
}

TEST_CASE("anything else shows what ninja said from FAILED on") {
    const auto verdict = from_build("ninja: Entering directory `build'\nFAILED: build.ninja\nmeson: something broke\n");
    CHECK(verdict.kind == workbook::VerdictKind::does_not_compile);
    CHECK_FALSE(verdict.compile_error);
    REQUIRE(verdict.report.size() == 2);
    CHECK(verdict.report[0] == "FAILED: build.ninja");
}

// g++ 12's -fdiagnostics-format=json for a file with a syntax error and a
// bad std::sort (children left out), recorded; the paths are put in the test's folder.
std::string recorded_json(std::string_view learner_file) {
    std::string json = R"json([{"kind": "error", "column-origin": 1, "children": [], "escape-source": false, "locations": [{"caret": {"byte-column": 10, "display-column": 17, "line": 4, "file": "LEARNER", "column": 17}}], "message": "expected primary-expression before \u2018;\u2019 token"}, {"kind": "warning", "children": [], "locations": [{"caret": {"line": 2, "file": "LEARNER", "display-column": 1}}], "message": "unused"}, {"kind": "error", "column-origin": 1, "children": [], "escape-source": false, "locations": [{"finish": {"byte-column": 30, "display-column": 58, "line": 1938, "file": "/usr/include/c++/12/bits/stl_algo.h", "column": 58}, "caret": {"byte-column": 22, "display-column": 50, "line": 1938, "file": "/usr/include/c++/12/bits/stl_algo.h", "column": 50}, "start": {"byte-column": 15, "display-column": 43, "line": 1938, "file": "/usr/include/c++/12/bits/stl_algo.h", "column": 43}}], "message": "no match for \u2018operator-\u2019"}])json";
    for (std::size_t at = json.find("LEARNER"); at != std::string::npos; at = json.find("LEARNER")) {
        json.replace(at, 7, learner_file);
    }
    return json;
}

TEST_CASE("JSON diagnostics: errors only, in order, with the excerpt drawn from the source (tabs expanded)") {
    const workbook::testing::ScratchDir scratch;
    scratch.write("exercises/02-tcp-client-server/echo.cpp", "#include <list>\n\nnamespace lesson02 {\n\tint x = ;\n}\n");
    const std::string build = (scratch.path() / "build").string();
    const auto errors = workbook::read_json_diagnostics(recorded_json("../exercises/02-tcp-client-server/echo.cpp"),
                                                        lesson, build, scratch.path().string());
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].file == "exercises/02-tcp-client-server/echo.cpp");
    CHECK(errors[0].line == 4);
    CHECK(errors[0].column == 17);
    CHECK(errors[0].message == "expected primary-expression before ‘;’ token");
    CHECK(errors[0].in_learner_file);
    CHECK(errors[0].excerpt == std::vector<std::string>{"    4 |         int x = ;", "      |                 ^"});
    CHECK(errors[1].file == "/usr/include/c++/12/bits/stl_algo.h");
    CHECK_FALSE(errors[1].in_learner_file);
    CHECK(errors[1].excerpt.size() == 2);  // the header is there to read
    CHECK(errors[1].excerpt[1] == "      | " + std::string(42, ' ') + std::string(7, '~') + "^" + std::string(8, '~'));
    CHECK(workbook::read_json_diagnostics("ninja: error", lesson, build, "/repo").empty());
    CHECK(workbook::read_json_diagnostics("[]", lesson, build, "/repo").empty());
}

TEST_CASE("JSON diagnostics make the verdict; the text only adds the chain back to the learner's line") {
    const std::string json = recorded_json("../exercises/02-tcp-client-server/echo.cpp");
    auto verdict = workbook::verdict_from_build_output("FAILED: x.o\n", lesson, "/repo/build", "/repo", json);
    CHECK(verdict.kind == workbook::VerdictKind::does_not_compile);
    REQUIRE(verdict.compile_error);
    CHECK(verdict.compile_error->line == 4);
    CHECK(verdict.summary == "exercises/02-tcp-client-server/echo.cpp:4: expected primary-expression before ‘;’ token");

    // Only the header's error: g++ 12's JSON has no "required from here"; the text has.
    const std::string header_only = recorded_json("/usr/include/x.h");
    verdict = workbook::verdict_from_build_output(R"out(FAILED: x.o
../exercises/02-tcp-client-server/echo.cpp:7:14:   required from here
/usr/include/c++/12/bits/stl_algo.h:1938:50: error: no match for ‘operator-’ (operand types are ...)
)out", lesson, "/repo/build", "/repo", header_only);
    REQUIRE(verdict.compile_error);
    CHECK(verdict.compile_error->file == "exercises/02-tcp-client-server/echo.cpp");
    CHECK(verdict.compile_error->line == 7);
    CHECK(verdict.compile_error->message == "expected primary-expression before ‘;’ token (inside /usr/include/x.h:4)");
}

TEST_CASE("the failed compile is found in compile_commands.json by ninja's FAILED line") {
    const std::string commands = R"json([
 {"directory": "/repo/build", "command": "c++ -o a.o -c ../a.cpp", "file": "../a.cpp", "output": "a.o"},
 {"directory": "/repo/build", "command": "c++ -o exercises/e.o -c ../exercises/e.cpp", "file": "../exercises/e.cpp", "output": "exercises/e.o"}
])json";
    auto compile = workbook::failed_compile_command("[1/2] Compiling\nFAILED: exercises/e.o \nc++ ...\n", commands);
    REQUIRE(compile);
    CHECK(compile->directory == "/repo/build");
    CHECK(compile->command == "c++ -o exercises/e.o -c ../exercises/e.cpp");
    compile = workbook::failed_compile_command("FAILED: [code=1] a.o \n", commands);  // ninja 1.12
    REQUIRE(compile);
    CHECK(compile->command == "c++ -o a.o -c ../a.cpp");
    CHECK_FALSE(workbook::failed_compile_command("FAILED: tests/test-02-exercise \n", commands));  // a link
    CHECK_FALSE(workbook::failed_compile_command("FAILED: a.o \n", "not json"));
}

TEST_CASE("text helpers") {
    CHECK(workbook::strip_ansi("\x1b[01;31m\x1b[Kerror\x1b[m\x1b[K") == "error");
    CHECK(workbook::split_lines("a\r\nb\n\nc") == std::vector<std::string>{"a", "b", "", "c"});
    CHECK(workbook::repository_path("../exercises/x/y.cpp", "/repo/build", "/repo") == "exercises/x/y.cpp");
    CHECK(workbook::repository_path("/usr/include/string", "/repo/build", "/repo") == "/usr/include/string");
    CHECK(workbook::escape_bytes(std::string("a\n\"\0\xff", 5)) == R"(a\n\"\x00\xff)");
    CHECK(workbook::not_started_summary("serve_client: recv, send") == "serve_client is not written yet (recv, send)");
    CHECK(workbook::not_started_summary("parse") == "parse is not written yet");
    CHECK(workbook::not_started_summary("FrameDecoder::feed: keep the bytes") ==
          "FrameDecoder::feed is not written yet (keep the bytes)");
    CHECK(workbook::not_started_summary("tls::connect") == "tls::connect is not written yet");
}
