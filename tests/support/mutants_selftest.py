#!/usr/bin/env python3
"""Self-test of tests/support/mutants.py (suite unit): patches apply exactly or
fail naming the hunk, headers parse, and `run` counts only the declared ending of
the named case as a kill (against a fake doctest binary)."""
import os
import pathlib
import sys
import tempfile

from mutants import PatchError, Patch, cmd_run, filter_pattern, make_diff

FAKE_DOCTEST = """#!{python}
import os, signal, sys
names = os.environ["FAKE_NAMES"].split("|")
if "--list-test-cases" in sys.argv:
    print("[doctest] listing all test case names\\n" + "=" * 79)
    print("\\n".join(names) + "\\n" + "=" * 79)
    sys.exit(0)
how = os.environ["FAKE_ENDING"]
if how == "fail":
    print("[doctest] test cases: 1 | 0 passed | 1 failed | 0 skipped")
    sys.exit(1)
if how == "pass":
    print("[doctest] test cases: 1 | 1 passed | 0 failed | 0 skipped")
    sys.exit(0)
if how == "timeout":
    print('TIMEOUT: test case "x" was still running after 20 s')
    sys.exit(124)
signal.signal(getattr(signal, how), signal.SIG_DFL)
os.kill(os.getpid(), getattr(signal, how))
"""


def main():
    failures = []

    def expect(condition, what):
        if not condition:
            failures.append(what)

    def raises(function, text):
        try:
            function()
        except PatchError as error:
            return text in str(error)
        return False

    with tempfile.TemporaryDirectory() as folder:
        root = pathlib.Path(folder)
        (root / "solutions" / "99-x").mkdir(parents=True)
        (root / "tests" / "mutants" / "99-x").mkdir(parents=True)
        solution = root / "solutions" / "99-x" / "x.cpp"
        lines = [f"line {i};\n" for i in range(1, 30)]
        solution.write_text("".join(lines))
        mutated = "".join(lines).replace("line 15;", "line 15 (the bug);")
        patch = root / "tests" / "mutants" / "99-x" / "bug.patch"
        header = "MUTANT: the bug\nKilled-by: a case, with a comma\nKilled-by (TIMEOUT): another case\n"
        patch.write_text(header + make_diff("solutions/99-x/x.cpp", solution.read_text(), mutated))

        loaded = Patch(patch)
        expect(loaded.killed_by == [("a case, with a comma", None), ("another case", "TIMEOUT")], "header parsing")
        expect(loaded.targets() == ["x.cpp"], "targets")
        expect(loaded.apply(root)["x.cpp"] == mutated, "applies exactly")
        solution.write_text("new first line;\n" + "".join(lines))
        expect(loaded.apply(root)["x.cpp"] == "new first line;\n" + mutated, "applies where its lines moved (once)")
        solution.write_text("".join(lines).replace("line 13;", "line 13 (edited);"))
        expect(raises(lambda: loaded.apply(root), "hunk 1"), "a changed context line fails, naming the hunk")
        solution.write_text("new first line;\n" + "".join(lines) + "".join(lines[11:18]))
        expect(raises(lambda: loaded.apply(root), "2 times"), "moved, and its lines twice in the file: fails")
        solution.write_text("a\nb")
        patch.write_text(header + make_diff("solutions/99-x/x.cpp", "a\nb", "a\nc\n"))
        expect(Patch(patch).apply(root)["x.cpp"] == "a\nc\n", "a file without a final newline")
        patch.write_text("Killed-by: x\n" + make_diff("solutions/99-x/x.cpp", "a\n", "b\n"))
        expect(raises(lambda: Patch(patch), "MUTANT"), "a header without MUTANT: is refused")
        expect(filter_pattern("a, b*c?d\\e") == "a? b?c?d?e", "filter pattern")

        fake = root / "fake-doctest"
        fake.write_text(FAKE_DOCTEST.format(python=sys.executable))
        fake.chmod(0o755)
        for declared, ending, killed in [("", "fail", True), ("", "pass", False), ("", "SIGSEGV", False),
                                         ("", "timeout", False), (" (TIMEOUT)", "timeout", True),
                                         (" (TIMEOUT)", "fail", False), (" (SIGPIPE)", "SIGPIPE", True)]:
            patch.write_text(f"MUTANT: m\nKilled-by{declared}: a case, with a comma\n"
                             + make_diff("solutions/99-x/x.cpp", "a\n", "b\n"))
            os.environ.update(FAKE_NAMES="a case, with a comma", FAKE_ENDING=ending)
            with open(os.devnull, "w") as quiet:
                stdout, sys.stdout = sys.stdout, quiet
                try:
                    code = cmd_run(patch, str(fake))
                finally:
                    sys.stdout = stdout
            expect((code == 0) == killed, f"run: declared '{declared}', the case ends in {ending}")
        os.environ.update(FAKE_NAMES="a case, with a comma|a case? with a comma", FAKE_ENDING="fail")
        with open(os.devnull, "w") as quiet:
            stdout, sys.stdout = sys.stdout, quiet
            try:
                code = cmd_run(patch, str(fake))
            finally:
                sys.stdout = stdout
        expect(code == 1, "run: a filter that picks two cases is an error")

    for failure in failures:
        print(f"FAILED: {failure}")
    print(f"mutants.py self-test: {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
