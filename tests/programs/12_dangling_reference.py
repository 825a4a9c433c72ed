#!/usr/bin/env python3
"""Lesson 12's dangling-reference pitfall: AddressSanitizer must report the
const std::string& read after the first co_await (the temporary string object
lived on the caller's stack: stack-use-after-scope; its characters on the heap:
heap-use-after-free) and the program must fail; with --fixed (the parameter by
value) it greets."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import DEADLINE, fail  # noqa: E402


def main():
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0")
    broken = subprocess.run([sys.argv[1]], capture_output=True, text=True, timeout=DEADLINE, env=env)
    kinds = ("stack-use-after-scope", "heap-use-after-free", "stack-use-after-return")
    if broken.returncode == 0 or not any(f"AddressSanitizer: {kind}" in broken.stderr for kind in kinds):
        fail(f"dangling-reference exited {broken.returncode} without AddressSanitizer's report of a use after scope:\n"
             f"{broken.stdout}{broken.stderr[-2000:]}")
    if "greet" not in broken.stderr:
        fail(f"AddressSanitizer's report does not name the coroutine greet:\n{broken.stderr[-2000:]}")
    fixed = subprocess.run([sys.argv[1], "--fixed"], capture_output=True, text=True, timeout=DEADLINE, env=env)
    if fixed.returncode != 0 or "hello, a name too long for the small-string buffer" not in fixed.stdout:
        fail(f"dangling-reference --fixed exited {fixed.returncode}:\n{fixed.stdout}{fixed.stderr[-2000:]}")
    print("ok: AddressSanitizer caught the dangling reference parameter; by value it works")
    return 0


if __name__ == "__main__":
    sys.exit(main())
