#!/usr/bin/env python3
"""Chapter 01 shows byte-order's output: it must be what the program prints.

    01_byte_order_in_book.py BYTE_ORDER CHAPTER

For every ```sh block in the chapter that runs byte-order, the ```text block
right after it must equal the program's standard output for those arguments.
"""
import re
import subprocess
import sys

RUN = re.compile(r"```sh\n\S*/byte-order ([^\n]*)\n```\n+```text\n(.*?)```", re.S)


def main():
    program, chapter = sys.argv[1], sys.argv[2]
    with open(chapter, encoding="utf-8") as source:
        shown = RUN.findall(source.read())
    if not shown:
        print(f"FAIL: no byte-order run with its output in {chapter}")
        return 1
    failed = 0
    for arguments, expected in shown:
        run = subprocess.run([program, *arguments.split()], capture_output=True, text=True, timeout=10)
        if run.returncode != 0 or run.stdout != expected:
            failed += 1
            print(f"FAIL: byte-order {arguments}: the chapter shows\n{expected}\nthe program printed "
                  f"(exit {run.returncode})\n{run.stdout}{run.stderr}")
        else:
            print(f"ok: byte-order {arguments}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
