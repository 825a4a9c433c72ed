#!/usr/bin/env python3
"""Runs lesson 03's programs as a learner would: burst-sender against
naive-reader (whose narration must show glued and cut messages), then
line-echo fed lines in awkward pieces, an over-long line, and burst-sender;
each server is stopped with Ctrl-C (SIGINT). Every wait has a deadline."""
import os
import re
import signal
import socket
import subprocess
import sys
import time

DEADLINE = 5.0
ENV = {"NO_COLOR": "1", "PATH": "/usr/bin:/bin"}


def fail(message, server=None):
    print(f"FAIL: {message}")
    if server is not None:
        server.kill()
        out, err = server.communicate(timeout=DEADLINE)
        print(f"--- server stdout\n{out}--- server stderr\n{err}")
    sys.exit(1)


def start(command):
    """Starts a server and waits for its 'listening on HOST:PORT' line."""
    server = subprocess.Popen(command + ["--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=ENV)
    end = time.monotonic() + DEADLINE
    os.set_blocking(server.stdout.fileno(), False)
    seen = ""
    while time.monotonic() < end:
        line = server.stdout.readline()
        if line:
            seen += line
            match = re.search(r"listening on (\S+):(\d+)", seen)
            if match:
                if match.group(1) != "127.0.0.1":
                    fail(f"listening on {match.group(1)}, expected 127.0.0.1 by default", server)
                return server, int(match.group(2)), seen
        else:
            time.sleep(0.02)
    fail(f"no 'listening on' line within {DEADLINE} s; got {seen!r}", server)


def stop(server, narration):
    server.send_signal(signal.SIGINT)
    try:
        out, err = server.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        fail("the server did not exit within 5 s of Ctrl-C (SIGINT)", server)
    if server.returncode != 0:
        fail(f"the server exited with status {server.returncode} after Ctrl-C; stderr {err!r}")
    return narration + out, err


def recv_until(sock, expected):
    got = b""
    while len(got) < len(expected):
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def burst(sender, port, *extra):
    run = subprocess.run([sender, "--port", str(port), *extra], capture_output=True, text=True, timeout=DEADLINE, env=ENV)
    if run.returncode != 0 or "sent 6 messages" not in run.stdout or "the server closed too" not in run.stdout:
        fail(f"burst-sender: status {run.returncode}, stdout {run.stdout!r}, stderr {run.stderr!r}")


def naive(reader, sender):
    server, port, narration = start([reader, "--busy", "100"])
    # The hint must be a command the learner can paste (from the repository's root).
    hint = re.search(r"\(try: \./build/(\S+) --port (\d+)\)", narration)
    if not hint or not sender.endswith(hint.group(1)) or int(hint.group(2)) != port:
        fail(f"naive-reader's hint is not a runnable burst-sender command: {narration!r}", server)
    burst(sender, port)
    out, err = stop(server, narration)
    for expected in ("accept() = fd", "recv() = ", "recv() = 0"):
        if expected not in out:
            fail(f"naive-reader's narration lacks {expected!r}:\n{out}")
    for expected in ("messages glued together", "ends in the middle of a message"):
        if expected not in err:
            fail(f"naive-reader did not show the pitfall ({expected!r}):\n{out}{err}")


def line_echo(server_path, sender):
    server, port, narration = start([server_path])
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as sock:
        sock.sendall(b"hello\nwor")
        time.sleep(0.05)  # a pause mid-line: the server must keep "wor" for later
        sock.sendall(b"ld\n\n")
        for byte in b"abc\n":
            sock.sendall(bytes([byte]))
        expected = b"5 bytes: hello\n5 bytes: world\n0 bytes: \n3 bytes: abc\n"
        got = recv_until(sock, expected)
        if got != expected:
            fail(f"line-echo answered {got!r}, expected {expected!r}", server)
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as sock:
        sock.sendall(b"x" * 16385)  # no newline, one byte over the limit (and nothing left unread)
        expected = b"error: line longer than 16384 bytes\n"
        got = recv_until(sock, expected + b"more?")
        if got != expected:
            fail(f"line-echo answered an over-long line with {got!r}, expected {expected!r} and a close", server)
    burst(sender, port)
    out, _ = stop(server, narration)
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
