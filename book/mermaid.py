#!/usr/bin/env python3
"""Mermaid, the script that draws the book's diagrams in the page.

    python3 book/mermaid.py           prints the path of mermaid.min.js, fetching it first if needed

It comes from the npm registry (`npm pack`, the package's own tarball,
integrity-checked by npm; none of its dependencies, since dist/mermaid.min.js
bundles them) and is kept in .workbook/npm/, beside the learner's progress, so
that deleting build/ does not fetch it again. Pinned: a new mermaid may draw
differently, and the browser test should not change under us.
Exits 1, saying why, when npm is missing or cannot reach its registry: the
book then shows the diagrams as their text.
"""
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile

VERSION = "12.3.0"
ROOT = pathlib.Path(__file__).resolve().parents[1]
HOME = ROOT / ".workbook" / "npm" / f"mermaid-{VERSION}"
SCRIPT = HOME / "mermaid.min.js"
WANTED = {"package/dist/mermaid.min.js": "mermaid.min.js", "package/LICENSE": "LICENSE"}


def installed():
    """The path of mermaid.min.js when it is here, else None (never fetches)."""
    return SCRIPT if SCRIPT.is_file() else None


def fetch():
    if installed():
        return SCRIPT, None
    npm = shutil.which("npm")
    if npm is None:
        return None, "npm is not installed (Node.js's package manager: apt-get install npm)"
    with tempfile.TemporaryDirectory(prefix="workbook-mermaid-") as scratch:
        try:
            result = subprocess.run([npm, "pack", f"mermaid@{VERSION}", "--pack-destination", scratch,
                                     "--silent", "--no-fund", "--no-audit"],
                                    cwd=scratch, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            return None, "npm pack mermaid took more than 5 minutes"
        tarballs = list(pathlib.Path(scratch).glob("mermaid-*.tgz"))
        if result.returncode != 0 or not tarballs:
            return None, f"npm pack mermaid@{VERSION} failed: {(result.stderr or result.stdout).strip()[-500:]}"
        staging = HOME.with_name(HOME.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        with tarfile.open(tarballs[0]) as archive:
            for member, name in WANTED.items():
                source = archive.extractfile(member)
                if source is None:
                    return None, f"the mermaid package has no {member}"
                (staging / name).write_bytes(source.read())
        # Whole or not at all: a half-written script would draw nothing.
        shutil.rmtree(HOME, ignore_errors=True)
        staging.rename(HOME)
    return SCRIPT, None


def main():
    path, problem = fetch()
    if path is None:
        print(f"mermaid: {problem}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
