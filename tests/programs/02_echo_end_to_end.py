#!/usr/bin/env python3
"""Runs lesson 02's echo-server as a learner would and talks to it: with
echo-client, with a raw socket (like nc), with a client that leaves without a
word, then stops it with Ctrl-C (SIGINT). Every wait has a deadline."""
import os
import re
import signal
import socket
import subprocess
import sys
import time

DEADLINE = 5.0


def fail(message, server=None):
    print(f"FAIL: {message}")
    if server is not None:
        server.kill()
        out, err = server.communicate(timeout=DEADLINE)
        print(f"--- server stdout\n{out}--- server stderr\n{err}")
    sys.exit(1)


def read_port(server):
    """The server prints 'listening on HOST:PORT'; wait for that line."""
    end = time.monotonic() + DEADLINE
    os.set_blocking(server.stdout.fileno(), False)
    seen = ""
    while time.monotonic() < end:
        chunk = server.stdout.readline()
        if chunk:
            seen += chunk
            match = re.search(r"listening on (\S+):(\d+)", seen)
            if match:
                return match.group(1), int(match.group(2)), seen
        else:
            time.sleep(0.02)
    fail(f"no 'listening on' line within {DEADLINE} s; got {seen!r}", server)


def main():
    server_path, client_path = sys.argv[1], sys.argv[2]
    env = {"NO_COLOR": "1", "PATH": "/usr/bin:/bin"}
    server = subprocess.Popen([server_path, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env)
    host, port, narration = read_port(server)
    if host != "127.0.0.1":
        fail(f"listening on {host}, expected 127.0.0.1 by default", server)

    client = subprocess.run([client_path, "--port", str(port), "hello from echo-client"], capture_output=True,
                            text=True, timeout=DEADLINE, env=env)
    if client.returncode != 0 or "echo: hello from echo-client" not in client.stdout:
        fail(f"echo-client: status {client.returncode}, stdout {client.stdout!r}, stderr {client.stderr!r}", server)

    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE):
        pass  # connect and leave without sending: the server must carry on

    payload = bytes(range(256)) * 40
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as raw:
        raw.sendall(payload)
        raw.shutdown(socket.SHUT_WR)
        echoed = b""
        while True:
            chunk = raw.recv(65536)
            if not chunk:
                break
            echoed += chunk
    if echoed != payload:
        fail(f"raw client got {len(echoed)} bytes back, sent {len(payload)}", server)

    server.send_signal(signal.SIGINT)
    try:
        out, err = server.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        fail("the server did not exit within 5 s of Ctrl-C (SIGINT)", server)
    if server.returncode != 0:
        fail(f"the server exited with status {server.returncode} after Ctrl-C; stderr {err!r}")
    out = narration + out
    for expected in ("socket() = fd", "bind(127.0.0.1:", "accept() = fd", "recv() = 0", "stopping"):
        if expected not in out:
            fail(f"the server's narration lacks {expected!r}:\n{out}")
    print("ok: echo-server served echo-client, a silent client and a raw client, then stopped on SIGINT")
    return 0


if __name__ == "__main__":
    sys.exit(main())
