#!/usr/bin/env python3
"""Save -> verdict, per lesson: the heartbeat of the workbook (check-latency.sh).

For every lesson (or those named with --lesson), the exercise gets the
reference solution's files, and then, N times: one file is saved with a
trivial change (a fresh comment line written to a temporary file and renamed
over the old one, as editors do) and the time to the verdict is taken

  - check: until `workbook check NN` has exited with its verdict;
  - watch: until a running `workbook watch` (no terminal: stdin a pipe, stdout
    a pipe) has printed the verdict of the check the save started;
  - tests: the lesson's test binary alone (--abort-after=1, as the CLI runs
    it), which no CLI can make faster: a lesson whose tests wait on purpose
    (a timeout that must expire, a peer that must give up) is over 0.5 s here.

It prints a median per lesson and mode. The exercise files and
.workbook/progress.json are put back on exit; it works in the repository's
build/ folder, so run it in a clone of your own if others share the checkout.
"""
import argparse
import os
import pathlib
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGET = 0.5  # seconds, the bar for the median


class Failure(Exception):
    pass


def committed(path):
    """The file as the last commit has it (the pristine stub), else as it is."""
    relative = path.relative_to(ROOT).as_posix()
    shown = subprocess.run(["git", "-C", str(ROOT), "show", f"HEAD:{relative}"], capture_output=True, text=True)
    return shown.stdout if shown.returncode == 0 else path.read_text()


class Lesson:
    def __init__(self, name):
        self.name = name
        self.number = name[:2]
        self.exercise = ROOT / "exercises" / name
        self.solution = ROOT / "solutions" / name
        self.files = sorted(p.name for p in self.solution.glob("*.cpp") if (self.exercise / p.name).exists())
        # The file a learner saves: the one whose stub holds a net::todo
        # (lesson 13's client.cpp is given; its response.cpp is the exercise).
        todo = [name for name in self.files if "net::todo(" in committed(self.exercise / name)]
        self.probe = self.exercise / (todo or self.files or [""])[0] if self.files else None
        self.binary = ROOT / "build" / "tests" / f"test-{name}-exercise"


def lessons(selected):
    found = []
    for folder in sorted((ROOT / "exercises").glob("[0-9][0-9]-*")):
        if not (ROOT / "tests" / f"{folder.name}.cpp").exists() or not (ROOT / "solutions" / folder.name).is_dir():
            continue
        if selected and folder.name[:2] not in selected and folder.name not in selected:
            continue
        lesson = Lesson(folder.name)
        if lesson.files:
            found.append(lesson)
    return found


class Probe:
    """Saves the probe file: the base content plus a comment that differs each time."""

    def __init__(self, lesson):
        self.lesson = lesson
        self.base = (lesson.solution / lesson.probe.name).read_text()
        self.count = 0

    def save(self):
        self.count += 1
        temporary = self.lesson.exercise / ".latency-probe.tmp"
        temporary.write_text(f"{self.base}\n// latency probe {self.count} {time.time_ns()}\n")
        os.replace(temporary, self.lesson.probe)


def cli_env():
    env = dict(os.environ, NO_COLOR="1")
    for name in ("WORKBOOK_ROOT", "WORKBOOK_BUILD_DIR"):
        env.pop(name, None)
    return env


def measure_check(cli, lesson, runs):
    probe = Probe(lesson)
    times = []
    for run in range(runs + 1):  # the first builds whatever is stale
        probe.save()
        began = time.monotonic()
        done = subprocess.run([cli, "check", lesson.number], capture_output=True, text=True, timeout=600, env=cli_env())
        elapsed = time.monotonic() - began
        if "passed" not in done.stdout:
            raise Failure(f"check {lesson.number} did not pass:\n{done.stdout[-1500:]}{done.stderr[-500:]}")
        if run > 0:
            times.append(elapsed)
    return times


def measure_tests(lesson, runs):
    times = []
    for _ in range(runs):
        began = time.monotonic()
        done = subprocess.run([str(lesson.binary), "--abort-after=1"], capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, WORKBOOK_TEST_TIMEOUT="15"))
        times.append(time.monotonic() - began)
        if done.returncode != 0:
            raise Failure(f"{lesson.binary.name} failed:\n{done.stdout[-1500:]}")
    return times


class Watch:
    """`workbook watch` without a terminal; its output read as it comes."""

    def __init__(self, cli):
        self.process = subprocess.Popen([cli, "watch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, env=cli_env())
        self.lines = []  # (time it was read, text)
        self.lock = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for raw in self.process.stdout:
            with self.lock:
                self.lines.append((time.monotonic(), raw.decode(errors="replace")))
                self.lock.notify_all()
        with self.lock:
            self.lines.append((time.monotonic(), None))
            self.lock.notify_all()

    def mark(self):
        with self.lock:
            return len(self.lines)

    def wait_for(self, pattern, start, timeout):
        """The time the first line after `start` matching `pattern` was read."""
        deadline = time.monotonic() + timeout
        with self.lock:
            index = start
            while True:
                while index < len(self.lines):
                    when, text = self.lines[index]
                    if text is None:
                        raise Failure("watch ended:\n" + "".join(t for _, t in self.lines[start:] if t))
                    if re.search(pattern, text):
                        return when, index + 1
                    index += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f"watch printed no {pattern!r} within {timeout} s:\n" +
                                  "".join(t for _, t in self.lines[start:] if t)[-2000:])
                self.lock.wait(left)

    def key(self, key):
        self.process.stdin.write(key)
        self.process.stdin.flush()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def measure_watch(cli, lesson, runs):
    subprocess.run([cli, "goto", lesson.number], capture_output=True, timeout=60, env=cli_env(), check=True)
    probe = Probe(lesson)
    probe.save()
    watch = Watch(cli)
    try:
        # The first check passes (it is the solution) and watch moves on to the
        # next exercise: b brings it back, and then it stays on this one.
        _, at = watch.wait_for(r"watching exercises/", 0, 600)
        if any("Moving on to" in text for _, text in watch.lines[:at] if text):
            watch.key(b"b")
            _, at = watch.wait_for(rf"watching exercises/{lesson.name}", at, 600)
        times = []
        for run in range(runs + 1):
            start = watch.mark()
            probe.save()
            began = time.monotonic()
            when, at = watch.wait_for(r"(passed|failing|not started|does not compile|crashed|timed out)\b", start, 600)
            verdict = watch.lines[at - 1][1]
            if "passed" not in verdict:
                raise Failure(f"watch's verdict for {lesson.number} was not passed: {verdict.strip()}")
            watch.wait_for(r"watching exercises/", at, 60)
            if run > 0:
                times.append(when - began)
        return times
    finally:
        watch.stop()


def median(times):
    return f"{statistics.median(times):6.2f} s" if times else "     -  "


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="saves per lesson and mode (default 5)")
    parser.add_argument("--lesson", action="append", default=[], help="NN or name; repeat it; default: every lesson")
    parser.add_argument("--no-watch", action="store_true", help="measure check only")
    parser.add_argument("--launcher", action="store_true", help="check through ./workbook rather than the CLI binary")
    options = parser.parse_args()

    cli = str(ROOT / "build" / "tools" / "workbook" / "workbook")
    if not os.access(cli, os.X_OK):
        sys.exit(f"{cli} is not built: run ./workbook first")
    check_cli = str(ROOT / "workbook") if options.launcher else cli
    chosen = lessons(set(options.lesson))
    if not chosen:
        sys.exit("no lesson with tests and a solution matches")

    keep = pathlib.Path(tempfile.mkdtemp(prefix="check-latency-"))
    progress = ROOT / ".workbook" / "progress.json"
    for lesson in chosen:
        (keep / lesson.name).mkdir()
        for name in lesson.files:
            shutil.copy2(lesson.exercise / name, keep / lesson.name / name)
    had_progress = progress.exists()
    if had_progress:
        shutil.copy2(progress, keep / "progress.json")

    def restore():
        for lesson in chosen:
            for name in lesson.files:
                # A fresh mtime (copy, not copy2): the build holds a binary made
                # from the probe's content, and only a newer file makes ninja rebuild.
                shutil.copy(keep / lesson.name / name, lesson.exercise / name)
            (lesson.exercise / ".latency-probe.tmp").unlink(missing_ok=True)
        if had_progress:
            shutil.copy2(keep / "progress.json", progress)
        else:
            progress.unlink(missing_ok=True)
        shutil.rmtree(keep, ignore_errors=True)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(1))
    print(f"save -> verdict, median of {options.runs} saves of the solution per lesson, on {os.cpu_count()} cores "
          f"(check: {'./workbook' if options.launcher else 'build/tools/workbook/workbook'})")
    print(f"{'lesson':<30} {'check':>8} {'watch':>8} {'tests alone':>12}")
    over = []
    try:
        for lesson in chosen:
            for name in lesson.files:
                shutil.copy(lesson.solution / name, lesson.exercise / name)
            try:
                check = measure_check(check_cli, lesson, options.runs)
                watch = [] if options.no_watch else measure_watch(cli, lesson, options.runs)
                tests = measure_tests(lesson, options.runs)
            except Failure as failure:
                print(f"{lesson.name:<30} error: {failure}")
                continue
            note = ""
            slowest = max(statistics.median(check), statistics.median(watch) if watch else 0)
            if slowest > TARGET:
                # Tests that take the whole budget by themselves wait on purpose
                # (a timeout that must expire): no CLI can bring those under it.
                waits = statistics.median(tests) >= TARGET
                note = "  (its tests alone take that long)" if waits else "  over 0.5 s"
                if not waits:
                    over.append(lesson.name)
            print(f"{lesson.name:<30} {median(check)} {median(watch)} {median(tests):>12}{note}", flush=True)
    finally:
        restore()
    load = os.getloadavg()[0]
    print(f"target: a median of at most {TARGET} s where the tests alone leave room for it; "
          + (f"over it: {', '.join(over)}" if over else "every such lesson meets it")
          + f" (load average {load:.1f} on {os.cpu_count()} cores: measure on an idle machine)")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
