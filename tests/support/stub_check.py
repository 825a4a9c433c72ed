#!/usr/bin/env python3
"""Proves a pristine exercise stub fails its tests as "not started".

    stub_check.py EXERCISE_DIR TEST_BINARY PRISTINE...   run by meson (suite "stubs")
    stub_check.py --write-pristine EXERCISES OUTPUT...     run by the build: writes the
                                                 pristine stub files (each OUTPUT is
                                                 named pristine-NN-name-<file>.cpp)
    stub_check.py --update [NN-name ...]         maintainers: record the stubs' hashes
                                                 (of the lessons named, or of all)

The test binary is built from a copy of the pristine stub in the build folder,
never from the learner's file: what the learner's build holds (their work, or a
restored file with an old mtime) cannot change the verdict. The pristine content
is the file whose sha256 exercise.json records: the exercise file while it still
matches, else that version from git history. Only without either is the check
skipped ("edited by you"). Under CI a stub that differs from its record is an
error, so a changed stub cannot land without its hash being recorded again.
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


def recorded_hashes(exercise_dir):
    return json.loads((exercise_dir / "exercise.json").read_text()).get("stub_sha256", {})


def from_git(path, wanted):
    """The content of `path` in some commit whose sha256 is `wanted`, or None."""
    def git(*args, **kwargs):
        return subprocess.run(["git", "-C", str(path.parent), *args], capture_output=True, timeout=30, **kwargs)
    try:
        commits = git("log", "--all", "--format=%H", "--", path.name)
        if commits.returncode != 0:
            return None
        names = "".join(f"{commit}:./{path.name}\n" for commit in commits.stdout.decode().split())
        blobs = git("cat-file", "--batch", input=names.encode()).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    while blobs:  # "<sha> blob <size>\n<content>\n" per name ("... missing\n" for none)
        header, _, rest = blobs.partition(b"\n")
        fields = header.split()
        size = int(fields[2]) if len(fields) == 3 else 0
        content, blobs = rest[:size], rest[size + 1:] if len(fields) == 3 else rest
        if len(fields) == 3 and hashlib.sha256(content).hexdigest() == wanted:
            return content
    return None


def write_pristine(exercises_root, outputs):
    lessons = sorted((p.name for p in exercises_root.iterdir() if p.is_dir()), key=len, reverse=True)
    for output in outputs:
        rest = output.name.removeprefix("pristine-")  # pristine-NN-name-<file>
        lesson = next(name for name in lessons if rest.startswith(name + "-"))
        stub = exercises_root / lesson / rest.removeprefix(lesson + "-")
        wanted = recorded_hashes(stub.parent).get(stub.name)
        if output.exists() and sha256(output) == wanted:
            continue  # already pristine: its mtime stays, nothing recompiles
        content = None
        if stub.exists() and sha256(stub) == wanted:
            content = stub.read_bytes()
        elif wanted:
            content = from_git(stub, wanted)
        if content is None:
            # No pristine copy anywhere: build the learner's file so the build
            # goes on; the check sees the hash and skips ("edited by you").
            content = stub.read_bytes() if stub.exists() else b""
        if not output.exists() or output.read_bytes() != content:
            tmp = output.with_name(output.name + ".tmp")
            tmp.write_bytes(content)
            tmp.replace(output)
    return 0


def check(exercise_dir, binary, pristine):
    recorded = recorded_hashes(exercise_dir)
    edited = [p.name for p in stub_files(exercise_dir) if recorded.get(p.name) != sha256(p)]
    edited += [name for name in recorded if not (exercise_dir / name).exists()]
    where = ", ".join(f"exercises/{exercise_dir.name}/{name}" for name in edited)
    if edited and os.environ.get("CI"):
        print(f"error: {where} differs from the pristine stub recorded in exercise.json;\n"
              f"if the stub changed on purpose, run: python3 tests/support/stub_check.py --update")
        return 1
    prefix = f"pristine-{exercise_dir.name}-"
    built = {p.name.removeprefix(prefix): sha256(p) if p.exists() else None for p in pristine}
    if not recorded or any(built.get(name) != digest for name, digest in recorded.items()):
        if recorded and not edited:
            print(f"error: the pristine stub in the build folder is not the one exercise.json records: build first")
            return 1
        print(f"skipped: edited by you ({where or 'exercise.json'}) and no pristine copy in git history; "
              f"the pristine stub is checked in CI")
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
    note = f" (built from its recorded version; your {where} is left alone)" if edited else ""
    print(f"ok: the pristine stub of {exercise_dir.name} fails as not started{note}")
    return 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--update":
        update(pathlib.Path(__file__).resolve().parents[2], sys.argv[2:])
        return 0
    if len(sys.argv) >= 3 and sys.argv[1] == "--write-pristine":
        return write_pristine(pathlib.Path(sys.argv[2]), [pathlib.Path(p) for p in sys.argv[3:]])
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    return check(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), [pathlib.Path(p) for p in sys.argv[3:]])


if __name__ == "__main__":
    sys.exit(main())
