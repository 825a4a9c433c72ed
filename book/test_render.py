#!/usr/bin/env python3
"""The book renders: book/render.py builds the site into OUT, and then every
chapter SUMMARY.md lists has its page, with its title, the sidebar, previous and
next; every ```mermaid block of the markdown is in the page, intact, for
mermaid.min.js to draw; code is highlighted; every relative link and image of
every page resolves; search knows every chapter.

    test_render.py OUT

Skipped (exit 77) without pandoc, except under CI, where pandoc is installed
by ./workbook test and its absence is a failure.
"""
import html
import html.parser
import os
import pathlib
import re
import shutil
import subprocess
import sys
import urllib.parse

BOOK = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(BOOK))
import render  # noqa: E402  (book/render.py: its SUMMARY.md reader)

FENCE = re.compile(r"^(```+|~~~+)\s*mermaid\s*$")


def mermaid_blocks(markdown):
    """The text of each ```mermaid block, as the chapter has it."""
    blocks, lines, index = [], markdown.split("\n"), 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        index += 1
        if not match:
            continue
        body = []
        while index < len(lines) and not lines[index].startswith(match.group(1)):
            body.append(lines[index])
            index += 1
        index += 1
        blocks.append("\n".join(body))
    return blocks


class Page(html.parser.HTMLParser):
    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.links, self.diagrams, self.h1, self.classes = [], [], [], set()
        self._diagram = self._h1 = None
        self.rel = {}
        self.feed(text)

    def handle_starttag(self, tag, attributes):
        attributes = dict(attributes)
        self.classes.update((attributes.get("class") or "").split())
        for name in ("href", "src"):
            if attributes.get(name):
                self.links.append(attributes[name])
        if tag == "a" and attributes.get("rel"):
            self.rel[attributes["rel"]] = attributes.get("href")
        if tag == "pre" and "mermaid" in (attributes.get("class") or "").split():
            self._diagram = []
        if tag == "h1":
            self._h1 = []

    def handle_endtag(self, tag):
        if tag == "pre" and self._diagram is not None:
            self.diagrams.append("".join(self._diagram))
            self._diagram = None
        if tag == "h1" and self._h1 is not None:
            self.h1.append("".join(self._h1).strip())
            self._h1 = None

    def handle_data(self, data):
        if self._diagram is not None:
            self._diagram.append(data)
        if self._h1 is not None:
            self._h1.append(data)


def main():
    out = pathlib.Path(sys.argv[1]).resolve()
    if shutil.which("pandoc") is None:
        if os.environ.get("CI"):
            print("FAIL: pandoc is not installed (./workbook test installs it; CI must render the book)")
            return 1
        print("skipped: pandoc not installed (./workbook book installs it)")
        return 77
    problems = []
    result = subprocess.run([sys.executable, str(BOOK / "render.py"), "--out", str(out),
                             "--progress", "/nonexistent"], capture_output=True, text=True, timeout=600)
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        problems.append(f"render.py exited {result.returncode}:\n{result.stderr}")

    entries = [entry for entry in render.read_summary(BOOK / "src" / "SUMMARY.md") if entry[0] == "chapter"]
    titles = [title for _kind, _level, title, _target in entries]
    highlighted = False
    total_diagrams = 0
    for position, (_kind, _level, title, target) in enumerate(entries):
        source = BOOK / "src" / target
        page_path = out / render.page_name(target)
        if not page_path.is_file():
            problems.append(f"{target}: no page {page_path.name}")
            continue
        text = page_path.read_text()
        page = Page(text)
        if not page.h1:
            problems.append(f"{target}: the page has no <h1> (did the chapter render?)")
        if f"<title>{html.escape(title)}" not in text:
            problems.append(f"{target}: the page's <title> is not {title!r}")
        missing = [t for t in titles if html.escape(t) not in text]
        if missing:
            problems.append(f"{target}: the sidebar lacks {missing}")
        if position > 0 and page.rel.get("prev") != render.page_name(entries[position - 1][3]):
            problems.append(f"{target}: previous links to {page.rel.get('prev')}")
        if position + 1 < len(entries) and page.rel.get("next") != render.page_name(entries[position + 1][3]):
            problems.append(f"{target}: next links to {page.rel.get('next')}")
        expected = mermaid_blocks(source.read_text())
        total_diagrams += len(expected)
        if [d.strip() for d in page.diagrams] != [d.strip() for d in expected]:
            problems.append(f"{target}: {len(expected)} mermaid blocks in the chapter, {len(page.diagrams)} "
                            f"in the page (or their text differs)")
        if expected and "mermaid.min.js" not in text and "show as their Mermaid source" not in text:
            problems.append(f"{target}: diagrams but neither mermaid.min.js nor the note that they show as text")
        highlighted = highlighted or "sourceCode cpp" in text

    if not highlighted:
        problems.append("no chapter has a highlighted C++ block (class sourceCode cpp)")

    # Every relative link and image of every page we wrote resolves.
    pages = sorted(out.rglob("*.html"))
    for page_path in pages:
        for link in Page(page_path.read_text()).links:
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", link) or link.startswith("#"):
                continue
            target = urllib.parse.unquote(link.split("#", 1)[0])
            if target and not (page_path.parent / target).exists():
                problems.append(f"{page_path.relative_to(out)}: link {link} does not resolve")

    search = (out / "search-index.js").read_text() if (out / "search-index.js").is_file() else ""
    for title in titles:
        if f'"page": {json_string(title)}' not in search:
            problems.append(f"search-index.js has nothing from {title!r}")

    for problem in problems:
        print(f"FAIL: {problem}")
    print(f"{len(entries)} chapters, {total_diagrams} diagrams, {len(pages)} pages checked: "
          f"{len(problems)} problems")
    return 1 if problems else 0


def json_string(text):
    import json
    return json.dumps(text, ensure_ascii=False)


if __name__ == "__main__":
    sys.exit(main())
