// Hints, the course model (lessons, the current exercise), errno lookups and
// the small pieces watch and reset rely on.
#include <doctest/doctest.h>

#include <cerrno>

#include "change_watcher.hpp"
#include "course.hpp"
#include "errno_guide.hpp"
#include "files.hpp"
#include "hints.hpp"
#include "progress.hpp"
#include "scratch_dir.hpp"
#include "status.hpp"

namespace {

workbook::Lesson lesson_with_hints(std::vector<std::string> hints) {
    workbook::Lesson lesson;
    lesson.name = "02-x";
    lesson.number = "02";
    lesson.hints = std::move(hints);
    return lesson;
}

// exercises/01-first (pristine), 02-second (exercise.json broken), 03-third, and a stray folder.
void write_course(const workbook::testing::ScratchDir& scratch) {
    const std::string stub = "void f() { net::todo(\"f: write it\"); }\n";
    scratch.write("exercises/01-first/first.cpp", stub);
    scratch.write("exercises/01-first/exercise.json",
                  R"({"title": "First", "chapter": "book/src/01-first.md", "hints": ["a", "b"], "stub_sha256": {"first.cpp": ")" +
                      workbook::sha256_hex(stub) + "\"}}");
    scratch.write("exercises/02-second/exercise.json", "{ not json");
    scratch.write("exercises/03-third/exercise.json", R"({"title": "Third", "hints": []})");
    scratch.write("exercises/third-without-number/exercise.json", R"({"title": "Stray"})");
}

}  // namespace

TEST_CASE("hints are revealed one more each time, then stay all shown") {
    const auto lesson = lesson_with_hints({"nudge", "more", "nearly the answer"});
    auto reveal = workbook::reveal_next_hint(lesson, 0);
    CHECK(reveal.visible == std::vector<std::string>{"nudge"});
    CHECK(reveal.shown == 1);
    CHECK(reveal.revealed_new);
    reveal = workbook::reveal_next_hint(lesson, reveal.shown);
    CHECK(reveal.visible == std::vector<std::string>{"nudge", "more"});
    reveal = workbook::reveal_next_hint(lesson, 2);
    CHECK(reveal.shown == 3);
    CHECK(reveal.revealed_new);
    reveal = workbook::reveal_next_hint(lesson, 3);
    CHECK(reveal.shown == 3);
    CHECK_FALSE(reveal.revealed_new);
    CHECK(reveal.visible.size() == 3);
}

TEST_CASE("hint counts out of range are clamped; no hints reveals nothing") {
    CHECK(workbook::reveal_next_hint(lesson_with_hints({"a", "b"}), -4).shown == 1);
    CHECK(workbook::reveal_next_hint(lesson_with_hints({"a", "b"}), 99).shown == 2);
    const auto none = workbook::reveal_next_hint(lesson_with_hints({}), 0);
    CHECK(none.total == 0);
    CHECK(none.visible.empty());
    CHECK_FALSE(none.revealed_new);
}

TEST_CASE("the course: lessons in order, found by number or name, problems recorded not thrown") {
    const workbook::testing::ScratchDir scratch;
    write_course(scratch);
    const workbook::Course course(scratch.path(), scratch.path() / "build");
    REQUIRE(course.lessons().size() == 3);
    CHECK(course.find("1").name == "01-first");
    CHECK(course.find("01").title == "First");
    CHECK(course.find("03-third").title == "Third");
    CHECK_FALSE(course.lessons()[1].problem.empty());
    CHECK(course.lessons()[1].title == "second");
    CHECK_THROWS_AS((void)course.find("9"), workbook::UsageError);
    CHECK(course.after(course.find("01"))->name == "02-second");
    CHECK(course.after(course.find("03")) == nullptr);
    CHECK(course.test_target(course.find("01")) == "tests/test-01-first-exercise");
    CHECK(course.display(scratch.path() / "exercises/01-first/first.cpp") == "exercises/01-first/first.cpp");
}

TEST_CASE("pristine stubs are recognised by hash; any edit changes the fingerprint") {
    const workbook::testing::ScratchDir scratch;
    write_course(scratch);
    const workbook::Course course(scratch.path(), scratch.path() / "build");
    const auto& first = course.find("01");
    CHECK(course.is_pristine(first));
    const std::string before = course.fingerprint(first);
    scratch.write("exercises/01-first/first.cpp", "void f() {}\n");
    CHECK_FALSE(course.is_pristine(first));
    CHECK(course.fingerprint(first) != before);
    CHECK_FALSE(course.is_pristine(course.find("03")));  // no hashes recorded: never claimed pristine
}

TEST_CASE("the current exercise: the one recorded, else the first not done; passing moves on") {
    const workbook::testing::ScratchDir scratch;
    write_course(scratch);
    const workbook::Course course(scratch.path(), scratch.path() / "build");
    auto progress = workbook::Progress::load(scratch.path() / "progress.json");
    CHECK(workbook::current_lesson(course, progress).name == "01-first");
    progress.mark_done("01-first");
    CHECK(workbook::current_lesson(course, progress).name == "02-second");
    progress.set_current("07-no-longer-exists");
    CHECK(workbook::current_lesson(course, progress).name == "02-second");
    progress.set_current("03-third");
    CHECK(workbook::current_lesson(course, progress).name == "03-third");
    CHECK(workbook::next_unfinished(course, progress, course.find("03"))->name == "02-second");  // wraps round
    progress.mark_done("02-second");
    CHECK(workbook::next_unfinished(course, progress, course.find("03")) == nullptr);
    CHECK(workbook::lessons_done(course, progress) == 2);
}

TEST_CASE("SHA-256 matches the standard's test vectors, across the padding boundaries") {
    CHECK(workbook::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(workbook::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(workbook::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(workbook::sha256_hex(std::string(1'000'000, 'a')) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("explain finds errnos by name, number or message; failures mention them") {
    REQUIRE(workbook::find_errno_guide("econnrefused") != nullptr);
    CHECK(workbook::find_errno_guide("ECONNREFUSED")->value == ECONNREFUSED);
    CHECK(workbook::find_errno_guide(std::to_string(EPIPE))->name == "EPIPE");
    CHECK(workbook::find_errno_guide("Connection reset by peer")->name == "ECONNRESET");
    CHECK(workbook::find_errno_guide("ADDRINUSE")->name == "EADDRINUSE");
    CHECK(workbook::find_errno_guide("EWOULDBLOCK")->name == "EAGAIN");
    CHECK(workbook::find_errno_guide("EBADF") == nullptr);
    CHECK(workbook::errno_guides().size() == 8);
    CHECK(workbook::errno_mentioned_in("test's recv: Connection reset by peer")->name == "ECONNRESET");
    CHECK(workbook::errno_mentioned_in("all good") == nullptr);
}

TEST_CASE("explain points at the chapter section that mentions the errno first") {
    const workbook::testing::ScratchDir scratch;
    scratch.write("chapter.md", "# 04 Server lifecycle\n\n## Restarting\n\nbind fails with EADDRINUSE.\n\n"
                                "```\n# not a heading EPIPE\n```\n## Writing to a closed peer\n\nEPIPE and SIGPIPE.\n");
    constexpr std::string_view in_use[] = {"EADDRINUSE"};
    constexpr std::string_view pipe[] = {"EPIPE"};
    constexpr std::string_view nothing[] = {"EMFILE"};
    CHECK(workbook::find_section(scratch.path() / "chapter.md", in_use) == "Restarting");
    CHECK(workbook::find_section(scratch.path() / "chapter.md", pipe) == "Writing to a closed peer");
    CHECK(workbook::find_section(scratch.path() / "chapter.md", nothing).empty());
    CHECK(workbook::find_section(scratch.path() / "missing.md", pipe).empty());
}

TEST_CASE("watch reacts to sources, not to editor droppings") {
    CHECK(workbook::is_watched_source("echo.cpp"));
    CHECK(workbook::is_watched_source("echo.hpp"));
    CHECK_FALSE(workbook::is_watched_source(".echo.cpp.swp"));
    CHECK_FALSE(workbook::is_watched_source("echo.cpp~"));
    CHECK_FALSE(workbook::is_watched_source("#echo.cpp#"));
    CHECK_FALSE(workbook::is_watched_source("4913"));
    CHECK_FALSE(workbook::is_watched_source("exercise.json"));
}
