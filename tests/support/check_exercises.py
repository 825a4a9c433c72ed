#!/usr/bin/env python3
"""Checks every lesson against the lesson contract (README.md, "Adding a
lesson"): exercise.json has a title, an existing chapter, 2-4 hints and the stub
hashes; the solution has the same files as the stub (less the files
exercise.json's "given" names, which both build from exercises/); the test file exists;
lessons from 03 on have at least two mutants (tests/mutants/NN-name/*.patch),
from 08 on at least three; the chapter is listed in book/src/SUMMARY.md."""
import json
import pathlib
import re
import sys


def check_lesson(root, exercise_dir, summary):
    name = exercise_dir.name
    problems = []
    meta_path = exercise_dir / "exercise.json"
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        return [f"{meta_path.relative_to(root)}: {error}"]
    if not isinstance(meta.get("title"), str) or not meta["title"].strip():
        problems.append("exercise.json: no title")
    chapter = meta.get("chapter", "")
    if not chapter or not (root / chapter).is_file():
        problems.append(f"exercise.json: chapter {chapter!r} does not exist")
    elif pathlib.Path(chapter).name not in summary:
        problems.append(f"{chapter} is not listed in book/src/SUMMARY.md")
    hints = meta.get("hints", [])
    if not isinstance(hints, list) or not 2 <= len(hints) <= 4 or not all(isinstance(h, str) and h for h in hints):
        problems.append("exercise.json: needs 2 to 4 hints (a nudge first, nearly the answer last)")
    stubs = sorted(p.name for p in exercise_dir.glob("*.cpp"))
    if not stubs:
        problems.append("no .cpp stub")
    if sorted(meta.get("stub_sha256", {})) != stubs:
        problems.append("exercise.json: stub_sha256 does not list exactly the stub files "
                        "(run python3 tests/support/stub_check.py --update)")
    given = meta.get("given", [])
    if not isinstance(given, list) or not set(given) <= set(stubs):
        problems.append(f"exercise.json: given {given!r} must name files of the exercise")
        given = []
    solutions = sorted(p.name for p in (root / "solutions" / name).glob("*.cpp"))
    if sorted(solutions + given) != stubs:
        problems.append(f"solutions/{name} has {solutions} and the exercise gives {given}: "
                        f"together they must be the exercise's {stubs}, each once")
    if not (root / "tests" / f"{name}.cpp").is_file():
        problems.append(f"tests/{name}.cpp is missing")
    number = int(name[:2])
    mutants = list((root / "tests" / "mutants" / name).glob("*.patch"))
    needed = 3 if number >= 8 else 2 if number >= 3 else 0
    if len(mutants) < needed:
        problems.append(f"tests/mutants/{name}/ needs at least {needed} mutants (it has {len(mutants)})")
    return [f"{name}: {p}" for p in problems]


def main():
    root = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2]
    summary = (root / "book" / "src" / "SUMMARY.md").read_text()
    lessons = sorted(p for p in (root / "exercises").iterdir() if p.is_dir() and re.match(r"^\d\d-", p.name))
    problems = [p for lesson in lessons for p in check_lesson(root, lesson, summary)]
    for problem in problems:
        print(f"FAIL: {problem}")
    print(f"checked {len(lessons)} lessons, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
