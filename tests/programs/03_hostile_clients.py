#!/usr/bin/env python3
"""Lesson 03's servers, naive-reader and line-echo, against hostile clients (a
reset in the accept queue, a reset mid-line, a silent one, a megabyte with no
newline): each must log them, drop them, keep serving, and still stop cleanly
on Ctrl-C. Every wait has a deadline."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, survive_hostile_clients  # noqa: E402


def naive_reader(path):
    server = Server([path, "--busy", "0", "--port", "0"])
    survive_hostile_clients(server)
    with server.connect() as sock:
        sock.sendall(b"still here\n")
    server.wait_for(r'message #1, or so this server believes: "still here\\n"', "the ordinary client's message")
    server.stop()


def line_echo(path):
    server = Server([path, "--port", "0"])
    survive_hostile_clients(server)
    answer = server.exchange(b"still here\n")
    if answer != b"10 bytes: still here\n":
        fail(f"after the hostile clients line-echo answered an ordinary line with {answer!r}", server)
    server.stop()


def main():
    naive_reader(sys.argv[1])
    line_echo(sys.argv[2])
    print("ok: naive-reader and line-echo survived hostile clients and served the next one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
