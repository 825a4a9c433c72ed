#!/usr/bin/env python3
"""The book in a real browser: headless Chromium draws every diagram of the book
as an SVG (none of them mermaid's "Syntax error" picture), shows every image
(the performance chapter's plots among them), and a chapter looks right: a
screenshot is left for a person to look at.

    test_browser.py OUT

Renders the book into OUT with mermaid.min.js (book/mermaid.py's), then:
1. OUT/all-diagrams.html, every diagram and image of every chapter on one page
   (one browser start instead of one per chapter), loaded with --dump-dom:
   book.js reports on <html data-diagrams=... data-images=...>;
2. the first chapter with a diagram, loaded the same way, and a screenshot of
   it: OUT/screenshot-NN-name.png.

Skipped (exit 77, saying why) without chromium or without mermaid.min.js:
./workbook test installs both; a learner's machine may have neither.
"""
import html
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

BOOK = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(BOOK))
import mermaid  # noqa: E402
import render  # noqa: E402
import test_render  # noqa: E402

BROWSER_SECONDS = 120  # a deadline for each browser run, on a loaded two-core machine


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def browse(browser, profile, url, *action):
    """Runs headless Chromium on url; returns its standard output.
    --virtual-time-budget lets the page's scripts run to the end (mermaid draws
    asynchronously) without a wall-clock sleep: the browser advances its own
    clock only when the page is idle."""
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
               "--virtual-time-budget=30000", "--window-size=1280,2400", *action, url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_SECONDS)
    if result.returncode != 0:
        raise RuntimeError(f"chromium exited {result.returncode}: {result.stderr[-2000:]}")
    return result.stdout


def report(dom, name):
    match = re.search(rf'<html[^>]*\bdata-{name}="([^"]*)"', dom)
    return html.unescape(match.group(1)) if match else None


def main():
    out = pathlib.Path(sys.argv[1]).resolve()
    browser = chromium()
    if browser is None:
        print("skipped: chromium not installed (apt-get install chromium; ./workbook test installs it)")
        return 77
    script = mermaid.installed()
    if script is None:
        print("skipped: mermaid not installed (python3 book/mermaid.py fetches it from npm)")
        return 77
    if shutil.which("pandoc") is None:
        print("skipped: pandoc not installed (./workbook book installs it)")
        return 77
    result = subprocess.run([sys.executable, str(BOOK / "render.py"), "--out", str(out), "--mermaid", str(script),
                             "--progress", "/nonexistent"], capture_output=True, text=True, timeout=600)
    print(result.stdout.strip())
    if result.returncode != 0:
        print(f"FAIL: render.py exited {result.returncode}:\n{result.stderr}")
        return 1

    entries = [entry for entry in render.read_summary(BOOK / "src" / "SUMMARY.md") if entry[0] == "chapter"]
    diagrams, images, first_with_diagram = [], [], None
    for _kind, _level, _title, target in entries:
        page_path = out / render.page_name(target)
        text = page_path.read_text()
        blocks = re.findall(r'<pre class="mermaid"[^>]*>.*?</pre>', text, re.S)
        if blocks and first_with_diagram is None:
            first_with_diagram = page_path
        diagrams += [f"<h2>{html.escape(target)}</h2>\n{block}" for block in blocks]
        # Images keep working from here: every chapter page sits in out/ itself.
        images += re.findall(r"<img [^>]*>", text)
    page = (out / "all-diagrams.html")
    page.write_text("<!doctype html><html><head><meta charset=utf-8><title>all diagrams</title></head><body>\n"
                    + "\n".join(diagrams) + "\n" + "\n".join(images)
                    + '\n<script src="mermaid.min.js"></script><script src="book.js"></script>'
                    + "<script>bookDrawDiagrams();</script></body></html>\n")

    problems = []
    with tempfile.TemporaryDirectory(prefix="workbook-chromium-") as profile:
        dom = browse(browser, profile, page.as_uri(), "--dump-dom")
        drawn = report(dom, "diagrams")
        if drawn != f"drawn {len(diagrams)}":
            problems.append(f"all-diagrams.html: {len(diagrams)} diagrams, the page says {drawn!r}")
        for match in re.finditer(r'<h2>([^<]*)</h2>\s*<pre class="mermaid"[^>]*>(.*?)</pre>', dom, re.S):
            if "<svg" not in match.group(2):
                problems.append(f"{match.group(1)}: a diagram was not drawn as SVG")
            elif "Syntax error" in match.group(2):
                problems.append(f"{match.group(1)}: mermaid drew 'Syntax error in text' (the diagram's text is wrong)")
        shown = report(dom, "images")
        if images and shown != f"shown {len(images)}":
            problems.append(f"all-diagrams.html: {len(images)} images, the page says {shown!r}")

        if first_with_diagram is not None:
            dom = browse(browser, profile, first_with_diagram.as_uri(), "--dump-dom")
            count = len(re.findall(r'<pre class="mermaid"', dom))
            if report(dom, "diagrams") != f"drawn {count}":
                problems.append(f"{first_with_diagram.name}: the page says {report(dom, 'diagrams')!r}")
            screenshot = out / f"screenshot-{first_with_diagram.stem}.png"
            # The whole top of the page, 1280 x 2400: the first chapter with a diagram
            # has it near the top. (Scrolling to it with #diagram-1 leaves headless
            # Chromium's screenshot half blank.)
            browse(browser, profile, first_with_diagram.as_uri(), f"--screenshot={screenshot}")
            if not screenshot.is_file() or screenshot.stat().st_size < 20000:
                problems.append(f"no screenshot (or a blank one) at {screenshot}")
            else:
                print(f"screenshot (look at it): {screenshot}")

    for problem in problems:
        print(f"FAIL: {problem}")
    print(f"{len(diagrams)} diagrams and {len(images)} images in chromium: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
