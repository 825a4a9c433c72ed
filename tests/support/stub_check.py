#!/usr/bin/env python3
"""Proves a pristine exercise stub fails its tests as "not started".

    stub_check.py EXERCISE_DIR TEST_BINARY   run by meson (suite "stubs")
    stub_check.py --update [NN-name ...]     maintainers: record the stubs' hashes
                                             (of the lessons named, or of all)

The stub is checked only while its files still match the hashes recorded in
exercise.json: a learner's own work never turns the maintainers' suite red
(the test is skipped, "edited by you"). Under CI a mismatch is an error, so a
changed stub cannot land without its hash being recorded again.
"""
import hashlib
import json
import os
import pathlib
import re
import subprocess
import sys

SKIP = 77  # meson's "skipped" exit status


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stub_files(exercise_dir):
    return sorted(p for p in exercise_dir.iterdir() if p.suffix == ".cpp")


def update(root, names):
    for meta_path in sorted(root.glob("exercises/[0-9][0-9]-*/exercise.json")):
        if names and meta_path.parent.name not in names:
            continue
        meta = json.loads(meta_path.read_text())
        meta["stub_sha256"] = {p.name: sha256(p) for p in stub_files(meta_path.parent)}
        meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
        print(f"recorded {meta_path.relative_to(root)}")


def check(exercise_dir, binary):
    meta = json.loads((exercise_dir / "exercise.json").read_text())
    recorded = meta.get("stub_sha256", {})
    edited = [p.name for p in stub_files(exercise_dir) if recorded.get(p.name) != sha256(p)]
    edited += [name for name in recorded if not (exercise_dir / name).exists()]
    if edited:
        where = ", ".join(f"exercises/{exercise_dir.name}/{name}" for name in edited)
        if os.environ.get("CI"):
            print(f"error: {where} differs from the pristine stub recorded in exercise.json;\n"
                  f"if the stub changed on purpose, run: python3 tests/support/stub_check.py --update")
            return 1
        print(f"skipped: edited by you ({where}); the pristine stub is checked in CI")
        return SKIP

    try:
        run = subprocess.run([str(binary)], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        print(f"error: the tests of the pristine stub {exercise_dir.name} hung for 60 s")
        return 1
    output = run.stdout + run.stderr
    if run.returncode == 0:
        print(output)
        print(f"error: the tests PASSED against the pristine stub of {exercise_dir.name}: they assert nothing")
        return 1
    if "not started" not in output:
        print(output)
        print(f"error: the stub of {exercise_dir.name} failed, but not with net::todo's \"not started\"")
        return 1
    # Every test case must fail against the stub: one that passes asserts
    # nothing about the learner's code (harness self-tests belong in suite unit).
    summary = re.search(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed", output)
    if summary is None or int(summary.group(2)) != 0:
        print(output)
        passed = summary.group(2) if summary else "?"
        print(f"error: {passed} test case(s) of {exercise_dir.name} PASSED against the pristine stub")
        return 1
    print(f"ok: the pristine stub of {exercise_dir.name} fails as not started")
    return 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--update":
        update(pathlib.Path(__file__).resolve().parents[2], sys.argv[2:])
        return 0
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    return check(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]))


if __name__ == "__main__":
    sys.exit(main())
