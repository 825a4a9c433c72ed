// The pieces under watch and check: noticing saves (inotify and polling) and
// running a child with a deadline.
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <poll.h>
#include <thread>

#include "change_watcher.hpp"
#include "process.hpp"
#include "scratch_dir.hpp"

using namespace std::chrono_literals;

namespace {

// Waits (at most 2 s) for the watcher's descriptor, then asks it.
bool saw_change(workbook::ChangeWatcher& watcher) {
    pollfd ready{watcher.fd(), POLLIN, 0};
    if (watcher.fd() >= 0 && ::poll(&ready, 1, 2000) <= 0) {
        return false;
    }
    return watcher.changed();
}

}  // namespace

TEST_CASE("inotify notices a write in place and an editor's rename-over save") {
    const workbook::testing::ScratchDir scratch;
    scratch.write("echo.cpp", "one");
    auto watcher = workbook::watch_with_inotify(scratch.path());
    CHECK_FALSE(watcher->changed());

    scratch.write("echo.cpp", "two");  // a temporary file renamed over echo.cpp
    CHECK(saw_change(*watcher));
    CHECK_FALSE(watcher->changed());

    {
        std::FILE* file = std::fopen((scratch.path() / "echo.cpp").c_str(), "a");
        REQUIRE(file != nullptr);
        std::fputs(" three", file);
        std::fclose(file);
    }
    CHECK(saw_change(*watcher));
}

TEST_CASE("inotify ignores editor droppings") {
    const workbook::testing::ScratchDir scratch;
    auto watcher = workbook::watch_with_inotify(scratch.path());
    scratch.write(".echo.cpp.swp", "vim");
    scratch.write("4913", "vim's probe");
    pollfd ready{watcher->fd(), POLLIN, 0};
    REQUIRE(::poll(&ready, 1, 2000) == 1);
    CHECK_FALSE(watcher->changed());
}

TEST_CASE("polling notices a changed size or modification time") {
    const workbook::testing::ScratchDir scratch;
    scratch.write("echo.cpp", "one");
    auto watcher = workbook::watch_by_polling(scratch.path());
    CHECK(watcher->fd() == -1);
    CHECK_FALSE(watcher->changed());
    scratch.write("echo.cpp", "one more");
    CHECK(watcher->changed());
    CHECK_FALSE(watcher->changed());
    scratch.write("other.hpp", "new file");
    CHECK(watcher->changed());
}

TEST_CASE("a child's output and exit status are captured") {
    const auto result = workbook::run_captured({"sh", "-c", "echo out; echo err >&2; exit 3"});
    CHECK(result.exited);
    CHECK(result.exit_code == 3);
    CHECK(result.output == "out\nerr\n");
    CHECK_FALSE(result.timed_out);
}

TEST_CASE("stderr can be left out, and the environment extended") {
    workbook::ProcessOptions options;
    options.capture_stderr = false;
    options.environment = {{"WORKBOOK_PROBE", "42"}};
    const auto result = workbook::run_captured({"sh", "-c", "echo $WORKBOOK_PROBE; echo noise >&2"}, options);
    CHECK(result.output == "42\n");
}

TEST_CASE("a child past its deadline is killed and reported as timed out") {
    workbook::ProcessOptions options;
    options.deadline = 200ms;
    const auto started = std::chrono::steady_clock::now();
    const auto result = workbook::run_captured({"sleep", "30"}, options);
    CHECK(result.timed_out);
    CHECK_FALSE(result.exited);
    CHECK(result.signal == SIGKILL);
    CHECK(std::chrono::steady_clock::now() - started < 5s);
}

TEST_CASE("a child killed by a signal reports it") {
    const auto result = workbook::run_captured({"sh", "-c", "kill -SEGV $$"});
    CHECK_FALSE(result.exited);
    CHECK(result.signal == SIGSEGV);
}

TEST_CASE("a program that does not exist is a system_error naming it") {
    CHECK_THROWS_WITH_AS(workbook::run_captured({"/nonexistent/program"}),
                         doctest::Contains("posix_spawn /nonexistent/program"), std::system_error);
}
