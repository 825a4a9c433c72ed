#!/usr/bin/env python3
"""Runs lesson 05's programs as a learner would: frame-client against
frame-server (glued frames, an empty frame, frames fed one byte at a time, a
header announcing 4 GiB), then against frame-server --naive, which must show
frames glued together and lost. Servers stop on Ctrl-C (SIGINT); every wait
has a deadline."""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, run  # noqa: E402


def read_frame(sock):
    data = b""
    while len(data) < 4 or len(data) < 4 + struct.unpack(">I", data[:4])[0]:
        chunk = sock.recv(1)
        if not chunk:
            fail(f"the server closed mid-answer after {data!r}")
        data += chunk
    return data[4:]


def framed(server_path, client_path):
    server = Server([server_path, "--port", "0"])
    answered = run([client_path, "--port", str(server.port)])
    answers = ("frame #1: 5 bytes", "frame #2: 0 bytes", "frame #3: 23 bytes")
    if answered.returncode != 0 or not all(answer in answered.stdout for answer in answers):
        fail(f"frame-client: status {answered.returncode}, stdout {answered.stdout!r}, stderr {answered.stderr!r}",
             server)

    with server.connect() as sock:
        for byte in struct.pack(">I", 2) + b"hi" + struct.pack(">I", 0):  # one byte per send
            sock.sendall(bytes([byte]))
        for expected in (b"frame #1: 2 bytes", b"frame #2: 0 bytes"):
            got = read_frame(sock)
            if got != expected:
                fail(f"answered {got!r}, expected {expected!r}", server)

    oversize = run([client_path, "--port", str(server.port), "--oversize"])
    if oversize.returncode != 0 or "refused the frame" not in oversize.stdout:
        fail(f"frame-client --oversize: status {oversize.returncode}, stdout {oversize.stdout!r}, "
             f"stderr {oversize.stderr!r}", server)
    out, err = server.stop(), server.errors()
    for expected in ("header 00 00 00 05: 5 bytes of payload follow", "recv() = 0 between frames"):
        if expected not in out:
            fail(f"frame-server's narration lacks {expected!r}:\n{out}")
    if "4294967295 bytes is over the limit of 1048576" not in err:
        fail(f"frame-server did not refuse the 4 GiB header:\n{out}{err}")


def naive(server_path, client_path):
    server = Server([server_path, "--naive", "--port", "0"])
    lost = run([client_path, "--port", str(server.port)])
    if lost.returncode == 0 or "no answer within 2 s" not in lost.stderr:
        fail(f"frame-client against --naive: status {lost.returncode}, stdout {lost.stdout!r}, stderr {lost.stderr!r}",
             server)
    out, err = server.stop(), server.errors()
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
