#!/usr/bin/env python3
"""Runs lesson 03's programs as a learner would: burst-sender against
naive-reader (whose narration must show glued and cut messages), then
line-echo fed lines in awkward pieces, an over-long line, and burst-sender;
each server is stopped with Ctrl-C (SIGINT). Every wait has a deadline."""
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, run  # noqa: E402


def recv_until(sock, expected):
    got = b""
    while len(got) < len(expected):
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def burst(sender, port, *extra):
    sent = run([sender, "--port", str(port), *extra])
    if sent.returncode != 0 or "sent 6 messages" not in sent.stdout or "the server closed too" not in sent.stdout:
        fail(f"burst-sender: status {sent.returncode}, stdout {sent.stdout!r}, stderr {sent.stderr!r}")


def naive(reader, sender):
    server = Server([reader, "--busy", "100", "--port", "0"])
    narration = server.output()
    # The hint must be a command the learner can paste (from the repository's root).
    hint = re.search(r"\(try: \./build/(\S+) --port (\d+)\)", narration)
    if not hint or not sender.endswith(hint.group(1)) or int(hint.group(2)) != server.port:
        fail(f"naive-reader's hint is not a runnable burst-sender command: {narration!r}", server)
    burst(sender, server.port)
    out, err = server.stop(), server.errors()
    for expected in ("accept() = fd", "recv() = ", "recv() = 0"):
        if expected not in out:
            fail(f"naive-reader's narration lacks {expected!r}:\n{out}")
    for expected in ("messages glued together", "ends in the middle of a message"):
        if expected not in err:
            fail(f"naive-reader did not show the pitfall ({expected!r}):\n{out}{err}")


def line_echo(server_path, sender):
    server = Server([server_path, "--port", "0"])
    with server.connect() as sock:
        sock.sendall(b"hello\nwor")
        time.sleep(0.05)  # a pause mid-line: the server must keep "wor" for later
        sock.sendall(b"ld\n\n")
        for byte in b"abc\n":
            sock.sendall(bytes([byte]))
        expected = b"5 bytes: hello\n5 bytes: world\n0 bytes: \n3 bytes: abc\n"
        got = recv_until(sock, expected)
        if got != expected:
            fail(f"line-echo answered {got!r}, expected {expected!r}", server)
    with server.connect() as sock:
        sock.sendall(b"x" * 16385)  # no newline, one byte over the limit (and nothing left unread)
        expected = b"error: line longer than 16384 bytes\n"
        got = recv_until(sock, expected + b"more?")
        if got != expected:
            fail(f"line-echo answered an over-long line with {got!r}, expected {expected!r} and a close", server)
    burst(sender, server.port)
    out = server.stop()
    for expected in ("kept for the next recv()", "between lines", "close(fd"):
        if expected not in out:
            fail(f"line-echo's narration lacks {expected!r}:\n{out}")
    if re.search(r"\b1 bytes\b", out):
        fail(f"line-echo's narration says '1 bytes':\n{out}")


def main():
    reader, sender, server = sys.argv[1:4]
    naive(reader, sender)
    line_echo(server, sender)
    print("ok: naive-reader showed glued and cut messages; line-echo answered whole lines however they arrived")
    return 0


if __name__ == "__main__":
    sys.exit(main())
