#!/usr/bin/env python3
"""End-to-end test of the learner CLI, driven as a learner would drive it.

    e2e.py CLI_BINARY SOURCE_ROOT

Copies the workbook (lessons 01 and 02 only, so lessons being written elsewhere
cannot break it) to a temporary git repository, configures it, builds lesson
02's test binary there, and points the real CLI at the copy (WORKBOOK_ROOT,
WORKBOOK_BUILD_DIR). Then: a pristine stub is "not started", from the events
the test binary wrote; a wrong count is "failing" with expected and got; a
SIGPIPE is "crashed" naming the signal and the test; a syntax error
"does not compile" at the right line; the solution passes and advances the
progress (keeping entries the CLI does not know); reset restores the stub and
keeps a backup; watch, under a pseudo-terminal, reacts to a rename-over save
and (with --poll) to an in-place write within 2 s, shows hints, quits on q and
on Ctrl-C, and leaves the terminal as it found it.
"""
import hashlib
import json
import os
import pathlib
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import time

LESSON = "02-tcp-client-server"
KEPT_LESSONS = {"01-addresses-and-bytes", LESSON}
LESSON_DIR = re.compile(r"^\d\d-")
REACTION_LIMIT = 2.0  # seconds from a save to the start of a re-check
CHECK_LIMIT = 60  # seconds for any single command


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def step(message):
    print(f"--- {message}", flush=True)


def copy_workbook(source, target):
    def ignore(folder, names):
        top = pathlib.Path(folder).relative_to(source).as_posix()
        ignored = {n for n in names if n in {".git", ".workbook", "__pycache__"}}
        if top == ".":
            ignored |= {n for n in names if n == "build" or n.startswith("build-")}
        if top in {"lessons", "exercises", "solutions", "tests/mutants"}:
            ignored |= {n for n in names if LESSON_DIR.match(n) and n not in KEPT_LESSONS}
        if top == "tests":
            ignored |= {n for n in names if LESSON_DIR.match(n) and n.removesuffix(".cpp") not in KEPT_LESSONS}
        return ignored

    shutil.copytree(source, target, ignore=ignore)
    restore_pristine_stubs(source, target)
    git = ["git", "-C", str(target), "-c", "user.name=e2e", "-c", "user.email=e2e@example.invalid"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "pristine workbook"]):
        subprocess.run(git + command, check=True, stdout=subprocess.DEVNULL)


def restore_pristine_stubs(source, target):
    """The learner may have solved (or half solved) exercises in `source`: the
    copy gets the pristine stubs, found by the hashes exercise.json records in
    the source's git history (tests/support/stub_check.py), so that this test
    runs the same whatever the learner has done."""
    sys.path.insert(0, str(source / "tests" / "support"))
    import stub_check  # noqa: E402
    for meta in sorted((target / "exercises").glob("[0-9][0-9]-*/exercise.json")):
        for name, wanted in stub_check.recorded_hashes(meta.parent).items():
            copy = meta.parent / name
            if copy.exists() and stub_check.sha256(copy) == wanted:
                continue
            content = stub_check.from_git(source / "exercises" / meta.parent.name / name, wanted)
            if content is None:
                fail(f"no pristine copy of exercises/{meta.parent.name}/{name} in the git history")
            copy.write_bytes(content)


def run_quietly(command):
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        fail(f"{' '.join(command)} exited {run.returncode}:\n{run.stdout}{run.stderr}")


def run_cli(cli, env, *args, status=None):
    run = subprocess.run([cli, *args], env=env, capture_output=True, text=True, timeout=CHECK_LIMIT)
    output = run.stdout + run.stderr
    if status is not None and run.returncode != status:
        fail(f"workbook {' '.join(args)} exited {run.returncode}, expected {status}:\n{output}")
    return output


def expect(text, *needles):
    for needle in needles:
        if needle not in text:
            fail(f"expected {needle!r} in:\n{text}")


class PtySession:
    """The CLI on a pseudo-terminal: its controlling terminal, as in a shell."""

    def __init__(self, cli, env, *args):
        self.pid, self.master = pty.fork()
        if self.pid == 0:
            os.execve(cli, [cli, *args], env)
        self.output = ""
        self.attributes_before = termios.tcgetattr(self.master)

    def read_until(self, pattern, timeout, start=0):
        """Seconds until `pattern` appears in the output after offset `start`."""
        began = time.monotonic()
        while pattern not in self.output[start:]:
            left = timeout - (time.monotonic() - began)
            if left <= 0:
                fail(f"watch did not print {pattern!r} within {timeout} s; it printed:\n{self.output[start:]}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    fail(f"watch ended before printing {pattern!r}:\n{self.output[start:]}")
                self.output += chunk.decode(errors="replace")
        return time.monotonic() - began

    def send(self, keys):
        os.write(self.master, keys)

    def wait_exit(self, timeout):
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                attributes = termios.tcgetattr(self.master)
                os.close(self.master)
                if attributes[3] != self.attributes_before[3]:
                    fail("watch left the terminal in raw mode (lflag differs)")
                return os.waitstatus_to_exitcode(status)
            try:  # keep draining so the child never blocks on a full terminal
                if select.select([self.master], [], [], 0.05)[0]:
                    self.output += os.read(self.master, 65536).decode(errors="replace")
            except OSError:
                pass
        os.kill(self.pid, signal.SIGKILL)
        fail(f"watch did not exit within {timeout} s")


def save_by_rename(path, text):
    temporary = path.with_name(f".{path.name}.e2e-tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def check_watch(cli, env, exercise, stub, solution):
    step("watch: a rename-over save is re-checked within 2 s and a pass moves on, b goes back, hints show, q quits")
    session = PtySession(cli, env, "watch")
    session.read_until("not started", CHECK_LIMIT)
    session.read_until("watching exercises/", CHECK_LIMIT)
    mark = len(session.output)
    save_by_rename(exercise, solution)
    reaction = session.read_until("checking", REACTION_LIMIT, mark)
    session.read_until("passed", CHECK_LIMIT, mark)
    session.read_until("Moving on to 01", CHECK_LIMIT, mark)
    session.read_until("watching exercises/01-addresses-and-bytes", CHECK_LIMIT, mark)
    print(f"    save -> re-check started in {reaction:.2f} s; passed, and the watch moved on by itself")
    mark = len(session.output)
    session.send(b"b")  # back to the one that passes: it stays there
    session.read_until("Press n to move on", CHECK_LIMIT, mark)
    session.read_until("watching exercises/02-tcp-client-server", CHECK_LIMIT, mark)
    mark = len(session.output)
    session.send(b"h")
    session.read_until("Hints for", 10, mark)
    session.send(b"q")
    if session.wait_exit(10) != 0:
        fail("watch did not exit 0 on q")

    step("watch --poll: an in-place write is re-checked within 2 s, Ctrl-C quits")
    exercise.write_text(stub)
    run_cli(cli, env, "goto", "02", status=0)  # the pass above moved the current exercise on
    session = PtySession(cli, env, "watch", "--poll")
    session.read_until("watching exercises/", CHECK_LIMIT)
    mark = len(session.output)
    with open(exercise, "a") as appended:
        appended.write("\nint broken = ;\n")
    reaction = session.read_until("checking", REACTION_LIMIT, mark)
    session.read_until("does not compile", CHECK_LIMIT, mark)
    session.read_until("watching exercises/", CHECK_LIMIT, mark)
    print(f"    save -> re-check started in {reaction:.2f} s (polling)")
    session.send(b"\x03")
    status = session.wait_exit(10)
    if status != 0:
        fail(f"watch exited {status} on Ctrl-C, not 0:\n{session.output[-2000:]}")
    exercise.write_text(stub)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    cli = str(pathlib.Path(sys.argv[1]).resolve())
    source = pathlib.Path(sys.argv[2]).resolve()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="workbook-e2e-") as temporary:
        root = pathlib.Path(temporary) / "workbook"
        build = root / "build"
        copy_workbook(source, root)
        step("configure the copy and build lesson 02's test binary")
        run_quietly(["meson", "setup", str(build), str(root)])
        run_quietly(["ninja", "-C", str(build), f"tests/test-{LESSON}-exercise"])
        print(f"    ready after {time.monotonic() - started:.1f} s")

        env = dict(os.environ, WORKBOOK_ROOT=str(root), WORKBOOK_BUILD_DIR=str(build), NO_COLOR="1")
        env.pop("WORKBOOK_TEST_TIMEOUT", None)
        exercise = root / "exercises" / LESSON / "echo.cpp"
        stub = exercise.read_text()
        solution = (root / "solutions" / LESSON / "echo.cpp").read_text()
        progress_file = root / ".workbook" / "progress.json"
        meta = json.loads((root / "exercises" / LESSON / "exercise.json").read_text())

        step("usage errors exit 2")
        expect(run_cli(cli, env, "frobnicate", status=2), "unknown command frobnicate", "usage:")
        expect(run_cli(cli, env, "check", "99", status=2), "no lesson 99")

        step("a pristine stub is not started")
        expect(run_cli(cli, env, "check", "02", status=1), "not started", "serve_client")
        expect(run_cli(cli, env, "goto", "02", status=0), "Current exercise: 02")

        step("the test binary wrote its events, and the verdict came from them")
        events = [json.loads(line) for line in (build / "workbook-events" / f"{LESSON}.jsonl").read_text().splitlines()]
        kinds = [event["event"] for event in events]
        if kinds[0] != "run_start" or kinds[-1] != "run_end" or "assertion_failed" not in kinds:
            fail(f"unexpected events from the stub's run: {kinds}")
        failed = next(event for event in events if event["event"] == "assertion_failed")
        if failed["exception"]["type"] != "net::NotImplemented" or not failed["wire"]:
            fail(f"the stub's failure should be a net::NotImplemented with a wire transcript: {failed}")

        step("a wrong count is failing, with expected and got; a SIGPIPE is crashed, with the signal")
        exercise.write_text(solution.replace("return echoed;", "return echoed + 1;", 1))
        expect(run_cli(cli, env, "check", "02", status=1), "failing", "expected:   12", "got:        13",
               "what went over the wire")
        exercise.write_text(solution.replace("std::size_t echoed = 0;", "std::size_t echoed = 0;\n    ::raise(SIGPIPE);", 1)
                            .replace("#include <cerrno>", "#include <cerrno>\n#include <csignal>", 1))
        expect(run_cli(cli, env, "check", "02", status=1), "crashed", "SIGPIPE", "test:       serve_client")

        step("a syntax error does not compile, at the right line")
        lines = stub.splitlines()
        broken_line = next(i for i, line in enumerate(lines, 1) if line.startswith("namespace lesson02")) + 1
        lines.insert(broken_line - 1, "int broken = ;")
        exercise.write_text("\n".join(lines) + "\n")
        expect(run_cli(cli, env, "check", "02", status=1), "does not compile",
               f"exercises/{LESSON}/echo.cpp:{broken_line}:")

        step("the solution passes and advances the progress; unknown entries are kept")
        progress = json.loads(progress_file.read_text())
        progress["lessons"]["99-from-a-later-course"] = {"done": True, "stars": 3}
        progress["theme"] = "dark"
        progress_file.write_text(json.dumps(progress))
        exercise.write_text(solution)
        expect(run_cli(cli, env, "check", "02", status=0), "passed")
        progress = json.loads(progress_file.read_text())
        if not progress["lessons"][LESSON].get("done"):
            fail(f"02 not marked done: {progress}")
        if progress.get("current") == LESSON:
            fail(f"the current exercise did not advance: {progress}")
        if progress["lessons"].get("99-from-a-later-course") != {"done": True, "stars": 3} or progress.get("theme") != "dark":
            fail(f"unknown entries were not kept: {progress}")
        expect(run_cli(cli, env, "list", status=0), "done")

        step("reset restores the stub and keeps a backup")
        output = run_cli(cli, env, "reset", "02", status=0)
        expect(output, ".workbook/backup/")
        if hashlib.sha256(exercise.read_bytes()).hexdigest() != meta["stub_sha256"]["echo.cpp"]:
            fail("reset did not restore the pristine stub")
        backups = list((root / ".workbook" / "backup" / LESSON).glob("*/echo.cpp"))
        if len(backups) != 1 or backups[0].read_text() != solution:
            fail(f"the backup of the learner's file is missing or wrong: {backups}")

        run_cli(cli, env, "goto", "02", status=0)
        check_watch(cli, env, exercise, stub, solution)
    print(f"ok: the CLI end to end in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
