#!/usr/bin/env python3
"""Chapter 14's failure, on purpose: overtaking-server answers two pipelined
requests, /slow then /fast, and the answer to /fast comes first — the client
would take it for the answer to /slow. guestbook answers the same two in
order (its /messages/1 is a 404 and / is Hello, World!)."""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, read_to_eof  # noqa: E402


def pipeline(server, first, second):
    with server.connect() as sock:
        sock.sendall(f"GET {first} HTTP/1.1\r\nHost: x\r\n\r\nGET {second} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        sock.shutdown(socket.SHUT_WR)  # like nc -N
        return read_to_eof(sock)


def main():
    overtaking, guestbook = sys.argv[1], sys.argv[2]
    server = Server([overtaking, "--port", "0"])
    answer = pipeline(server, "/slow", "/fast")
    if answer.find(b"the answer to /fast") < 0 or answer.find(b"the answer to /fast") > answer.find(b"the answer to /slow"):
        fail(f"overtaking-server should answer /fast first (the bug it shows): {answer!r}", server)
    server.stop()

    server = Server([guestbook, "--port", "0", "--quiet"])
    answer = pipeline(server, "/messages/1", "/")
    if not (answer.startswith(b"HTTP/1.1 404") and answer.endswith(b"Hello, World!")):
        fail(f"guestbook should answer in order, 404 then Hello, World!: {answer!r}", server)
    server.stop()
    print("ok: overtaking-server answers /fast before /slow; guestbook answers in the order asked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
