#!/usr/bin/env python3
"""Runs lesson 06's programs as a learner would: udp-echo-server with
udp-client, a raw socket sending a datagram too large for the server's buffer,
a lossy server (--lose-every) that makes the client retry, a client with no
server, and the naive --no-timeout client stopped with Ctrl-C. Every wait has
a deadline."""
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import DEADLINE, ENV, Program, Server, fail, run  # noqa: E402


def start_server(server_path, *extra):
    return Server([server_path, "--port", "0", *extra], listening=r"listening on (?P<host>\S+):(?P<port>\d+) \(UDP\)")


def client(client_path, port, *args):
    return run([client_path, "--port", str(port), *args], timeout=DEADLINE * 2)


def main():
    server_path, client_path = sys.argv[1], sys.argv[2]

    server = start_server(server_path)
    answered = client(client_path, server.port, "hello from udp-client")
    if answered.returncode != 0 or "answer: hello from udp-client" not in answered.stdout:
        fail(f"udp-client: status {answered.returncode}, stdout {answered.stdout!r}, stderr {answered.stderr!r}",
             server)

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.settimeout(DEADLINE)
        raw.sendto(b"x" * 2000, ("127.0.0.1", server.port))
        raw.sendto(b"small", ("127.0.0.1", server.port))
        first = raw.recv(65536)
        if first != b"small":
            fail(f"the first echo was {len(first)} bytes, expected b'small': a cut datagram was echoed", server)
    out, err = server.stop(), server.errors()
    for expected in ("socket(SOCK_DGRAM) = fd", "recvfrom() = 2000 bytes from 127.0.0.1:", "sendto(127.0.0.1:",
                     "stopping"):
        if expected not in out:
            fail(f"the server's narration lacks {expected!r}:\n{out}")
    if "was 2000 bytes, the buffer holds 1024" not in err:
        fail(f"the server did not report the cut datagram:\n{err}")

    server = start_server(server_path, "--lose-every", "2")
    first = client(client_path, server.port, "one")
    second = client(client_path, server.port, "two", "--timeout", "100")
    if first.returncode != 0 or second.returncode != 0 or "answer: two" not in second.stdout:
        fail(f"with --lose-every 2: {first!r}\n{second!r}", server)
    if "no reply within 100 ms" not in second.stderr or "attempt 2 of 4" not in second.stdout:
        fail(f"the second client should have retried once:\n{second.stdout}{second.stderr}", server)
    server.stop()

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    started = time.monotonic()
    # Loopback always answers with ICMP "port unreachable" (never rate-limited
    # there), so the connected client must report ECONNREFUSED at once. Without
    # NO_COLOR and with stderr a pipe, the warning it logs first checks for a
    # terminal (isatty sets errno): the error must still be the recv's.
    alone = run([client_path, "--port", str(closed_port), "anyone?", "--timeout", "50", "--attempts", "3"],
                timeout=DEADLINE * 2, env={"PATH": ENV["PATH"]})
    if alone.returncode != 1 or "ICMP port unreachable" not in alone.stderr or \
            not re.search(r"error: recv from 127\.0\.0\.1:\d+: Connection refused", alone.stderr):
        fail(f"udp-client with no server: status {alone.returncode}, stderr {alone.stderr!r}, "
             "expected the warning and 'recv from ...: Connection refused'")
    if time.monotonic() - started > 3:
        fail("udp-client with no server took more than 3 s to give up")

    server = start_server(server_path, "--lose-every", "1")
    naive = Program([client_path, "--port", str(server.port), "--no-timeout", "lost"])
    naive.wait_for(r"now recv\(\) with no timeout", "the --no-timeout client")
    # The line above is printed just before recv() blocks: a Ctrl-C that lands
    # in between is only noticed at the next one (chapter 04's check-then-block
    # gap), so press it again until the client is gone, as a person would.
    end = time.monotonic() + DEADLINE
    status = None
    while status is None and time.monotonic() < end:
        naive.signal(signal.SIGINT)
        try:
            status = naive.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
    if status is None:
        fail("the --no-timeout client did not stop on Ctrl-C", naive)
    if status != 1 or "interrupted" not in naive.errors():
        fail(f"the --no-timeout client: status {status}, stderr {naive.errors()!r}")
    server.stop()
    print("ok: echo, a cut datagram not echoed, a retry after a loss, no server, the naive client stopped by Ctrl-C")
    return 0


if __name__ == "__main__":
    sys.exit(main())
