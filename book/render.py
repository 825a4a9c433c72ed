#!/usr/bin/env python3
"""Renders the book (book/src, in SUMMARY.md's order) as a static site.

    python3 book/render.py [--out build/book] [--progress .workbook/progress.json]
                           [--mermaid path/to/mermaid.min.js]

Markdown goes through pandoc (GitHub's dialect, code highlighted); this script
walks pandoc's syntax tree in between to:
- turn ```mermaid blocks into <pre class="mermaid"> that mermaid.min.js (copied
  beside the pages, so nothing is fetched when the book is read) draws as SVG;
- point links at the rendered pages: a chapter's .md becomes its .html, a
  source file (../../common/net/tcp.hpp) gets a page of its own under source/
  with its code highlighted, since a browser shown a .hpp over file:// offers
  to download it instead of showing it;
- make the line ``From `path`:`` above a copied block a link to that source;
- collect each section's text for the search box.

Every page is written from book/theme/page.html; the sidebar lists SUMMARY.md
with the learner's progress (from .workbook/progress.json) beside each lesson.
Prints one line per problem on stderr and exits 1 if pandoc failed or warned.
"""
import argparse
import concurrent.futures
import datetime
import hashlib
import html
import json
import os
import pathlib
import re
import shutil
import string
import subprocess
import sys

import mermaid  # book/mermaid.py

BOOK = pathlib.Path(__file__).resolve().parent
ROOT = BOOK.parent
SRC = BOOK / "src"
THEME = BOOK / "theme"
HIGHLIGHT_STYLE = "pygments"
BOOK_TITLE = "Network Programming Workbook"

# What a source file's extension says about the language pandoc highlights it as.
LANGUAGES = {".cpp": "cpp", ".hpp": "cpp", ".h": "cpp", ".cc": "cpp", ".py": "python",
             ".json": "json", ".sh": "bash", ".patch": "diff", ".diff": "diff",
             ".toml": "ini", ".build": "python", ".txt": "", ".html": "html", ".js": "javascript"}
SUMMARY_ENTRY = re.compile(r"^(\s*)(?:[-*+]\s+)?\[([^\]]+)\]\(([^)]*)\)\s*$")
VERDICT_MARKS = {"passed": ("✓", "passed")}  # any other verdict: started


class Problems(list):
    def add(self, message):
        self.append(message)
        print(f"problem: {message}", file=sys.stderr)


# --- SUMMARY.md ----------------------------------------------------------------

def read_summary(path):
    """[(kind, level, title, file)]: kind is 'chapter', 'draft' (no file yet,
    mdBook's [Title]()) or 'part' (a # heading after the first)."""
    entries = []
    seen_title = False
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            if seen_title:
                entries.append(("part", 0, line.lstrip("#").strip(), None))
            seen_title = True
            continue
        match = SUMMARY_ENTRY.match(line)
        if not match:
            continue
        indent, title, target = match.groups()
        level = len(indent.expandtabs(4)) // 2
        entries.append(("chapter" if target else "draft", level, title, target or None))
    return entries


def page_name(markdown_file):
    return pathlib.PurePosixPath(markdown_file).with_suffix(".html").as_posix()


# --- pandoc ----------------------------------------------------------------------

def pandoc(args, text, problems, what):
    result = subprocess.run(["pandoc", *args], input=text, capture_output=True, text=True)
    if result.returncode != 0:
        problems.add(f"{what}: pandoc failed: {result.stderr.strip()}")
        return None
    for warning in result.stderr.strip().splitlines():
        problems.add(f"{what}: pandoc: {warning}")
    return result.stdout


def highlighting_css(problems):
    """pandoc writes its highlighting CSS only into standalone documents: render
    one whose template is nothing but that CSS."""
    template = THEME / "highlighting.template"
    css = pandoc(["-f", "gfm", "-t", "html5", "-s", f"--template={template}",
                  f"--highlight-style={HIGHLIGHT_STYLE}", "--metadata", "title=css"],
                 "```cpp\nint x;\n```\n", problems, "highlighting CSS")
    return css or ""


def plain_text(node):
    """The words of a piece of pandoc's tree, for search."""
    if isinstance(node, list):
        return "".join(plain_text(item) for item in node)
    if not isinstance(node, dict):
        return ""
    kind, content = node.get("t"), node.get("c")
    if kind == "Str":
        return content
    if kind in ("Space", "SoftBreak", "LineBreak"):
        return " "
    if kind == "Code":
        return content[1]
    if kind == "CodeBlock":
        return "\n" + content[1] + "\n"
    if kind == "RawBlock" or kind == "RawInline":
        return ""
    text = plain_text(content)
    return text + ("\n" if kind in ("Para", "Plain", "Header") else "")


class Chapter:
    def __init__(self, source, title, out_dir):
        self.source = source          # a path under book/src (or elsewhere, for README.md)
        self.title = title
        self.page = out_dir / page_name(source.relative_to(SRC).as_posix()) \
            if source.is_relative_to(SRC) else None
        self.diagrams = 0
        self.sections = []            # [(anchor, heading, text)] for search
        self.body = None


class Site:
    def __init__(self, out_dir, problems):
        self.out = out_dir
        self.problems = problems
        self.chapter_pages = {}       # book/src/x.md (resolved) -> out/x.html
        self.extra_pages = {}         # any other linked file (resolved) -> out/source/....html
        self.assets = set()           # files under book/src copied as they are (images)

    # Where a link written in `document` (a file in the repository) should point
    # from `page` (its rendered page), and which file it names.
    def rewrite_target(self, document, page, target, what):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("#") or not target:
            return target
        path_part, hash_sign, anchor = target.partition("#")
        resolved = (document.parent / path_part).resolve()
        if not resolved.exists():
            self.problems.add(f"{what}: link {target} does not resolve")
            return target
        if resolved in self.chapter_pages:
            destination = self.chapter_pages[resolved]
        elif resolved.is_dir():
            destination = resolved
        elif resolved.is_relative_to(SRC) and resolved.suffix != ".md":
            self.assets.add(resolved)
            destination = self.out / resolved.relative_to(SRC)
        elif resolved.is_relative_to(ROOT):
            destination = self.extra_pages.setdefault(
                resolved, self.out / "source" / (resolved.relative_to(ROOT).as_posix() + ".html"))
        else:
            destination = resolved
        relative = os.path.relpath(destination, page.parent)
        if resolved.is_dir():
            relative += "/"
        return relative + (hash_sign + anchor if hash_sign else "")

    def transform(self, document, page, tree, chapter, what):
        """Walks pandoc's tree in place (see the module's docstring)."""
        def walk(node):
            if isinstance(node, list):
                for index, item in enumerate(node):
                    replacement = visit(item)
                    if replacement is not None:
                        node[index] = replacement
                    walk(node[index])
            elif isinstance(node, dict) and "c" in node:
                walk(node["c"])

        def visit(node):
            if not isinstance(node, dict):
                return None
            kind = node.get("t")
            if kind == "CodeBlock" and "mermaid" in node["c"][0][1]:
                chapter.diagrams += 1
                # Mermaid reads the element's HTML and decodes the entities:
                # escaped here, the arrows (->>) reach it intact.
                # The id lets a link (and the browser test's screenshot) point at it.
                return {"t": "RawBlock", "c": ["html", f'<pre class="mermaid" id="diagram-{chapter.diagrams}">'
                                               + html.escape(node["c"][1]) + "</pre>"]}
            if kind in ("Link", "Image"):
                target = node["c"][2]
                target[0] = self.rewrite_target(document, page, target[0], what)
            if kind == "Para":
                linked = self.link_source_line(document, page, node["c"], what)
                if linked is not None:
                    return {"t": "Para", "c": linked}
            return None

        walk(tree["blocks"])

    def link_source_line(self, document, page, inlines, what):
        """From `lessons/02-tcp-client-server/echo-server.cpp`:  (a path from the
        repository's root, as book/check_book.py reads it) -> the path links to
        its source page."""
        if (len(inlines) == 4 and inlines[0] == {"t": "Str", "c": "From"} and inlines[1].get("t") == "Space"
                and inlines[2].get("t") == "Code" and inlines[3] == {"t": "Str", "c": ":"}):
            path = ROOT / inlines[2]["c"][1]
            if path.is_file():
                target = os.path.relpath(path, document.parent)
                # The walk goes on into this link and rewrites its target.
                return [inlines[0], inlines[1],
                        {"t": "Link", "c": [["", [], []], [inlines[2]], [target, ""]]},
                        inlines[3]]
        return None


def sections_of(tree):
    sections, anchor, heading, words = [], "", "", []
    for block in tree["blocks"]:
        if block.get("t") == "Header":
            if words or heading:
                sections.append((anchor, heading, " ".join("".join(words).split())))
            anchor, heading, words = block["c"][1][0], " ".join(plain_text(block["c"][2]).split()), []
        else:
            words.append(plain_text(block))
    if words or heading:
        sections.append((anchor, heading, " ".join("".join(words).split())))
    return sections


class Cache:
    """pandoc's answers from the last run (out/.render-cache.json), keyed by a
    hash of what it was given: a second ./workbook book redoes only the pages
    whose text changed. Forgotten whenever pandoc or this script changes."""

    def __init__(self, path, version):
        self.path, self.version = path, version
        self.old, self.new, self.previous_pages = {}, {}, []
        try:
            data = json.loads(path.read_text())
            self.previous_pages = [page for page in data.get("pages", []) if ".." not in page.split("/")]
            if data.get("version") == version:
                self.old = data["entries"]
        except (OSError, ValueError, KeyError):
            pass

    def get(self, key):
        if key in self.old:
            self.new[key] = self.old[key]
        return self.new.get(key)

    def put(self, key, value):
        self.new[key] = value

    def save(self, written_pages):
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps({"version": self.version, "pages": written_pages, "entries": self.new}))
        temporary.replace(self.path)


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def markdown_tree(cache, source, problems, what):
    """pandoc: markdown -> its syntax tree (as JSON)."""
    text = source.read_text()
    key = "tree:" + digest(text)
    tree_json = cache.get(key)
    if tree_json is None:
        tree_json = pandoc(["-f", "gfm", "-t", "json"], text, problems, what)
        if tree_json is None:
            return None
        cache.put(key, tree_json)
    return json.loads(tree_json)


def source_tree(path, api_version):
    """A source file the book links to, as a tree of one code block, highlighted
    in the language its name says."""
    text = path.read_text(errors="replace")
    language = "python" if path.name == "meson.build" else LANGUAGES.get(path.suffix, "")
    return {"pandoc-api-version": api_version, "meta": {},
            "blocks": [{"t": "CodeBlock", "c": [["", [language] if language else [], []], text]}]}


def trees_to_html(cache, trees, problems):
    """pandoc: trees -> HTML, all those not in the cache in one run (pandoc
    starts once, not once per page), cut apart again at markers between them."""
    results, todo = [None] * len(trees), []
    for index, tree in enumerate(trees):
        key = "html:" + digest(json.dumps(tree, sort_keys=True))
        results[index] = cache.get(key)
        if results[index] is None:
            todo.append((index, key))
    if not todo:
        return results
    blocks = []
    for index, _key in todo:
        blocks.append({"t": "RawBlock", "c": ["html", f"<!--workbook-page {index}-->"]})
        blocks.extend(trees[index]["blocks"])
    document = {"pandoc-api-version": trees[todo[0][0]]["pandoc-api-version"], "meta": {}, "blocks": blocks}
    output = pandoc(["-f", "json", "-t", "html5", f"--highlight-style={HIGHLIGHT_STYLE}"],
                    json.dumps(document), problems, f"{len(todo)} pages")
    if output is None:
        return results
    parts = re.split(r"<!--workbook-page (\d+)-->\n?", output)
    for marker, body in zip(parts[1::2], parts[2::2]):
        index = int(marker)
        results[index] = body
        cache.put(dict(todo)[index], body)
    return results


# --- the pages -------------------------------------------------------------------

def read_progress(path):
    if not path or not path.is_file():
        return {}, None
    try:
        data = json.loads(path.read_text())
        lessons = data.get("lessons", {})
        return {name: entry.get("last_verdict", "") for name, entry in lessons.items()}, path.stat().st_mtime
    except (OSError, ValueError, AttributeError):
        return {}, None  # progress is a plus; a damaged file is the CLI's to report


def sidebar_html(entries, chapters, current, page, progress, progress_time):
    items = []
    for kind, level, title, target in entries:
        indent = f' style="margin-left:{level * 1.1:.1f}em"' if level else ""
        if kind == "part":
            items.append(f'<li class="part">{html.escape(title)}</li>')
            continue
        if kind == "draft":
            items.append(f'<li class="draft"{indent}>{html.escape(title)}</li>')
            continue
        chapter = chapters[target]
        href = os.path.relpath(chapter.page, page.parent)
        stem = pathlib.PurePosixPath(target).stem
        verdict = progress.get(stem)
        mark = ""
        if verdict is not None:
            symbol, label = VERDICT_MARKS.get(verdict, ("●", f"started: {verdict}"))
            css = "passed" if verdict == "passed" else "started"
            mark = f' <span class="progress {css}" title="your exercise: {html.escape(label)}">{symbol}</span>'
        active = ' class="active" aria-current="page"' if chapter is current else ""
        items.append(f'<li{indent}><a href="{html.escape(href)}"{active}>{html.escape(title)}</a>{mark}</li>')
    note = ""
    if progress_time is not None:
        when = datetime.datetime.fromtimestamp(progress_time).strftime("%Y-%m-%d %H:%M")
        note = (f'<p class="progress-note"><span class="progress passed">✓</span> passed · '
                f'<span class="progress started">●</span> started, as of {when}. '
                f'<code>./workbook book</code> brings it up to date.</p>')
    return "<ol>\n" + "\n".join(items) + "\n</ol>\n" + note


WRITTEN = set()


def write_page(path, template, **fields):
    WRITTEN.add(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = template.substitute(**fields)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)


def pandoc_version():
    result = subprocess.run(["pandoc", "--version"], capture_output=True, text=True)
    return result.stdout.split("\n", 1)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "build" / "book")
    parser.add_argument("--progress", type=pathlib.Path, default=ROOT / ".workbook" / "progress.json")
    parser.add_argument("--mermaid", type=pathlib.Path, default=mermaid.installed(),
                        help="mermaid.min.js to copy beside the pages (default: book/mermaid.py's, "
                             "if fetched; without it, diagrams show as text)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    options = parser.parse_args()
    out = options.out.resolve()
    problems = Problems()
    if shutil.which("pandoc") is None:
        print("error: pandoc is not installed (./workbook book installs it)", file=sys.stderr)
        return 2

    entries = read_summary(SRC / "SUMMARY.md")
    site = Site(out, problems)
    chapters = {}
    for kind, _level, title, target in entries:
        if kind != "chapter":
            continue
        source = (SRC / target).resolve()
        if not source.is_file():
            problems.add(f"SUMMARY.md: {target} does not exist")
            continue
        chapters[target] = Chapter(source, title, out)
        site.chapter_pages[source] = chapters[target].page
    order = list(chapters.values())
    if not order:
        problems.add("SUMMARY.md lists no chapter")
        return 1

    out.mkdir(parents=True, exist_ok=True)
    themes = "".join((THEME / name).read_text() for name in sorted(p.name for p in THEME.iterdir()))
    cache = Cache(out / ".render-cache.json",
                  digest(pandoc_version() + pathlib.Path(__file__).read_text() + themes))

    # 1. Markdown -> trees (pandoc, in parallel), then our transform.
    with concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs) as pool:
        trees = list(pool.map(lambda chapter: markdown_tree(cache, chapter.source, problems,
                                                            str(chapter.source.relative_to(ROOT))), order))
    pages = []  # [(chapter, tree)]: the chapters, then the files they link to
    for chapter, tree in zip(order, trees):
        if tree is None:
            continue
        site.transform(chapter.source, chapter.page, tree, chapter, str(chapter.source.relative_to(ROOT)))
        chapter.sections = sections_of(tree)
        pages.append((chapter, tree))
    api_version = pages[0][1]["pandoc-api-version"] if pages else [1, 22]
    # 2. The other files the chapters link to (a linked README links on: loop).
    done = set()
    while set(site.extra_pages) - done:
        for path in sorted(set(site.extra_pages) - done):
            done.add(path)
            what = str(path.relative_to(ROOT))
            page = Chapter(path, what, out)
            page.page = site.extra_pages[path]
            if path.suffix == ".md":
                tree = markdown_tree(cache, path, problems, what)
                if tree is None:
                    continue
                site.transform(path, page.page, tree, page, what)
            else:
                tree = source_tree(path, api_version)
            page.extra = True
            pages.append((page, tree))
    # 3. Trees -> HTML (one pandoc run for all that changed).
    for (page, _tree), body in zip(pages, trees_to_html(cache, [tree for _page, tree in pages], problems)):
        page.body = body

    mermaid_available = False
    if options.mermaid and options.mermaid.is_file():
        shutil.copyfile(options.mermaid, out / "mermaid.min.js")
        mermaid_available = True
    for name in ("book.css", "book.js"):
        shutil.copyfile(THEME / name, out / name)
    css_key = "css:" + HIGHLIGHT_STYLE
    css = cache.get(css_key)
    if css is None:
        css = highlighting_css(problems)
        cache.put(css_key, css)
    (out / "highlighting.css").write_text(css)
    for asset in site.assets:
        destination = out / asset.relative_to(SRC)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(asset, destination)

    # 4. The pages, around the HTML: sidebar, previous/next, diagrams.
    template = string.Template((THEME / "page.html").read_text())
    progress, progress_time = read_progress(options.progress)
    search = []
    for index, chapter in enumerate(order):
        if chapter.body is None:
            continue
        base = os.path.relpath(out, chapter.page.parent)
        previous_link = next_link = ""
        if index > 0:
            before = order[index - 1]
            previous_link = (f'<a class="previous" rel="prev" href="{os.path.relpath(before.page, chapter.page.parent)}">'
                             f'← {html.escape(before.title)}</a>')
        if index + 1 < len(order):
            after = order[index + 1]
            next_link = (f'<a class="next" rel="next" href="{os.path.relpath(after.page, chapter.page.parent)}">'
                         f'{html.escape(after.title)} →</a>')
        diagrams_script = ""
        body = chapter.body
        if chapter.diagrams and mermaid_available:
            diagrams_script = f'<script src="{base}/mermaid.min.js"></script>'
        elif chapter.diagrams:
            body = ('<p class="note">The diagrams on this page show as their Mermaid source: '
                    'mermaid was not available when the book was built (it comes from npm; '
                    'run <code>./workbook book</code> again when npm can reach its registry).</p>\n' + body)
        write_page(chapter.page, template, title=html.escape(chapter.title), base=base,
                   sidebar=sidebar_html(entries, chapters, chapter, chapter.page, progress, progress_time),
                   content=body, previous=previous_link, next=next_link,
                   diagrams_script=diagrams_script, book_title=BOOK_TITLE)
        page_url = chapter.page.relative_to(out).as_posix()
        for anchor, heading, text in chapter.sections:
            search.append({"page": chapter.title, "url": page_url + (f"#{anchor}" if anchor else ""),
                           "section": heading, "text": text})
    for page, _tree in pages:
        if not getattr(page, "extra", False) or page.body is None:
            continue
        base = os.path.relpath(out, page.page.parent)
        header = (f'<p class="source-path">The file <code>{html.escape(page.title)}</code> '
                  f'(<a href="{html.escape(os.path.relpath(page.source, page.page.parent))}">as it is</a>)</p>\n')
        write_page(page.page, template, title=html.escape(page.title), base=base,
                   sidebar=sidebar_html(entries, chapters, None, page.page, progress, progress_time),
                   content=header + page.body, previous="", next="", diagrams_script="",
                   book_title=BOOK_TITLE)

    (out / "search-index.js").write_text("window.BOOK_SEARCH = " + json.dumps(search, ensure_ascii=False) + ";\n")
    first = os.path.relpath(order[0].page, out)
    (out / "index.html").write_text(
        f'<!doctype html><meta charset="utf-8"><title>{html.escape(order[0].title)}</title>'
        f'<meta http-equiv="refresh" content="0; url={first}"><a href="{first}">{html.escape(order[0].title)}</a>\n')
    cache.save(written_pages=sorted(path.relative_to(out).as_posix() for path in WRITTEN))
    # A chapter taken out of SUMMARY.md (or a source no longer linked) leaves
    # no page behind; only pages this script wrote last time are ever removed.
    written = sorted(path.relative_to(out).as_posix() for path in WRITTEN)
    for stale in set(cache.previous_pages) - set(written):
        (out / stale).unlink(missing_ok=True)
    diagrams = sum(chapter.diagrams for chapter in order)
    print(f"rendered {len(order)} chapters ({diagrams} diagrams"
          f"{'' if mermaid_available or not diagrams else ', shown as text: no mermaid.min.js'}) "
          f"and {len(site.extra_pages)} pages of the sources they link to, into {out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
