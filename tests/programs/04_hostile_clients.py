#!/usr/bin/env python3
"""Lesson 04's sort-server against hostile clients (a reset in the accept queue,
a reset mid-request, a silent one, a megabyte in one line): it must log each,
drop it, keep serving, and still stop cleanly on Ctrl-C. Every wait has a
deadline."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, survive_hostile_clients  # noqa: E402


def main():
    server = Server([sys.argv[1], "--port", "0"])
    survive_hostile_clients(server)
    answer = server.exchange(b"pear\napple\n")
    if answer != b"apple\npear\n":
        fail(f"after the hostile clients sort-server answered {answer!r}", server)
    server.stop()
    print("ok: sort-server survived hostile clients and served the next one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
