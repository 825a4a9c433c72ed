#!/usr/bin/env python3
"""Lesson 12's coroutine echo-server against hostile clients (a reset in the
accept queue, a reset mid-message, a silent one, a megabyte that is never read
back): it drops each, keeps serving, echoes a half-closed client's bytes back,
and on Ctrl-C cancels the tasks still running and exits with status 0."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, survive_hostile_clients  # noqa: E402


def main():
    server = Server([sys.argv[1], "--port", "0"])
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
    print("ok: echo-server survived hostile clients, served the next one and cancelled the last on Ctrl-C")
    return 0


if __name__ == "__main__":
    sys.exit(main())
