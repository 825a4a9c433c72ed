#!/usr/bin/env python3
"""Lesson 02's echo-server against hostile clients (a reset in the accept queue,
a reset mid-message, a silent one, a megabyte at once): it must log each, drop
it, keep serving, and still stop cleanly on Ctrl-C. Every wait has a deadline."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, survive_hostile_clients  # noqa: E402


def main():
    server = Server([sys.argv[1], "--port", "0"])
    survive_hostile_clients(server)
    echoed = server.exchange(b"still here\n")
    if echoed != b"still here\n":
        fail(f"after the hostile clients an ordinary one got {echoed!r} back", server)
    server.stop()
    print("ok: echo-server survived hostile clients and served the next one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
