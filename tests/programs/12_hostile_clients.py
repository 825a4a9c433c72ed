#!/usr/bin/env python3
"""Lesson 12's coroutine servers against hostile clients (a reset in the
accept queue, a reset mid-message, a silent one, a megabyte that is never read
back): each drops them and keeps serving (echo-server echoes a half-closed
client's bytes back, chat-server lets two members talk), and on Ctrl-C cancels
the tasks still running, closes their sockets and exits with status 0."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, survive_hostile_clients  # noqa: E402


def echo(path):
    server = Server([path, "--port", "0"])
    survive_hostile_clients(server)
    answer = server.exchange(b"still here\n" * 1000)
    if answer != b"still here\n" * 1000:
        fail(f"after the hostile clients echo-server answered {len(answer)} bytes: {answer[:60]!r}...", server)
    idle = server.connect()  # still connected at Ctrl-C: its task is cancelled, its socket closed
    idle.sendall(b"hi")
    if idle.recv(2) != b"hi":
        fail("the idle client got no echo", server)
    output = server.stop()
    if "stopped: 1 cancelled" not in output and "stopped: 1 client cancelled" not in output:
        fail("the Ctrl-C line should say one client task was cancelled", server)
    if idle.recv(10) != b"":
        fail("the cancelled client's socket was not closed", server)
    idle.close()


def chat(path):
    server = Server([path, "--port", "0", "--quiet"])
    survive_hostile_clients(server)
    with server.connect() as ann, server.connect() as bob:
        ann.sendall(b"ann\n")
        bob.sendall(b"bob\n")
        if ann.recv(100) != b"* bob joined\n":
            fail("after the hostile clients ann did not hear bob join", server)
        output = server.stop()
        if "2 members cancelled" not in output:
            fail("the Ctrl-C line should say two member tasks were cancelled", server)
        for sock in (ann, bob):
            sock.settimeout(server.deadline)
            if sock.recv(100) != b"":
                fail("a cancelled member's socket was not closed", server)


def main():
    for path in sys.argv[1:]:
        (echo if os.path.basename(path) == "echo-server" else chat)(path)
    print("ok: echo-server and chat-server survived hostile clients, served the next ones and cancelled the rest on Ctrl-C")
    return 0


if __name__ == "__main__":
    sys.exit(main())
