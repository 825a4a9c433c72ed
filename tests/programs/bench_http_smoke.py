#!/usr/bin/env python3
"""tools/bench's HTTP mode works: `load http` measures the Python http.server
peer with keep-alive GETs, reads a chunked response cut into pieces of a few
bytes, counts a 404 as not 2xx, fails a connection whose response has no
framing or that says Connection: close, refuses a path that would break the
request line, and `compare --http` prints its table. About seven seconds in
all; every step has a deadline.

    bench_http_smoke.py LOAD HTTP_HELLO_PY COMPARE"""
import os
import re
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import DEADLINE, Server, fail, run  # noqa: E402

LOAD, HTTP_HELLO, COMPARE = sys.argv[1:4]
# A whole second measured: a loaded CI machine once stalled a scripted peer for the
# whole of a 0.2 s window (805 responses in the warm-up, none after).
SHORT = ["--duration", "1", "--warmup", "0.05"]

CHUNKED = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
           b"5;note=ext\r\nHello\r\n8\r\n, World!\r\n0\r\nX-Trailer: yes\r\n\r\n")
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nNot Found"
UNFRAMED = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nHello, World!"
CLOSING = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


def scripted_server(response, piece=0):
    """A one-connection server that answers every request with `response`,
    sent in pieces of `piece` bytes (0: in one send); port returned."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(DEADLINE)

    def serve():
        with listener, listener.accept()[0] as client:
            client.settimeout(DEADLINE)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pending = b""
            try:
                while data := client.recv(65536):
                    pending += data
                    while b"\r\n\r\n" in pending:
                        pending = pending.split(b"\r\n\r\n", 1)[1]
                        for at in range(0, len(response), piece or len(response)):
                            client.sendall(response[at:at + (piece or len(response))])
                        if b"Connection: close" in response or b"Content-Length" not in response \
                                and b"chunked" not in response:
                            return
            except (ConnectionError, TimeoutError):
                pass  # the load closes its connection when its time is up

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def load(*arguments, expect_status=0):
    """Runs load http; returns its key=value line as a dict (and stdout as 'text')."""
    try:
        result = run([LOAD, "http", *arguments], timeout=DEADLINE * 2)
    except subprocess.TimeoutExpired as expired:
        fail(f"load http {' '.join(arguments)}: still running after {DEADLINE * 2:g} s\n{expired.stdout}")
    if result.returncode != expect_status:
        fail(f"load http {' '.join(arguments)}: status {result.returncode}, expected {expect_status}\n"
             f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}")
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    fields = dict(pair.split("=", 1) for pair in last.split() if "=" in pair)
    if fields.get("mode") != "http":
        fail(f"load http {' '.join(arguments)}: no mode=http key=value line at the end of\n{result.stdout}")
    fields["text"] = result.stdout
    return fields


def expect(fields, **wanted):
    for key, value in wanted.items():
        if fields.get(key) != str(value):
            fail(f"expected {key}={value}, got {fields.get(key)!r} in\n{fields['text']}")


def check_compare(peer_command):
    """compare --http measures a server given on its command line and prints its
    row: requests/s, the server's CPU per request, memory with idle connections
    that were each served a GET."""
    try:
        result = run([sys.executable, COMPARE, "--http", "--build", os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(LOAD)))), "--server", f"python={peer_command}", "--connections", "3",
            # A second (and half a second of warm-up): in 0.2 s a loaded CI machine once left the
            # thread-per-connection peer no time to start its three threads (3 of 3 never answered).
            "--duration", "1", "--repeat", "1", "--idle", "3"], timeout=DEADLINE * 3)
    except subprocess.TimeoutExpired as expired:
        fail(f"compare --http: still running after {DEADLINE * 3:g} s\n{expired.stdout}")
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    row = r"\| python \| [\d,]+/s ×1\.00(, [\d.]+ µs CPU/req)? \| [\d.]+ MiB, \d+ threads, -?[\d.]+ KiB/conn \|$"
    if result.returncode != 0 or len(table) != 2 or not re.match(row, table[1]):
        fail(f"compare --http: status {result.returncode}, expected a header and one row like {row!r}\n"
             f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}")


def main():
    peer = Server([sys.executable, HTTP_HELLO, "--port", "0", "--quiet"])
    fields = load("--port", str(peer.port), "--connections", "4", *SHORT)
    expect(fields, connections=4, path="/", body_bytes=13, non2xx=0, unanswered=0, failed=0, ok=1)
    if int(fields["requests"]) < 10:
        fail(f"only {fields['requests']} requests in 1 s against the http.server peer:\n{fields['text']}")
    peer.stop()

    # Framing is parsed, not guessed: a chunked body in 3-byte pieces, extension and trailer included.
    fields = load("--port", str(scripted_server(CHUNKED, piece=3)), "--connections", "1", *SHORT)
    expect(fields, body_bytes=13, non2xx=0, failed=0, ok=1)

    fields = load("--port", str(scripted_server(NOT_FOUND)), "--connections", "1", *SHORT, expect_status=1)
    expect(fields, failed=0, ok=0)
    # Warm-up included: a wrong status is reported whenever it came.
    if int(fields["non2xx"]) != int(fields["all_requests"]) or int(fields["non2xx"]) == 0 \
            or "404 Not Found" not in fields["text"]:
        fail(f"every response was a 404, and load should say so:\n{fields['text']}")

    fields = load("--port", str(scripted_server(UNFRAMED)), "--connections", "1", *SHORT, expect_status=1)
    expect(fields, requests=0, failed=1, ok=0)
    if "without Content-Length or chunked" not in fields["text"]:
        fail(f"a response without framing should be named as such:\n{fields['text']}")

    fields = load("--port", str(scripted_server(CLOSING)), "--connections", "1", *SHORT, expect_status=1)
    expect(fields, failed=1, ok=0)
    if "Connection: close after 1 response" not in fields["text"]:
        fail(f"a server that closes a keep-alive connection should be named as such:\n{fields['text']}")

    refused = run([LOAD, "http", "--port", "80", "--path", "/a b"])
    if refused.returncode != 2 or "--path must start with /" not in refused.stderr:
        fail(f"a path with a space: status {refused.returncode}, stderr {refused.stderr!r}")

    check_compare(f"{sys.executable} {os.path.abspath(HTTP_HELLO)}")
    print("ok: load http measured the http.server peer, read a chunked response in pieces, counted 404s, "
          "failed an unframed response and a Connection: close, refused a bad path; compare --http printed its table")
    return 0


if __name__ == "__main__":
    sys.exit(main())
