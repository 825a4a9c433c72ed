#!/usr/bin/env python3
"""Lesson 11's herd: four loops on one shared listener. With plain EPOLLIN each
new client wakes every loop's thread; with EPOLLEXCLUSIVE about one."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import fail, run  # noqa: E402


def main():
    result = run([sys.argv[1], "--loops", "4", "--connections", "40", "--gap-us", "5000"], timeout=30)
    if result.returncode != 0:
        fail(f"herd exited with {result.returncode}:\n{result.stdout}{result.stderr}")
    per_client = {}
    for line in result.stdout.splitlines():
        match = re.match(r"(EPOLLIN|EPOLLEXCLUSIVE)\s+4\s+40\s+\d+\s+\d+\s+\d+\s+([\d.]+)$", line)
        if match:
            per_client[match.group(1)] = float(match.group(2))
    if len(per_client) != 2:
        fail(f"herd's table is missing a row:\n{result.stdout}")
    if per_client["EPOLLIN"] < 2.0 or per_client["EPOLLEXCLUSIVE"] > 1.5:
        fail(f"expected about 4 wake-ups per client with EPOLLIN and about 1 with EPOLLEXCLUSIVE:\n{result.stdout}")
    print(f"ok: wake-ups per client: EPOLLIN {per_client['EPOLLIN']:.2f}, "
          f"EPOLLEXCLUSIVE {per_client['EPOLLEXCLUSIVE']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
