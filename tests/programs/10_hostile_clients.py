#!/usr/bin/env python3
"""Lesson 10's servers on the epoll loop (echo-server, chat-server) against
hostile clients (a reset in the accept queue, a reset mid-line, a silent one, a
megabyte without a newline): each is dropped or served, the server keeps
serving the next client and still stops on Ctrl-C."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, survive_hostile_clients  # noqa: E402


def check(path):
    server = Server([path, "--port", "0", "--quiet"])
    survive_hostile_clients(server)
    if os.path.basename(path) == "echo-server":
        # nc -N: 3 MB, then "that was all" before reading a byte: every reply still comes.
        data = os.urandom(3 << 20)
        roomy = Server([path, "--port", "0", "--quiet", "--output-limit", str(8 << 20)])
        back = roomy.exchange(data)
        if back != data:
            fail(f"a client that half-closed after 3 MB got {len(back)} bytes back", roomy)
        roomy.stop()
    with server.connect() as ann, server.connect() as bob:
        if os.path.basename(path) == "echo-server":
            ann.sendall(b"still here\n")
            answer, wanted = ann.recv(100), b"still here\n"
        else:
            ann.sendall(b"ann\n")
            bob.sendall(b"bob\n")
            answer, wanted = ann.recv(100), b"* bob joined\n"
        if answer != wanted:
            fail(f"after the hostile clients {os.path.basename(path)} sent {answer!r}", server)
    server.stop()


def main():
    for path in sys.argv[1:]:
        check(path)
    print(f"ok: {', '.join(os.path.basename(p) for p in sys.argv[1:])} survived hostile clients and served the next ones")
    return 0


if __name__ == "__main__":
    sys.exit(main())
