#!/usr/bin/env python3
"""Checks the book against the sources.

1. A code block right below a line of the form  From `path/to/file`:  must
   appear verbatim in that file (as consecutive lines; a line that is just
   `// ...` inside the block marks an elision and splits it into pieces that
   must each appear, in order).
2. Every relative link [text](target) resolves to an existing file (anchors
   and external URLs are not checked: the book is read offline).
"""
import pathlib
import re
import sys

SOURCE_LINE = re.compile(r"^From `([^`]+)`:\s*$")
FENCE = re.compile(r"^(```+|~~~+)(.*)$")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
ELISION = {"// ...", "# ..."}


def code_blocks(lines):
    """Yields (line_number, info, body_lines, source_path_or_None)."""
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, info = match.group(1), match.group(2).strip()
        start = i
        source = None
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        if j >= 0:
            source_match = SOURCE_LINE.match(lines[j].strip())
            if source_match:
                source = source_match.group(1)
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith(fence):
            body.append(lines[i])
            i += 1
        yield start + 1, info, body, source
        i += 1


def pieces(body):
    piece = []
    for line in body:
        if line.strip() in ELISION:
            if piece:
                yield piece
            piece = []
        else:
            piece.append(line)
    if piece:
        yield piece


def find_piece(file_lines, piece, start):
    for k in range(start, len(file_lines) - len(piece) + 1):
        if file_lines[k:k + len(piece)] == piece:
            return k + len(piece)
    return -1


def check_chapter(root, chapter):
    problems = []
    text = chapter.read_text()
    lines = text.split("\n")
    in_code = set()
    for number, _info, body, source in code_blocks(lines):
        in_code.update(range(number, number + len(body) + 2))
        if source is None:
            continue
        path = root / source
        if not path.is_file():
            problems.append(f"{chapter.name}:{number}: source {source} does not exist")
            continue
        file_lines = path.read_text().split("\n")
        position = 0
        for piece in pieces(body):
            found = find_piece(file_lines, piece, position)
            if found < 0:
                problems.append(f"{chapter.name}:{number}: block no longer matches {source} "
                                f"(first line: {piece[0].strip()!r}); copy it again from the source")
                break
            position = found
    for index, line in enumerate(lines, start=1):
        if index in in_code:
            continue
        for target in LINK.findall(line):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            target_path = (chapter.parent / target.split("#", 1)[0]).resolve()
            if not target_path.exists():
                problems.append(f"{chapter.name}:{index}: link {target} does not resolve")
    return problems


def main():
    root = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[1]
    chapters = sorted((root / "book" / "src").glob("*.md")) + [root / "README.md"]
    problems = [p for chapter in chapters if chapter.is_file() for p in check_chapter(root, chapter)]
    for problem in problems:
        print(f"FAIL: {problem}")
    print(f"checked {len(chapters)} pages, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
