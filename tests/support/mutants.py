#!/usr/bin/env python3
"""Mutants: small patches that put one classic bug into a lesson's solution.

A mutant is tests/mutants/NN-name/<what-is-wrong>.patch, a unified diff against
solutions/NN-name/<file>.cpp, or against exercises/NN-name/<file>.cpp for a file
exercise.json's "given" names (the solution builds it from there). The free text
before its first '---' line (which patch tools ignore) says what it is and which
test cases must reject it:

    MUTANT: recv_exact calls recv once, as if one recv brought the whole message
    Killed-by: recv_exact reads 1 MB through a re-chunking proxy
    Killed-by (TIMEOUT): a case that can only notice the bug by hanging

One Killed-by line per test case, its exact doctest name (names contain commas).
The case must fail (a failed check, or an exception it reports); a mutant whose
bug shows as a hang or a signal says so in parentheses: (TIMEOUT) for the
watchdog, (SIGPIPE) or another signal's name for a death by that signal.

Contributors:
    mutants.py new NN-name what-is-wrong [file.cpp]   copy the solution to a scratch file to edit
    mutants.py edit NN-name what-is-wrong             the scratch file from an existing patch
    mutants.py diff NN-name what-is-wrong             the patch the scratch file makes
    mutants.py refresh [NN-name [what-is-wrong]]      write the patch(es) back: from the scratch
                                                      file if there is one, else re-based on the
                                                      current solution (the header is kept)
    mutants.py check                                  every patch parses and applies, exactly
The build (tests/meson.build) and the suite:
    mutants.py apply PATCH ROOT OUTPUT...             the mutated file(s), in the order of `targets`
    mutants.py targets PATCH                          the solution files a patch changes
    mutants.py run PATCH TEST_BINARY                  the named cases must fail, each as declared
"""
import difflib
import json
import os
import pathlib
import re
import signal
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRATCH = ROOT / ".workbook" / "mutants"
HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
KILLED_BY = re.compile(r"^Killed-by(?: \((TIMEOUT|SIG[A-Z0-9]+)\))?: (.+)$")


class PatchError(Exception):
    pass


class Patch:
    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.name = self.path.stem
        self.lesson = self.path.parent.name
        if not self.path.is_file():
            raise PatchError(f"no mutant {self.path}")
        lines = self.path.read_text().splitlines(keepends=True)
        first = next((i for i, line in enumerate(lines) if line.startswith("--- ")), len(lines))
        self.header = "".join(lines[:first])
        self.files = parse_diff(lines[first:], self.path)  # [(path, hunks)]
        self.mutant = ""
        self.killed_by = []  # [(case name, expected death or None)]
        for line in self.header.splitlines():
            if line.startswith("MUTANT:"):
                self.mutant = line.removeprefix("MUTANT:").strip()
            elif match := KILLED_BY.match(line):
                self.killed_by.append((match.group(2).strip(), match.group(1)))
        if not self.mutant:
            raise PatchError(f"{self.path}: the header needs a 'MUTANT: <the bug>' line")
        if not self.killed_by:
            raise PatchError(f"{self.path}: the header needs a 'Killed-by: <test case>' line")
        if not self.files:
            raise PatchError(f"{self.path}: no diff after the header")
        for path, _ in self.files:
            if path != source_path(self.lesson, pathlib.PurePosixPath(path).name):
                raise PatchError(f"{self.path}: changes {path}; a mutant changes only solutions/{self.lesson}/*.cpp "
                                 f"and the exercise's given files ({', '.join(given_files(self.lesson)) or 'none'})")

    def targets(self):
        return sorted(pathlib.PurePosixPath(path).name for path, _ in self.files)

    def apply(self, root):
        """{file name: mutated text}; raises PatchError naming the hunk that does not fit."""
        result = {}
        for path, hunks in self.files:
            source = root / path
            if not source.is_file():
                raise PatchError(f"mutant {self.path.relative_to(root)}: {path} does not exist")
            text = source.read_text().splitlines(keepends=True)
            result[pathlib.PurePosixPath(path).name] = "".join(apply_hunks(text, hunks, f"mutant {self.lesson}/{self.name} ({path})"))
        return result


def parse_diff(lines, where):
    files = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith("--- "):
            i += 1
            continue
        if i + 1 >= len(lines) or not lines[i + 1].startswith("+++ "):
            raise PatchError(f"{where}: '---' without '+++' at diff line {i + 1}")
        path = lines[i + 1][4:].strip().split("\t")[0]
        path = path[2:] if path.startswith("b/") else path
        i += 2
        hunks = []
        while i < len(lines) and (match := HUNK.match(lines[i])):
            header = lines[i].rstrip("\n")
            old_len = int(match.group(2) or 1)
            new_len = int(match.group(4) or 1)
            old, new = [], []
            last = ()  # the side(s) the line before went to
            i += 1
            while i < len(lines) and (len(old) < old_len or len(new) < new_len or lines[i].startswith("\\")):
                line = lines[i]
                if line.startswith("\\"):  # "\ No newline at end of file": the line before has none
                    for side in last:
                        side[-1] = side[-1].removesuffix("\n")
                elif line[:1] in (" ", "\n"):
                    old.append(line[1:] or "\n")
                    new.append(line[1:] or "\n")
                    last = (old, new)
                elif line[:1] == "-":
                    old.append(line[1:])
                    last = (old,)
                elif line[:1] == "+":
                    new.append(line[1:])
                    last = (new,)
                else:
                    raise PatchError(f"{where}: hunk {header}: unexpected line {line!r}")
                i += 1
            if len(old) != old_len or len(new) != new_len:
                raise PatchError(f"{where}: hunk {header} is cut short")
            hunks.append((header, int(match.group(1)), old, new))
        files.append((path, hunks))
    return files


def apply_hunks(text, hunks, what):
    """Exact context, no fuzz: a hunk applies where it says, or (the file having
    grown or shrunk above it) at the one other place its old lines appear."""
    out = []
    position = 0  # next line of `text` not yet copied
    shift = 0     # how far earlier hunks found their place from where they said
    for number, (header, start, old, new) in enumerate(hunks, 1):
        expected = max(start - 1, 0) + shift if old else start + shift
        at = expected if text[expected:expected + len(old)] == old else None
        if at is None:
            places = [p for p in range(position, len(text) - len(old) + 1) if text[p:p + len(old)] == old]
            if len(places) != 1:
                why = "its lines appear nowhere else" if not places else f"its lines appear {len(places)} times"
                have = text[expected:expected + len(old)]
                first = next((i for i, line in enumerate(old) if i >= len(have) or have[i] != line), 0)
                found = have[first].rstrip("\n") if first < len(have) else "(the end of the file)"
                raise PatchError(f"{what} no longer applies: hunk {number} ({header}) does not match at line "
                                 f"{expected + 1}, and {why}.\n  line {expected + first + 1}: the patch expects "
                                 f"{old[first].rstrip(chr(10))!r}\n  line {expected + first + 1}: the file has     "
                                 f"{found!r}")
            at = places[0]
        if at < position:
            raise PatchError(f"{what}: hunk {number} ({header}) overlaps the one before it")
        shift = at - max(start - 1, 0) if old else at - start
        out += text[position:at] + new
        position = at + len(old)
    return out + text[position:]


def make_diff(path, before, after):
    a = before.splitlines(keepends=True)
    b = after.splitlines(keepends=True)
    lines = list(difflib.unified_diff(a, b, f"a/{path}", f"b/{path}", n=3))
    for i, line in enumerate(lines):
        if not line.endswith("\n"):
            lines[i] = line + "\n\\ No newline at end of file\n"
    return "".join(lines)


def patch_path(lesson, name):
    return ROOT / "tests" / "mutants" / lesson / f"{name}.patch"


def given_files(lesson):
    """The exercise files given complete (exercise.json's "given"): they live in exercises/ only."""
    meta = ROOT / "exercises" / lesson / "exercise.json"
    return json.loads(meta.read_text()).get("given", []) if meta.is_file() else []


def source_path(lesson, file):
    """Where the solution's `file` is: solutions/, or exercises/ for a given one."""
    return f"exercises/{lesson}/{file}" if file in given_files(lesson) else f"solutions/{lesson}/{file}"


def all_patches():
    return sorted((ROOT / "tests" / "mutants").glob("[0-9][0-9]-*/*.patch"))


def scratch_dir(lesson, name):
    return SCRATCH / lesson / name


# --- contributor commands ------------------------------------------------------

def cmd_new(lesson, name, file=None):
    solutions = sorted([*(ROOT / "solutions" / lesson).glob("*.cpp"),
                        *(ROOT / "exercises" / lesson / given for given in given_files(lesson))], key=lambda p: p.name)
    if not solutions:
        raise PatchError(f"solutions/{lesson} has no .cpp file")
    if patch_path(lesson, name).exists():
        raise PatchError(f"{patch_path(lesson, name).relative_to(ROOT)} exists: use 'edit {lesson} {name}'")
    chosen = [p for p in solutions if p.name == file] if file else solutions[:1]
    if not chosen or (len(solutions) > 1 and not file):
        raise PatchError(f"say which file of the solution to mutate: {', '.join(p.name for p in solutions)}")
    target = scratch_dir(lesson, name)
    target.mkdir(parents=True, exist_ok=True)
    (target / chosen[0].name).write_text(chosen[0].read_text())
    (target / "header").write_text("MUTANT: <the bug, as a learner would write it>\n"
                                   "Killed-by: <the exact name of the test case that rejects it>\n")
    print(f"edit {(target / chosen[0].name).relative_to(ROOT)} (and the header in "
          f"{(target / 'header').relative_to(ROOT)}), then: tests/support/mutants.py refresh {lesson} {name}")


def cmd_edit(lesson, name):
    patch = Patch(patch_path(lesson, name))
    target = scratch_dir(lesson, name)
    target.mkdir(parents=True, exist_ok=True)
    try:
        mutated = patch.apply(ROOT)
    except PatchError as error:
        # The solution moved under the patch: start again from the solution.
        print(f"{error}\n\nThe scratch copy is the current solution: put the bug back in, as the old patch did:\n")
        print(patch.path.read_text())
        mutated = {file: (ROOT / source_path(lesson, file)).read_text() for file in patch.targets()}
    for file, text in mutated.items():
        (target / file).write_text(text)
        print(f"edit {(target / file).relative_to(ROOT)}, then: tests/support/mutants.py refresh {lesson} {name}")


def patch_from_scratch(lesson, name):
    target = scratch_dir(lesson, name)
    path = patch_path(lesson, name)
    header = header_of(path) if path.exists() else (target / "header").read_text()
    diffs = []
    for edited in sorted(target.glob("*.cpp")):
        relative = source_path(lesson, edited.name)
        diffs.append(make_diff(relative, (ROOT / relative).read_text(), edited.read_text()))
    if not "".join(diffs):
        raise PatchError(f"{target.relative_to(ROOT)}: the scratch copy is the solution: no bug yet")
    return header + "".join(diffs)


def header_of(path):
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line.startswith("--- ")), len(lines))
    return "".join(lines[:first])


def rebased(path):
    """The patch re-made against the current solution (same bug, fresh line numbers and context)."""
    patch = Patch(path)
    mutated = patch.apply(ROOT)
    diffs = []
    for relative, _ in patch.files:
        diffs.append(make_diff(relative, (ROOT / relative).read_text(), mutated[pathlib.PurePosixPath(relative).name]))
    return patch.header + "".join(diffs)


def cmd_diff(lesson, name):
    sys.stdout.write(patch_from_scratch(lesson, name))


def cmd_refresh(lesson=None, name=None):
    paths = [patch_path(lesson, name)] if name else [
        p for p in all_patches() if lesson is None or p.parent.name == lesson]
    for path in paths:
        text = patch_from_scratch(path.parent.name, path.stem) if scratch_dir(path.parent.name, path.stem).is_dir() else rebased(path)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            Patch(path)  # still well formed
            print(f"wrote {path.relative_to(ROOT)}")


def cmd_check():
    problems = 0
    patches = all_patches()
    for path in patches:
        try:
            patch = Patch(path)
            patch.apply(ROOT)
            if rebased(path) != path.read_text():
                print(f"note: {path.relative_to(ROOT)} applies, but its context moved: "
                      f"tests/support/mutants.py refresh {patch.lesson} {patch.name}")
            # The lesson's test file, or files if it has been split (the suite proves the names for certain).
            tests = [*(ROOT / "tests").glob(f"{patch.lesson}*.cpp"), *(ROOT / "tests" / patch.lesson).rglob("*.cpp")]
            source = "".join(test.read_text() for test in tests)
            for case, _ in patch.killed_by:
                quoted = '"' + case.replace("\\", "\\\\").replace('"', '\\"') + '"'
                if quoted not in source:
                    print(f"error: {path.relative_to(ROOT)}: no test case named {case!r} in tests/{patch.lesson}*")
                    problems += 1
        except PatchError as error:
            print(f"error: {error}")
            problems += 1
    print(f"checked {len(patches)} mutants, {problems} problems")
    return 1 if problems else 0


# --- build and suite ------------------------------------------------------------

def cmd_apply(patch_file, root, *outputs):
    try:
        patch = Patch(patch_file)
        mutated = patch.apply(pathlib.Path(root))
    except PatchError as error:
        name = pathlib.Path(patch_file)
        print(f"error: {error}\nRemake the mutant on the current solution: python3 tests/support/mutants.py "
              f"edit {name.parent.name} {name.stem}, then refresh (tests/mutants/README.md)", file=sys.stderr)
        return 1
    if len(outputs) != len(patch.targets()):
        print(f"error: {patch_file} changes {patch.targets()}, meson expected {len(outputs)} file(s): "
              f"reconfigure (meson setup --reconfigure)", file=sys.stderr)
        return 1
    for file, output in zip(patch.targets(), outputs):
        pathlib.Path(output).write_text(mutated[file])
    return 0


def doctest_names(binary, pattern, env):
    run = subprocess.run([binary, "--list-test-cases", "--no-intro=true", f"--test-case={pattern}"],
                         capture_output=True, text=True, errors="replace", timeout=30, env=env)
    lines = run.stdout.splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith("=====")]
    return lines[rules[0] + 1:rules[1]] if len(rules) >= 2 else []


def filter_pattern(case):
    # doctest splits -tc= at commas and treats * and ? as wildcards (and older
    # versions have no escape): each such character becomes '?', and the listing
    # proves the pattern picks exactly this one case.
    return re.sub(r"[,*?\\]", "?", case)


def death(returncode, output):
    if returncode < 0:
        return signal.Signals(-returncode).name
    if returncode == 124 and "TIMEOUT:" in output:
        return "TIMEOUT"
    return None


def cmd_run(patch_file, binary):
    patch = Patch(patch_file)
    env = dict(os.environ)
    print(f"mutant {patch.lesson}/{patch.name}: {patch.mutant}")
    survived = 0
    for case, expected in patch.killed_by:
        pattern = filter_pattern(case)
        try:
            names = doctest_names(binary, pattern, env)
        except OSError as error:
            print(f"error: cannot run the mutant's tests: {error}")
            return 1
        if names != [case]:
            print(f"error: the filter {pattern!r} picks {names} from {binary}, not exactly {case!r}: "
                  f"check the Killed-by line of {patch_file}")
            return 1
        try:
            run = subprocess.run([binary, f"--test-case={pattern}", "--case-sensitive=true"],
                                 capture_output=True, text=True, errors="replace", timeout=300, env=env)
            output, code = run.stdout + run.stderr, run.returncode
        except subprocess.TimeoutExpired as timeout:
            parts = (timeout.stdout, timeout.stderr)
            output = "".join(p.decode(errors="replace") if isinstance(p, bytes) else p or "" for p in parts)
            code = None
        print(f"\n--- {case} ---\n{output.rstrip()}\n")
        died = death(code, output) if code is not None else "a hang the watchdog did not end"
        summary = re.search(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed", output)
        failed = code == 1 and summary is not None and summary.groups() == ("1", "0", "1")
        if expected is None and failed:
            print(f"killed: {case!r} failed")
        elif expected is not None and died == expected:
            print(f"killed: {case!r} ended in {expected}, as the patch says")
        else:
            got = ("passed" if code == 0 else "failed its checks" if failed else
                   f"ended in {died}" if died else f"exited {code}")
            want = "fail its checks" if expected is None else f"end in {expected}"
            print(f"error: against mutant {patch.lesson}/{patch.name}, {case!r} {got}; it should {want}")
            survived += 1
    return 1 if survived else 0


def main(argv):
    commands = {"new": (cmd_new, 2, 3), "edit": (cmd_edit, 2, 2), "diff": (cmd_diff, 2, 2),
                "refresh": (cmd_refresh, 0, 2), "check": (cmd_check, 0, 0), "apply": (cmd_apply, 3, 99),
                "targets": (lambda p: print("\n".join(Patch(p).targets())), 1, 1), "run": (cmd_run, 2, 2)}
    if not argv or argv[0] not in commands or not commands[argv[0]][1] <= len(argv) - 1 <= commands[argv[0]][2]:
        sys.exit(__doc__)
    function = commands[argv[0]][0]
    try:
        return function(*argv[1:]) or 0
    except PatchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
