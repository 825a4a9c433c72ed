#!/usr/bin/env python3
"""Lesson 09's chat-server end to end, as chapter 09 runs it: three clients
chat (poll and --select), --echo echoes, and a single Ctrl-C stops the server
at once, whenever it lands (the self-pipe). Every wait has a deadline."""
import os
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, read_to_eof  # noqa: E402


class Line:
    """A chat client reading whole lines, each with the server's deadline."""

    def __init__(self, server, nick=None):
        self.server = server
        self.sock = server.connect()
        self.buffer = b""
        if nick:
            self.say(nick)

    def say(self, text):
        self.sock.sendall(text.encode() + b"\n")

    def line(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                fail(f"the server closed the connection, holding {self.buffer!r}", self.server)
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode()

    def expect(self, wanted):
        got = self.line()
        if got != wanted:
            fail(f"expected {wanted!r}, got {got!r}", self.server)


def chat(options):
    server = Server([sys.argv[1], "--port", "0", *options])
    ann = Line(server, "ann")
    bob = Line(server, "bob")
    ann.expect("* bob joined")
    cat = Line(server, "cat")
    ann.expect("* cat joined")
    bob.expect("* cat joined")
    ann.say("hello, room")
    bob.expect("ann: hello, room")
    cat.expect("ann: hello, room")
    cat.sock.close()
    ann.expect("* cat left")
    bob.say("bye")
    ann.expect("bob: bye")
    output = server.stop()
    for wanted in ("joined as ann", "(cat) left", "poll(" if not options else "select("):
        if wanted not in output:
            fail(f"chat-server {' '.join(options)} did not narrate {wanted!r}:\n{output}")


def echo():
    server = Server([sys.argv[1], "--port", "0", "--echo", "--quiet"])
    with server.connect() as first, server.connect() as second:
        second.sendall(b"second\n")
        first.sendall(b"first\n")
        if first.recv(100) != b"first\n" or second.recv(100) != b"second\n":
            fail("--echo did not echo each client's bytes to it", server)
        first.shutdown(socket.SHUT_WR)
        if read_to_eof(first) != b"":
            fail("--echo sent more after EOF", server)
    output = server.stop()
    if "recv" in output or "poll(" in output:
        fail(f"--quiet still narrates:\n{output}")


def one_ctrl_c():
    """One SIGINT, sent while the server sleeps in poll() with clients connected."""
    server = Server([sys.argv[1], "--port", "0"])
    dan = Line(server, "dan")
    eve = Line(server, "eve")
    dan.expect("* eve joined")
    server.signal(signal.SIGINT)
    status = server.finish()
    if status != 0:
        fail(f"one Ctrl-C: exit status {status}", server)
    for client in (dan, eve):
        if read_to_eof(client.sock) != b"":
            fail("a client got bytes instead of EOF at the stop", server)
    if "stopping: signal received" not in server.output():
        fail("the server did not say why it stopped", server)


def main():
    chat([])
    chat(["--select"])
    echo()
    one_ctrl_c()
    print("ok: chat-server chats (poll and --select), echoes, and stops on one Ctrl-C")
    return 0


if __name__ == "__main__":
    sys.exit(main())
