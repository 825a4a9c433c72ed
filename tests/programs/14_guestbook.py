#!/usr/bin/env python3
"""Lesson 14's guestbook as a learner meets it: curl -v against Flask's hello
world (keep-alive: two URLs on one connection), HEAD, 405 with Allow, HTTP/1.0,
the JSON API (POST, then GET the list and one message, 404 and 400 and 422),
lesson 13's fetch as the client, three pipelined requests on a raw socket,
two loops on one port, the hostile clients, and Ctrl-C. Every wait has a
deadline.

    14_guestbook.py GUESTBOOK FETCH"""
import json
import os
import shutil
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, run, survive_hostile_clients  # noqa: E402

DEADLINE = 10.0


def curl(*args):
    """curl -sS with the given arguments: (exit status, stdout, stderr)."""
    result = run(["curl", "-sS", "--max-time", "5", *args], timeout=DEADLINE)
    return result.returncode, result.stdout, result.stderr


def expect(condition, what, server, detail=""):
    if not condition:
        fail(f"{what}\n{detail}", server)


def with_curl(server, url):
    status, body, log = curl("-v", url, url + "messages")
    expect(status == 0, "curl -v / /messages failed", server, log)
    expect(body == "Hello, World![]\n", f"curl printed {body!r}, expected Hello, World! then []", server, log)
    for line in ("< HTTP/1.1 200 OK", "< Content-Length: 13", "< Content-Type: text/plain; charset=utf-8", "< Date: "):
        expect(line in log, f"curl -v does not show {line!r}", server, log)
    expect("Re-using existing connection" in log, "curl opened a second connection for the second URL", server, log)

    status, head, log = curl("-I", url)
    expect(status == 0 and "Content-Length: 13" in head, "HEAD / should say Content-Length: 13", server, head + log)

    status, out, log = curl("-i", "-X", "DELETE", url)
    expect("405 Method Not Allowed" in out and "Allow: GET, HEAD" in out, "DELETE / should be a 405 with Allow: GET, HEAD",
           server, out)

    status, out, log = curl("-v", "--http1.0", url)
    expect(out == "Hello, World!" and "< Connection: close" in log, "an HTTP/1.0 request should get Connection: close",
           server, out + log)

    status, out, log = curl("-i", "-d", '{"name": "Ada", "text": "Hello!"}', "-H", "Content-Type: application/json",
                            url + "messages")
    expect("201 Created" in out and "Location: /messages/1" in out, "POST /messages should create message 1", server, out)
    status, out, log = curl(url + "messages/1")
    expect(json.loads(out) == {"id": 1, "name": "Ada", "text": "Hello!"}, "GET /messages/1", server, out)
    status, out, log = curl("-i", url + "messages/2")
    expect("404 Not Found" in out, "GET /messages/2 should be a 404", server, out)
    status, out, log = curl("-i", "-d", "{not json", url + "messages")
    expect("400 Bad Request" in out, "a POST that is not JSON should be a 400", server, out)
    status, out, log = curl("-i", "-d", '{"name": 7}', url + "messages")
    expect("422" in out, "a POST without name and text should be a 422", server, out)


def with_fetch(server, fetch, url):
    result = run([fetch, url + "messages"], timeout=DEADLINE)
    expect(result.returncode == 0 and json.loads(result.stdout)[0]["name"] == "Ada",
           "lesson 13's fetch of /messages", server, result.stdout + result.stderr)
    expect("< HTTP/1.1 200 OK" in result.stderr, "fetch narrates the status line", server, result.stderr)
    result = run([fetch, "--quiet", "--method", "POST", "--json", '{"name": "Bob", "text": "hi"}', url + "messages"],
                 timeout=DEADLINE)
    expect(result.returncode == 0 and json.loads(result.stdout)["id"] == 2, "fetch --method POST --json", server,
           result.stdout + result.stderr)
    result = run([fetch, "--method", "HEAD", url], timeout=DEADLINE)
    expect(result.returncode == 0 and result.stdout == "", "fetch --method HEAD returns at once, no body", server,
           result.stdout + result.stderr)


def pipelined(server):
    with server.connect() as sock:
        sock.sendall(b"GET /messages/2 HTTP/1.1\r\nHost: t\r\n\r\n"
                     b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n"
                     b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    parts = answer.split(b"HTTP/1.1 200 OK\r\n")
    expect(len(parts) == 4 and parts[1].endswith(b'"text":"hi"}\n') and parts[3].endswith(b"\r\n\r\nHello, World!"),
           "three pipelined requests: message 2, HEAD /, then GET / (and a close)", server, repr(answer))


def main():
    guestbook, fetch = sys.argv[1], sys.argv[2]
    if shutil.which("curl") is None:
        fail("curl is not installed: ./workbook installs it (or: sudo apt-get install curl)")
    server = Server([guestbook, "--port", "0"], deadline=DEADLINE)
    url = f"http://127.0.0.1:{server.port}/"
    with_curl(server, url)
    with_fetch(server, fetch, url)
    pipelined(server)
    survive_hostile_clients(server, partial=b"POST /messages HTTP/1.1\r\nHost: t\r\nContent-Length: 99\r\n\r\n{")
    status, body, log = curl(url)
    expect(body == "Hello, World!", "after the hostile clients, GET / should still work", server, body + log)
    output = server.stop()
    expect("GET /messages/1 -> 200" in output, "the narration names each request and its status", server, output)
    expect("stopped after" in output, "Ctrl-C should end with the request count", server, output)

    # Two loops on one port, quiet: every connection is served.
    server = Server([guestbook, "--port", "0", "--loops", "2", "--quiet"], deadline=DEADLINE)
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            expect(answer.endswith(b"Hello, World!"), "--loops 2: a connection was not served", server, repr(answer))
    output = server.stop()
    expect("-> 200" not in output, "--quiet should print no per-request lines", server, output)
    expect("stopped after 20 requests" in output, "--loops 2 should count 20 requests across both loops", server, output)
    print("ok: guestbook answered curl and fetch, kept connections alive, answered pipelined requests in order, "
          "survived hostile clients, and served on two loops")
    return 0


if __name__ == "__main__":
    sys.exit(main())
