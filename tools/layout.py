#!/usr/bin/env python3
"""Lists the workbook's lessons and their files, discovered from the tree.

`layout.py meson` prints one record per line for meson.build to read:
    lesson NN-name
    exercise NN-name file.cpp
    solution NN-name file.cpp
    mutant NN-name file.cpp
`layout.py fingerprint` prints a line that changes whenever a lesson, exercise,
solution or mutant file is added or removed (the launcher reconfigures then).
"""
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


def sources(folder):
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.suffix == ".cpp")


def records():
    for name in lesson_names():
        yield f"lesson {name}"
        for kind, top in (("exercise", "exercises"), ("solution", "solutions"), ("mutant", "tests/mutants")):
            for source in sources(ROOT / top / name):
                yield f"{kind} {name} {source}"


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "meson"
    lines = list(records())
    if mode == "meson":
        print("\n".join(lines))
    elif mode == "fingerprint":
        extra = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("lessons/*/meson.build"))
        extra += sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("tests/[0-9][0-9]-*.cpp"))
        print("|".join(lines + extra))
    else:
        sys.exit(f"usage: {sys.argv[0]} [meson|fingerprint]")


if __name__ == "__main__":
    main()
