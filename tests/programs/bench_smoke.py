#!/usr/bin/env python3
"""tools/bench works: its load generator measures lesson 02's echo-server and
the asyncio peer, checks every byte (a server that corrupts one is caught),
tells a connection that is never served from one that is, holds idle
connections while it reads the server's /proc, refuses a target that is not
loopback, and compare prints its table. A few seconds in all; every step has
a deadline.

    bench_smoke.py LOAD ECHO_SERVER ASYNCIO_ECHO_PY COMPARE"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import DEADLINE, ENV, Server, fail, run  # noqa: E402

LOAD, ECHO_SERVER, ASYNCIO_ECHO = sys.argv[1:4]
COMPARE = sys.argv[4] if len(sys.argv) > 4 else None
SHORT = ["--duration", "0.5", "--warmup", "0.1"]


def timed_run(command, timeout):
    """run(), but a program still running at `timeout` is a failure that says so."""
    try:
        return run(command, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        fail(f"{' '.join(command)}: still running after {timeout:g} s\n--- stdout so far\n{expired.stdout}")


def load(*arguments, expect_status=0):
    """Runs load; returns its key=value line as a dict."""
    result = timed_run([LOAD, *arguments], timeout=DEADLINE * 2)
    if result.returncode != expect_status:
        fail(f"load {' '.join(arguments)}: status {result.returncode}, expected {expect_status}\n"
             f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}")
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    fields = dict(pair.split("=", 1) for pair in last.split() if "=" in pair)
    if "mode" not in fields:
        fail(f"load {' '.join(arguments)}: no key=value line at the end of\n{result.stdout}")
    return fields


def expect(fields, **wanted):
    for key, value in wanted.items():
        if fields.get(key) != str(value):
            fail(f"expected {key}={value}, got {fields.get(key)!r} in {fields}")


def corrupting_server():
    """A server that echoes faithfully, except one byte of its third echo."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(DEADLINE)

    def serve():
        with listener, listener.accept()[0] as client:
            client.settimeout(DEADLINE)
            echoed = 0
            while data := client.recv(65536):
                data = bytearray(data)
                if echoed < 150 <= echoed + len(data):
                    data[150 - echoed] ^= 0x20
                echoed += len(data)
                client.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def still_running(pids):
    """The pids among these that are still running (or not yet reaped)."""
    return [pid for pid in pids if os.path.exists(f"/proc/{pid}")]


def check_compare():
    """compare starts two servers, measures both, prints the table, draws the
    plot (or says how to get one), keeps the run with --record, stops both."""
    build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(LOAD))))
    svg = os.path.join(tempfile.mkdtemp(prefix="bench-smoke-"), "scaling.svg")
    record = os.path.join(os.path.dirname(svg), "record")
    result = timed_run([sys.executable, COMPARE, "--build", build, "--svg", svg, "--record", record, "--points", "1,2",
                  "--server", f"asyncio={sys.executable} {os.path.abspath(ASYNCIO_ECHO)}",
                  "--server", f"02={os.path.abspath(ECHO_SERVER)}",
                  "--connections", "2", "--duration", "0.3", "--repeat", "1", "--idle", "3", "--verbose"], timeout=60)
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    if result.returncode != 0 or len(table) != 3:
        fail(f"compare: status {result.returncode}, expected a header and 2 rows\n"
             f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}")
    if not re.match(r"\| asyncio \| [\d,]+/s ×1\.00 \| [\d.]+ MiB, 1 thread, ", table[1]):
        fail(f"compare: the asyncio row reads {table[1]!r}")
    if "(1 of 2 never answered)" not in table[2]:
        fail(f"compare: lesson 02's row should say one of two connections was never answered: {table[2]!r}")
    if not (os.path.exists(svg) and "<svg" in open(svg).read()) and "note: no plot: install gnuplot" not in result.stderr:
        fail(f"compare --svg neither wrote {svg} nor said how to get a plot:\n{result.stderr}")
    figures = os.path.join(record, "figures.md")
    text = open(figures).read() if os.path.exists(figures) else ""
    if not text.startswith("Recorded ") or "| asyncio | " not in text or "Round trips/s (p99 latency)" not in text:
        fail(f"compare --record wrote no figures.md with the machine, the table and the points:\n{text}")
    for plot in ("round-trips.svg", "p99.svg", "idle-memory.svg"):
        path = os.path.join(record, plot)
        if not (os.path.exists(path) and "<svg" in open(path).read()) and "install gnuplot" not in result.stderr:
            fail(f"compare --record neither drew {plot} nor said how to get it:\n{result.stderr}")
    shutil.rmtree(os.path.dirname(svg))
    started = re.findall(r"started \S+: pid (\d+)", result.stderr)
    if len(started) != 2:
        fail(f"compare --verbose should name the two servers it started:\n{result.stderr}")
    if left := still_running(started):
        fail(f"compare left servers running: pids {left}")


def main():
    # Lesson 02's server serves one client at a time: one connection is served,
    # and of three, two are never answered (and load says so, status 1).
    echo = Server([ECHO_SERVER, "--port", "0", "--quiet"])
    fields = load("pingpong", "--port", str(echo.port), "--connections", "1", *SHORT)
    expect(fields, connections=1, size=64, unanswered=0, failed=0, mismatches=0, ok=1)
    if int(fields["round_trips"]) < 10:
        fail(f"only {fields['round_trips']} round trips in 0.5 s against echo-server")
    fields = load("pingpong", "--port", str(echo.port), "--connections", "3", *SHORT, expect_status=1)
    expect(fields, unanswered=2, failed=0, mismatches=0, ok=0)
    if "recv()" in echo.stop():
        fail("echo-server --quiet still narrated every call", echo)

    # The asyncio peer serves many at once, messages larger than one recv too.
    peer = Server([sys.executable, ASYNCIO_ECHO, "--port", "0", "--quiet"])
    fields = load("pingpong", "--port", str(peer.port), "--connections", "5", "--size", "100000", *SHORT)
    expect(fields, connections=5, size=100000, unanswered=0, failed=0, mismatches=0, ok=1)
    fields = load("idle", "--port", str(peer.port), "--connections", "5", "--pid", str(peer.process.pid),
                  "--hold", "0.2")
    expect(fields, connections=5, answered=5, ok=1, threads_held=1)
    if int(fields["rss_held_kib"]) <= 0:
        fail(f"no RSS read from /proc/{peer.process.pid}/status: {fields}")
    peer.stop()

    # Every byte is checked: one wrong byte in the third echo is caught.
    fields = load("pingpong", "--port", str(corrupting_server()), "--connections", "1", *SHORT, expect_status=1)
    expect(fields, failed=1, mismatches=1, ok=0)

    # Loopback only.
    refused = run([LOAD, "pingpong", "--host", "192.0.2.1", "--port", "80"])
    if refused.returncode != 2 or "refusing to load 192.0.2.1" not in refused.stderr:
        fail(f"a target that is not loopback: status {refused.returncode}, stderr {refused.stderr!r}")

    if COMPARE:
        check_compare()

    print("ok: load measured echo-server and the asyncio peer, caught a wrong byte and unserved "
          "connections, read /proc, refused a remote target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
