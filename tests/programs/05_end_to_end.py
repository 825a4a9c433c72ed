#!/usr/bin/env python3
"""Runs lesson 05's programs as a learner would: frame-client against
frame-server (glued frames, an empty frame, frames fed one byte at a time, a
header announcing 4 GiB), then against frame-server --naive, which must show
frames glued together and lost. Servers stop on Ctrl-C (SIGINT); every wait
has a deadline."""
import os
import re
import signal
import socket
import struct
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


def client(path, port, *extra):
    return subprocess.run([path, "--port", str(port), *extra], capture_output=True, text=True,
                          timeout=DEADLINE, env=ENV)


def read_frame(sock):
    data = b""
    while len(data) < 4 or len(data) < 4 + struct.unpack(">I", data[:4])[0]:
        chunk = sock.recv(1)
        if not chunk:
            fail(f"the server closed mid-answer after {data!r}")
        data += chunk
    return data[4:]


def framed(server_path, client_path):
    server, port, narration = start([server_path])
    run = client(client_path, port)
    answers = ("frame #1: 5 bytes", "frame #2: 0 bytes", "frame #3: 23 bytes")
    if run.returncode != 0 or not all(answer in run.stdout for answer in answers):
        fail(f"frame-client: status {run.returncode}, stdout {run.stdout!r}, stderr {run.stderr!r}", server)

    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as sock:
        for byte in struct.pack(">I", 2) + b"hi" + struct.pack(">I", 0):  # one byte per send
            sock.sendall(bytes([byte]))
        for expected in (b"frame #1: 2 bytes", b"frame #2: 0 bytes"):
            got = read_frame(sock)
            if got != expected:
                fail(f"answered {got!r}, expected {expected!r}", server)

    run = client(client_path, port, "--oversize")
    if run.returncode != 0 or "refused the frame" not in run.stdout:
        fail(f"frame-client --oversize: status {run.returncode}, stdout {run.stdout!r}, stderr {run.stderr!r}", server)
    out, err = stop(server, narration)
    for expected in ("header 00 00 00 05: 5 bytes of payload follow", "recv() = 0 between frames"):
        if expected not in out:
            fail(f"frame-server's narration lacks {expected!r}:\n{out}")
    if "4294967295 bytes is over the limit of 1048576" not in err:
        fail(f"frame-server did not refuse the 4 GiB header:\n{out}{err}")


def naive(server_path, client_path):
    server, port, narration = start([server_path, "--naive"])
    run = client(client_path, port)
    if run.returncode == 0 or "no answer within 2 s" not in run.stderr:
        fail(f"frame-client against --naive: status {run.returncode}, stdout {run.stdout!r}, stderr {run.stderr!r}",
             server)
    out, err = stop(server, narration)
    if "glued on, and lost" not in err:
        fail(f"frame-server --naive did not show the pitfall:\n{out}{err}")


def main():
    server_path, client_path = sys.argv[1:3]
    framed(server_path, client_path)
    naive(server_path, client_path)
    print("ok: frame-server found every frame; frame-server --naive lost the glued ones")
    return 0


if __name__ == "__main__":
    sys.exit(main())
