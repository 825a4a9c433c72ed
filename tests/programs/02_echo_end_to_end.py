#!/usr/bin/env python3
"""Runs lesson 02's echo-server as a learner would and talks to it: with
echo-client (by address and as localhost), with a raw socket (like nc), with a client that leaves without a
word, then stops it with Ctrl-C (SIGINT). Every wait has a deadline."""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, read_to_eof, run  # noqa: E402


def main():
    server_path, client_path = sys.argv[1], sys.argv[2]
    server = Server([server_path, "--port", "0"])

    client = run([client_path, "--port", str(server.port), "hello from echo-client"])
    if client.returncode != 0 or "echo: hello from echo-client" not in client.stdout:
        fail(f"echo-client: status {client.returncode}, stdout {client.stdout!r}, stderr {client.stderr!r}", server)

    # By name: on a stock dual-stack machine localhost is ::1 first, which refuses
    # (the server listens on 127.0.0.1 only), then 127.0.0.1. Elsewhere it is
    # 127.0.0.1 alone. Either way echo-client must reach the server.
    client = run([client_path, "--host", "localhost", "--port", str(server.port), "hello, localhost"])
    if client.returncode != 0 or "echo: hello, localhost" not in client.stdout:
        fail(f"echo-client --host localhost: status {client.returncode}, stdout {client.stdout!r}, "
             f"stderr {client.stderr!r}", server)
    first = socket.getaddrinfo("localhost", server.port, type=socket.SOCK_STREAM)[0]
    if first[0] == socket.AF_INET6 and "trying the next address" not in client.stderr:
        fail(f"localhost is ::1 first here, but echo-client did not say it moved on: {client.stderr!r}", server)

    with server.connect():
        pass  # connect and leave without sending: the server must carry on

    payload = bytes(range(256)) * 40
    with server.connect() as raw:
        raw.sendall(payload)
        raw.shutdown(socket.SHUT_WR)
        echoed = read_to_eof(raw)
    if echoed != payload:
        fail(f"raw client got {len(echoed)} bytes back, sent {len(payload)}", server)

    out = server.stop()
    for expected in ("socket() = fd", "bind(127.0.0.1:", "accept() = fd", "recv() = 0", "stopping"):
        if expected not in out:
            fail(f"the server's narration lacks {expected!r}:\n{out}")
    print("ok: echo-server served echo-client, a silent client and a raw client, then stopped on SIGINT")
    return 0


if __name__ == "__main__":
    sys.exit(main())
