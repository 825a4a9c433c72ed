#!/usr/bin/env python3
"""Lesson 09's chat-server (poll, --select, --echo) against hostile clients (a
reset in the accept queue, a reset mid-line, a silent one, a megabyte without
a newline): it drops each, keeps serving, and still stops on Ctrl-C."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, survive_hostile_clients  # noqa: E402


def check(path, *options):
    server = Server([path, "--port", "0", *options])
    survive_hostile_clients(server)
    with server.connect() as ann, server.connect() as bob:
        if "--echo" in options:
            ann.sendall(b"still here\n")
            answer, wanted = ann.recv(100), b"still here\n"
        else:
            ann.sendall(b"ann\n")
            bob.sendall(b"bob\n")
            answer, wanted = ann.recv(100), b"* bob joined\n"
        if answer != wanted:
            fail(f"after the hostile clients chat-server {' '.join(options)} sent {answer!r}", server)
    server.stop()


def main():
    check(sys.argv[1])
    check(sys.argv[1], "--select")
    check(sys.argv[1], "--echo")
    print("ok: chat-server (poll, --select, --echo) survived hostile clients and served the next ones")
    return 0


if __name__ == "__main__":
    sys.exit(main())
