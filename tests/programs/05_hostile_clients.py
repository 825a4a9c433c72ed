#!/usr/bin/env python3
"""Lesson 05's frame-server, framed and --naive, against hostile clients (a reset
in the accept queue, a reset mid-frame, a silent one, a megabyte whose "header"
announces nonsense): it must log each, drop it, keep serving, and still stop
cleanly on Ctrl-C. Every wait has a deadline."""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, survive_hostile_clients  # noqa: E402


def check(path, *options):
    server = Server([path, *options, "--port", "0"])
    # A header announcing 100 bytes, then only 3 of them.
    survive_hostile_clients(server, partial=struct.pack(">I", 100) + b"abc")
    answer = server.exchange(struct.pack(">I", 2) + b"hi")
    expected = b"frame #1: 2 bytes"
    if answer != struct.pack(">I", len(expected)) + expected:
        fail(f"after the hostile clients frame-server {' '.join(options)} answered {answer!r}", server)
    server.stop()


def main():
    check(sys.argv[1])
    check(sys.argv[1], "--naive")
    print("ok: frame-server (and --naive) survived hostile clients and served the next one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
