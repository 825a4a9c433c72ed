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

DEADLINE = 5.0
ENV = {"NO_COLOR": "1", "PATH": "/usr/bin:/bin"}


def fail(message, process=None):
    print(f"FAIL: {message}")
    if process is not None:
        process.kill()
        out, err = process.communicate(timeout=DEADLINE)
        print(f"--- stdout\n{out}--- stderr\n{err}")
    sys.exit(1)


def read_until(process, pattern):
    """Reads the process's stdout until a line matches; returns (match, text)."""
    end = time.monotonic() + DEADLINE
    os.set_blocking(process.stdout.fileno(), False)
    seen = ""
    while time.monotonic() < end:
        line = process.stdout.readline()
        if line:
            seen += line
            match = re.search(pattern, seen)
            if match:
                return match, seen
        else:
            time.sleep(0.02)
    fail(f"no line matching {pattern!r} within {DEADLINE} s; got {seen!r}", process)


def start_server(server_path, *extra):
    server = subprocess.Popen([server_path, "--port", "0", *extra], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=ENV)
    match, narration = read_until(server, r"listening on (\S+):(\d+) \(UDP\)")
    if match.group(1) != "127.0.0.1":
        fail(f"listening on {match.group(1)}, expected 127.0.0.1 by default", server)
    return server, int(match.group(2)), narration


def stop(server, narration):
    server.send_signal(signal.SIGINT)
    try:
        out, err = server.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        fail("the server did not exit within 5 s of Ctrl-C (SIGINT)", server)
    if server.returncode != 0:
        fail(f"the server exited with status {server.returncode} after Ctrl-C; stderr {err!r}")
    return narration + out, err


def client(client_path, port, *args):
    return subprocess.run([client_path, "--port", str(port), *args], capture_output=True, text=True,
                          timeout=DEADLINE * 2, env=ENV)


def main():
    server_path, client_path = sys.argv[1], sys.argv[2]

    server, port, narration = start_server(server_path)
    run = client(client_path, port, "hello from udp-client")
    if run.returncode != 0 or "answer: hello from udp-client" not in run.stdout:
        fail(f"udp-client: status {run.returncode}, stdout {run.stdout!r}, stderr {run.stderr!r}", server)

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.settimeout(DEADLINE)
        raw.sendto(b"x" * 2000, ("127.0.0.1", port))
        raw.sendto(b"small", ("127.0.0.1", port))
        first = raw.recv(65536)
        if first != b"small":
            fail(f"the first echo was {len(first)} bytes, expected b'small': a cut datagram was echoed", server)
    out, err = stop(server, narration)
    for expected in ("socket(SOCK_DGRAM) = fd", "recvfrom() = 2000 bytes from 127.0.0.1:", "sendto(127.0.0.1:",
                     "stopping"):
        if expected not in out:
            fail(f"the server's narration lacks {expected!r}:\n{out}")
    if "was 2000 bytes, the buffer holds 1024" not in err:
        fail(f"the server did not report the cut datagram:\n{err}")

    server, port, narration = start_server(server_path, "--lose-every", "2")
    first = client(client_path, port, "one")
    second = client(client_path, port, "two", "--timeout", "100")
    if first.returncode != 0 or second.returncode != 0 or "answer: two" not in second.stdout:
        fail(f"with --lose-every 2: {first!r}\n{second!r}", server)
    if "no reply within 100 ms" not in second.stderr or "attempt 2 of 4" not in second.stdout:
        fail(f"the second client should have retried once:\n{second.stdout}{second.stderr}", server)
    stop(server, narration)

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    started = time.monotonic()
    # Loopback always answers with ICMP "port unreachable" (never rate-limited
    # there), so the connected client must report ECONNREFUSED at once. Without
    # NO_COLOR and with stderr a pipe, the warning it logs first checks for a
    # terminal (isatty sets errno): the error must still be the recv's.
    run = subprocess.run([client_path, "--port", str(closed_port), "anyone?", "--timeout", "50", "--attempts", "3"],
                         capture_output=True, text=True, timeout=DEADLINE * 2, env={"PATH": ENV["PATH"]})
    if run.returncode != 1 or "ICMP port unreachable" not in run.stderr or \
            not re.search(r"error: recv from 127\.0\.0\.1:\d+: Connection refused", run.stderr):
        fail(f"udp-client with no server: status {run.returncode}, stderr {run.stderr!r}, "
             "expected the warning and 'recv from ...: Connection refused'")
    if time.monotonic() - started > 3:
        fail("udp-client with no server took more than 3 s to give up")

    server, port, narration = start_server(server_path, "--lose-every", "1")
    naive = subprocess.Popen([client_path, "--port", str(port), "--no-timeout", "lost"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=ENV)
    read_until(naive, r"now recv\(\) with no timeout")
    naive.send_signal(signal.SIGINT)
    try:
        _, err = naive.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        fail("the --no-timeout client did not stop on Ctrl-C", naive)
    if naive.returncode != 1 or "interrupted" not in err:
        fail(f"the --no-timeout client: status {naive.returncode}, stderr {err!r}")
    stop(server, narration)
    print("ok: echo, a cut datagram not echoed, a retry after a loss, no server, the naive client stopped by Ctrl-C")
    return 0


if __name__ == "__main__":
    sys.exit(main())
