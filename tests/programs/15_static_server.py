#!/usr/bin/env python3
"""Lesson 15's static-server as a learner meets it, after naive-server.

naive-server first (the chapter's failures still happen): a second
Content-Length smuggles a request (two answers to one request), and
"/../" reads a file outside the root. Then static-server on a temporary root
with a secret beside it and a symlink pointing out: curl -v, HEAD, 304 by
ETag and by date, every traversal form a 404 or 400 with no secret, the
smuggling refused with one 400 and a close, a head dripped a byte at a time
answered 408 on time, 200 slowloris connections (a byte a second each) that
do not delay a normal GET, the hostile clients, and Ctrl-C. Every wait has a
deadline.

    15_static_server.py STATIC_SERVER NAIVE_SERVER"""
import os
import shutil
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, read_to_eof, run, survive_hostile_clients  # noqa: E402

DEADLINE = 10.0
SECRET = b"TOP SECRET beside the root"


def curl(*args):
    result = run(["curl", "-sS", "--max-time", "5", *args], timeout=DEADLINE)
    return result.returncode, result.stdout, result.stderr


def expect(condition, what, server, detail=""):
    if not condition:
        fail(f"{what}\n{detail}", server)


def make_tree(base):
    root = os.path.join(base, "root")
    os.makedirs(os.path.join(root, "docs"))
    with open(os.path.join(base, "secret.txt"), "wb") as f:
        f.write(SECRET)
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("<h1>home</h1>\n")
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write("hello\n")
    with open(os.path.join(root, ".env"), "wb") as f:
        f.write(SECRET)
    os.symlink("../secret.txt", os.path.join(root, "escape"))
    return root


def exchange(port, request, timeout=DEADLINE):
    """Sends `request` on a new connection; everything until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        return read_to_eof(sock)


SMUGGLE = (b"POST /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: 38\r\n\r\n"
           b"GET /admin HTTP/1.1\r\nHost: t\r\n\r\n")


def naive_failures(naive_binary, root):
    server = Server([naive_binary, "--port", "0", "--root", root], deadline=DEADLINE)
    url = f"http://127.0.0.1:{server.port}"
    status, out, log = curl("--path-as-is", url + "/../secret.txt")
    expect(out.encode() == SECRET, "naive-server should serve /../secret.txt (the chapter's first failure)", server, out)
    status, out, log = curl(url + "/%2e%2e/secret.txt")
    expect(out.encode() == SECRET, "naive-server should serve /%2e%2e/secret.txt", server, out)
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as sock:
        sock.sendall(SMUGGLE)
        answer = b""
        while answer.count(b"HTTP/1.1 ") < 2 and b"only for insiders" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    expect(b"only for insiders" in answer, "naive-server should answer the smuggled GET /admin", server, repr(answer))
    server.stop()


def files_and_conditions(server, url):
    status, body, log = curl("-v", url + "/")
    expect(status == 0 and body == "<h1>home</h1>\n", "curl -v / should print the index", server, body + log)
    for line in ("< HTTP/1.1 200 OK", "< Content-Type: text/html; charset=utf-8", "< ETag: \"", "< Last-Modified: "):
        expect(line in log, f"curl -v / does not show {line!r}", server, log)
    etag = next(l.split(": ", 1)[1].strip() for l in log.splitlines() if l.startswith("< ETag: "))
    modified = next(l.split(": ", 1)[1].strip() for l in log.splitlines() if l.startswith("< Last-Modified: "))
    status, head, log = curl("-I", url + "/hello.txt")
    expect("Content-Length: 6" in head and "text/plain" in head, "HEAD /hello.txt", server, head)
    for header in (f"If-None-Match: {etag}", f"If-Modified-Since: {modified}"):
        status, out, log = curl("-i", "-H", header, url + "/")
        expect(out.startswith("HTTP/1.1 304 Not Modified") and out.endswith("\n\n"), f"{header} should be a 304, no body",
               server, out)
    status, out, log = curl("-i", "-X", "DELETE", url + "/hello.txt")
    expect("405 Method Not Allowed" in out and "Allow: GET, HEAD" in out, "DELETE should be a 405", server, out)


def traversal(server, url):
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2fsecret.txt", "/..%2fsecret.txt",
                 "/%252e%252e/secret.txt", "/..%5csecret.txt", "/escape", "/.env", "/secret.txt%00"):
        status, out, log = curl("-i", "--path-as-is", url + path)
        expect(SECRET.decode() not in out, f"GET {path} reached the secret outside the root", server, out)
        expect(out.startswith("HTTP/1.1 404") or out.startswith("HTTP/1.1 400"), f"GET {path} should be 404 or 400",
               server, out)


def smuggling(server):
    answer = exchange(server.port, SMUGGLE)
    expect(answer.startswith(b"HTTP/1.1 400 Bad Request") and answer.count(b"HTTP/1.1 ") == 1,
           "two Content-Lengths should get one 400 and a close, nothing more", server, repr(answer))


def dripped_head(server, header_timeout):
    """A head sent a byte every 50 ms gets a 408 about header_timeout after its first byte."""
    head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Padding: " + b"x" * 400 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as sock:
        start = time.monotonic()
        sock.settimeout(0.05)
        answer = b""
        for i in range(len(head)):
            if time.monotonic() - start > 4 * header_timeout:
                break
            sock.sendall(head[i:i + 1])
            try:
                answer = sock.recv(65536)  # waiting for an answer, 50 ms at most: the drip's pace
                break
            except socket.timeout:
                continue
        elapsed = time.monotonic() - start
        sock.settimeout(DEADLINE)
        answer += read_to_eof(sock)
    expect(answer.startswith(b"HTTP/1.1 408 Request Timeout"), "a dripped head should get a 408", server, repr(answer))
    # The upper bound is loose for a loaded machine, yet below 4 s: a deadline that each
    # byte restarts answers only after the drip stops at 4 s, and the idle one at 5 s.
    expect(0.8 * header_timeout <= elapsed <= 3.5 * header_timeout,
           f"the 408 came {elapsed:.2f} s after the first byte; the header deadline is {header_timeout} s", server)


def slowloris(server, count=200):
    """count connections each drip a byte a second; a normal GET must still take
    well under a second, and the dripping ones end with a 408 or a close."""
    socks = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)
        sock.sendall(b"GET / HTTP/1.1\r\n")
        socks.append(sock)
    stop = threading.Event()

    def drip():
        while not stop.wait(1.0):
            for sock in socks:
                try:
                    sock.send(b"X")
                except OSError:
                    pass

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        times = []
        for _ in range(5):
            start = time.monotonic()
            status, body, log = curl("--max-time", "2", f"http://127.0.0.1:{server.port}/hello.txt")
            times.append(time.monotonic() - start)
            expect(status == 0 and body == "hello\n", "a GET beside 200 slowloris connections failed", server, log)
        # The fastest of five: one curl can take a second to start on a loaded machine
        # (load average 224 once), while a server the drip blocks is slow every time.
        expect(min(times) < 1.0, f"a GET beside {count} slowloris connections took {min(times):.2f} s at best", server)
        # Every dripping connection is answered 408 or closed by the header deadline.
        ended = 0
        end = time.monotonic() + DEADLINE
        for sock in socks:
            sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                data = read_to_eof(sock)
                ended += data == b"" or data.startswith(b"HTTP/1.1 408")
            except (socket.timeout, ConnectionResetError):
                pass
        expect(ended == count, f"only {ended} of {count} slowloris connections were ended by the header deadline", server)
    finally:
        stop.set()
        dripper.join(timeout=DEADLINE)
        for sock in socks:
            sock.close()
    return min(times)


def main():
    static_binary, naive_binary = sys.argv[1], sys.argv[2]
    if shutil.which("curl") is None:
        fail("curl is not installed: ./workbook installs it (or: sudo apt-get install curl)")
    with tempfile.TemporaryDirectory(prefix="workbook-15-") as base:
        root = make_tree(base)
        naive_failures(naive_binary, root)
        header_timeout = 1.0
        server = Server([static_binary, "--port", "0", "--root", root, "--header-timeout", "1000",
                         "--idle-timeout", "5000"], deadline=DEADLINE)
        url = f"http://127.0.0.1:{server.port}"
        files_and_conditions(server, url)
        traversal(server, url)
        smuggling(server)
        dripped_head(server, header_timeout)
        survive_hostile_clients(server, partial=b"POST /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 99\r\n\r\n{")
        output = server.stop()
        expect("GET / -> 200" in output, "the narration names each request and its status", server, output)
        expect("408 Request Timeout" in output, "the narration says when a request timed out", server, output)

        server = Server([static_binary, "--port", "0", "--root", root, "--header-timeout", "3000", "--quiet"],
                        deadline=DEADLINE)
        fastest = slowloris(server)
        output = server.stop()
        expect("-> 200" not in output, "--quiet should print no per-request lines", server, output)
    print(f"ok: naive-server fell for smuggling and traversal; static-server refused them, served files with 304s, "
          f"timed out a dripped head, served a GET in {fastest * 1000:.0f} ms (fastest of 5) beside 200 slowloris connections, "
          "and survived hostile clients")
    return 0


if __name__ == "__main__":
    sys.exit(main())
