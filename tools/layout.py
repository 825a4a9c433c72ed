#!/usr/bin/env python3
"""Lists the workbook's lessons and their files, discovered from the tree.

`layout.py meson` prints one record per line for meson.build to read:
    lesson NN-name
    exercise NN-name file.cpp
    solution NN-name file.cpp
    mutant NN-name what-is-wrong.patch
    mutant-target NN-name what-is-wrong.patch file.cpp   (each solution file the patch changes)
    uses NN-name http                 (a library of common/ beyond net that the lesson
                                       builds on: exercise.json's "uses", e.g. ["http"])
    given NN-name file.cpp            (an exercise file given complete, exercise.json's
                                       "given": the solution builds it from exercises/)
(The launcher notices added or removed files with a glob of its own and then
has meson configure again, which runs this.)
"""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
LESSON_DIR = re.compile(r"^\d\d-[a-z0-9]+(-[a-z0-9]+)*$")


def lesson_names():
    names = set()
    for top in ("lessons", "exercises", "solutions"):
        folder = ROOT / top
        if folder.is_dir():
            names.update(p.name for p in folder.iterdir() if p.is_dir() and LESSON_DIR.match(p.name))
    return sorted(names)


def sources(folder, suffix=".cpp"):
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.suffix == suffix)


def patch_targets(patch):
    # The '+++ b/solutions/NN-name/file.cpp' lines, or exercises/ for a given file (tests/mutants/README.md).
    found = re.findall(r"^\+\+\+ (?:b/)?(?:solutions|exercises)/[^/]+/(\S+)", patch.read_text(), re.MULTILINE)
    return sorted(set(found))


def records():
    for name in lesson_names():
        yield f"lesson {name}"
        for kind, top in (("exercise", "exercises"), ("solution", "solutions")):
            for source in sources(ROOT / top / name):
                yield f"{kind} {name} {source}"
        meta = ROOT / "exercises" / name / "exercise.json"
        if meta.is_file():
            try:
                meta_json = json.loads(meta.read_text())
            except json.JSONDecodeError:
                meta_json = {}  # check_exercises.py reports it
            for library in meta_json.get("uses", []):
                yield f"uses {name} {library}"
            for given in meta_json.get("given", []):
                yield f"given {name} {given}"
        for patch in sources(ROOT / "tests" / "mutants" / name, ".patch"):
            yield f"mutant {name} {patch}"
            for target in patch_targets(ROOT / "tests" / "mutants" / name / patch):
                yield f"mutant-target {name} {patch} {target}"


def main():
    if sys.argv[1:] not in ([], ["meson"]):
        sys.exit(f"usage: {sys.argv[0]} [meson]")
    print("\n".join(records()))


if __name__ == "__main__":
    main()
