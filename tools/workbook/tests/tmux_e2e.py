#!/usr/bin/env python3
"""End-to-end test of the learner CLI in a terminal, typed into through tmux.

    tmux_e2e.py CLI_BINARY SOURCE_ROOT

A learner's afternoon, on a copy of the workbook (lessons 01 and 02, pristine
stubs, as e2e.py makes it) that is an "upstream" git repository, and a clone
of it that is the learner's:

1. `./workbook check 01 --asan` (the launcher, with WORKBOOK_CLI pointing at
   the CLI built here so that the copy builds no second CLI) on lesson 01's
   solution without its freeaddrinfo: LeakSanitizer's report, in the verdict.
   This configures the clone's build-asan/ and builds one target there: lesson
   01's exercise tests under ASan+UBSan. Everything below reuses that build.
2. `./workbook watch` in a tmux pane: the leak again; the learner saves the
   fixed file (a rename-over, as editors do); the verdict is "passed" and
   watch moves on to 02 by itself and says so; `h` typed into the pane shows
   02's hints; `q` quits with status 0.
3. `./workbook update` after upstream added lesson 03 and changed two files:
   the learner's solved exercise is kept, an upstream change to a file the
   learner edited elsewhere is merged in, a change to the same lines the
   learner edited is reported as a conflict (the learner's version kept, the
   new one beside the backup), and `list` shows lesson 03.

No step waits without a deadline; the tmux server is killed on the way out.
tmux is a setup package (./workbook installs it): without it this test fails
and says so, it does not skip.
"""
import json
import os
import pathlib
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import e2e  # noqa: E402  (copy_workbook, the pristine stubs)
from e2e import expect, fail, save_by_rename, step  # noqa: E402

ASAN_BUILD_LIMIT = 420  # s: configure + one sanitized target, on two busy cores
CHECK_LIMIT = 60  # s: a check once the build is there
KEY_LIMIT = 10  # s: a key's answer
GIT = ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.invalid"]
LESSON01 = "01-addresses-and-bytes"
LESSON02 = "02-tcp-client-server"
LESSON03 = "03-byte-streams"
LEAK_LINE = "const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(raw, &::freeaddrinfo);"
NO_FREE = "const std::unique_ptr<addrinfo, void (*)(addrinfo*)> list(raw, [](addrinfo*) {});"


def run(command, timeout, cwd=None, env=None, status=None):
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        fail(f"{shlex.join(command)} did not finish within {timeout} s:\n{expired.stdout or ''}{expired.stderr or ''}")
    output = done.stdout + done.stderr
    if status is not None and done.returncode != status:
        fail(f"{shlex.join(command)} exited {done.returncode}, expected {status}:\n{output}")
    return output


class TmuxPane:
    """One command in a detached tmux session on a private server. Everything
    the pane shows is copied to a log (pipe-pane) before the command starts:
    the command waits for an Enter that is typed once the copy is in place."""

    def __init__(self, directory, cwd, command):
        self.socket = str(directory / "tmux.socket")
        self.log = directory / "pane.log"
        self.log.write_text("")
        # The pane's shell line: wait for the go-ahead, run, report the status.
        line = f"read _; {shlex.join(command)}; echo \"[exited $?]\"; sleep 30"
        self.tmux("new-session", "-d", "-s", "e2e", "-x", "160", "-y", "50", "-c", str(cwd), "sh", "-c", line)
        self.tmux("pipe-pane", "-t", "e2e", "-o", f"cat >> {shlex.quote(str(self.log))}")
        self.keys("Enter")

    def tmux(self, *arguments):
        return run(["tmux", "-S", self.socket, "-f", "/dev/null", *arguments], KEY_LIMIT, status=0)

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "e2e", *keys)

    def text(self):
        return self.log.read_text(errors="replace")

    def wait_for(self, needle, timeout, start=0):
        """Seconds until `needle` shows after offset `start` of the log."""
        began = time.monotonic()
        while needle not in self.text()[start:]:
            if time.monotonic() - began > timeout:
                screen = run(["tmux", "-S", self.socket, "capture-pane", "-p", "-t", "e2e"], KEY_LIMIT)
                fail(f"the pane did not show {needle!r} within {timeout} s. Log:\n{self.text()[start:][-3000:]}\n"
                     f"Screen:\n{screen}")
            time.sleep(0.05)
        return time.monotonic() - began

    def close(self):
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=KEY_LIMIT)


def make_repositories(source, top):
    upstream = top / "upstream"
    e2e.copy_workbook(source, upstream)
    learner = top / "learner"
    run(GIT + ["clone", "-q", str(upstream), str(learner)], 60, status=0)
    return upstream, learner


def check_asan_catches_the_leak(learner, env, solution):
    step("./workbook check 01 --asan: a missing freeaddrinfo is a leak, reported with the function that leaked")
    exercise = learner / "exercises" / LESSON01 / "addresses.cpp"
    if LEAK_LINE not in solution:
        fail(f"solutions/{LESSON01}/addresses.cpp no longer holds {LEAK_LINE!r}: update this test")
    exercise.write_text(solution.replace(LEAK_LINE, NO_FREE, 1))
    began = time.monotonic()
    output = run([str(learner / "workbook"), "check", "01", "--asan"], ASAN_BUILD_LIMIT, cwd=learner, env=env, status=1)
    expect(output, "crashed", "LeakSanitizer", "resolve_all", "addresses.cpp", "then ./workbook check 01 --asan")
    print(f"    sanitized build and check in {time.monotonic() - began:.1f} s")


def check_watch_moves_on(top, learner, env, cli, solution):
    step("watch in tmux: the leak again, a save with the fix passes, watch moves on to 02 by itself; h, q")
    exercise = learner / "exercises" / LESSON01 / "addresses.cpp"
    watch_env = {"WORKBOOK_ROOT": str(learner), "WORKBOOK_BUILD_DIR": str(learner / "build-asan"), "NO_COLOR": "1",
                 "PATH": env["PATH"]}
    command = ["env", *[f"{name}={value}" for name, value in watch_env.items()], cli, "watch"]
    pane = TmuxPane(top, learner, command)
    try:
        pane.wait_for("LeakSanitizer", CHECK_LIMIT)
        pane.wait_for(f"watching exercises/{LESSON01}", CHECK_LIMIT)
        mark = len(pane.text())
        save_by_rename(exercise, solution)
        reaction = pane.wait_for("checking", 2.0, mark)
        pane.wait_for("passed", CHECK_LIMIT, mark)
        pane.wait_for("Moving on to 02", CHECK_LIMIT, mark)
        pane.wait_for(f"watching exercises/{LESSON02}", CHECK_LIMIT, mark)
        print(f"    save -> re-check started in {reaction:.2f} s")
        progress = json.loads((learner / ".workbook" / "progress.json").read_text())
        if progress.get("current") != LESSON02 or not progress["lessons"][LESSON01].get("done"):
            fail(f"after the pass, 01 should be done and 02 current: {progress}")
        mark = len(pane.text())
        pane.keys("h")
        pane.wait_for("Hints for 02", KEY_LIMIT, mark)
        mark = len(pane.text())
        pane.keys("q")
        pane.wait_for("[exited 0]", KEY_LIMIT, mark)
    finally:
        pane.close()


def commit_upstream_changes(source, upstream):
    """The workbook's next version: lesson 03 arrives, 02's files change."""
    for folder in ("lessons", "exercises", "solutions"):
        shutil.copytree(source / folder / LESSON03, upstream / folder / LESSON03)
    shutil.copy2(source / "tests" / f"{LESSON03}.cpp", upstream / "tests" / f"{LESSON03}.cpp")
    e2e.restore_pristine_stubs(source, upstream)
    header = upstream / "exercises" / LESSON02 / "echo.hpp"
    header.write_text(header.read_text().replace("#pragma once\n", "#pragma once\n// (clarified upstream)\n", 1))
    stub = upstream / "exercises" / LESSON02 / "echo.cpp"
    stub.write_text(stub.read_text().replace("}  // namespace lesson02", "}  // namespace lesson02 (upstream's last line)", 1))
    run(GIT + ["-C", str(upstream), "add", "-A"], 60, status=0)
    run(GIT + ["-C", str(upstream), "commit", "-q", "-m", "lesson 03"], 60, status=0)


def check_update_keeps_work(source, upstream, learner, env, cli, solution):
    step("update: new lesson files arrive; the solved 01 is kept, 02 merged where it can be, a conflict in words")
    header = learner / "exercises" / LESSON02 / "echo.hpp"
    learner_header = header.read_text().replace("#pragma once\n", "#pragma once\n// my notes: recv may return less\n", 1)
    header.write_text(learner_header)
    stub = learner / "exercises" / LESSON02 / "echo.cpp"
    stub.write_text(stub.read_text().replace("#include \"echo.hpp\"\n", "#include \"echo.hpp\"\n// started\n", 1))
    commit_upstream_changes(source, upstream)

    output = run([str(learner / "workbook"), "update"], 120, cwd=learner, env=env, status=1)
    expect(output, "updated", f"new lessons: {LESSON03}", f"kept     exercises/{LESSON01}/addresses.cpp",
           f"merged   exercises/{LESSON02}/echo.cpp", f"conflict exercises/{LESSON02}/echo.hpp",
           "the workbook changed the same lines you did")
    if (learner / "exercises" / LESSON01 / "addresses.cpp").read_text() != solution:
        fail("update lost the learner's solved exercise 01")
    merged = stub.read_text()
    if "// started\n" not in merged or "(upstream's last line)" not in merged:
        fail(f"echo.cpp should hold both the learner's and upstream's change:\n{merged}")
    if header.read_text() != learner_header:
        fail("on a conflict the learner's echo.hpp must stay as the learner left it")
    if not list((learner / ".workbook" / "backup").glob(f"update-*/exercises/{LESSON02}/echo.hpp.new")):
        fail("the workbook's new echo.hpp was not left beside the backup")
    if not (learner / "exercises" / LESSON03).is_dir():
        fail("lesson 03's exercise did not arrive")
    listing = run([cli, "list"], CHECK_LIMIT, env=dict(env, WORKBOOK_ROOT=str(learner),
                                                      WORKBOOK_BUILD_DIR=str(learner / "build-asan")), status=0)
    expect(listing, "03  Byte streams")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    cli = str(pathlib.Path(sys.argv[1]).resolve())
    source = pathlib.Path(sys.argv[2]).resolve()
    # meson's timeout sends SIGTERM: leave through the finally clauses, which
    # kill the private tmux server (it is a daemon, outside our process group).
    signal.signal(signal.SIGTERM, lambda *_: fail("stopped by SIGTERM (a timeout?)"))
    if shutil.which("tmux") is None:
        fail("tmux is not installed; ./workbook setup installs it (apt package tmux)")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="workbook-tmux-e2e-") as temporary:
        top = pathlib.Path(temporary)
        upstream, learner = make_repositories(source, top)
        env = dict(os.environ, WORKBOOK_CLI=cli, NO_COLOR="1")
        for name in ("WORKBOOK_ROOT", "WORKBOOK_BUILD_DIR", "WORKBOOK_TEST_TIMEOUT", "TMUX"):
            env.pop(name, None)
        solution = (source / "solutions" / LESSON01 / "addresses.cpp").read_text()
        check_asan_catches_the_leak(learner, env, solution)
        check_watch_moves_on(top, learner, env, cli, solution)
        check_update_keeps_work(source, upstream, learner, env, cli, solution)
    print(f"ok: check --asan, watch and update end to end in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
