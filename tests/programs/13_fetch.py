#!/usr/bin/env python3
"""Runs lesson 13's fetch (and naive-get) against a real server the learner
has, `python3 -m http.server`, on 127.0.0.1 and a port the kernel picks:
HTTP/1.0 (the server closes after each response), HTTP/1.1 (it keeps the
connection open: fetch must still return at once, naive-get hangs), HEAD, a
redirect, a 404, JSON, --quiet, and a refused connection. Every wait has a
deadline."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Program, expect_in, fail, run, run_expecting  # noqa: E402

DEADLINE = 10.0


def http_server(directory, *extra):
    """python3 -m http.server on 127.0.0.1, port 0; its printed port."""
    server = Program([sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", directory,
                      *extra, "0"], merge_stderr=True, deadline=DEADLINE)
    match = server.wait_for(r"Serving HTTP on 127\.0\.0\.1 port (?P<port>\d+)", "http.server's port")
    return server, int(match.group("port"))


def fetch(fetch_path, *args, expect=0):
    return run_expecting([fetch_path, *args], expect=expect, timeout=DEADLINE)


def main():
    fetch_path, naive_path = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as directory:
        with open(os.path.join(directory, "hello.txt"), "w") as f:
            f.write("hello, http\n")
        with open(os.path.join(directory, "data.json"), "w") as f:
            json.dump({"lesson": 13, "ok": True}, f)
        os.mkdir(os.path.join(directory, "sub"))
        with open(os.path.join(directory, "sub", "index.html"), "w") as f:
            f.write("<p>inside</p>\n")

        server, port = http_server(directory)
        base = f"http://127.0.0.1:{port}"
        try:
            result = fetch(fetch_path, f"{base}/hello.txt")
            if result.stdout != "hello, http\n":
                fail(f"body {result.stdout!r}, expected 'hello, http\\n'")
            for line in ("> GET /hello.txt HTTP/1.1", f"> Host: 127.0.0.1:{port}", "< HTTP/1.0 200 OK",
                         "< Content-Length: 12"):
                expect_in(result.stderr, line, "fetch's narration")

            quiet = fetch(fetch_path, "--quiet", f"{base}/data.json")
            if json.loads(quiet.stdout) != {"lesson": 13, "ok": True} or quiet.stderr != "":
                fail(f"--quiet: stdout {quiet.stdout!r}, stderr {quiet.stderr!r}")

            head = fetch(fetch_path, "--method", "HEAD", f"{base}/hello.txt")
            if head.stdout != "":
                fail(f"HEAD printed a body: {head.stdout!r}")

            moved = fetch(fetch_path, f"{base}/sub")  # http.server answers 301 Location: /sub/
            expect_in(moved.stderr, "< HTTP/1.0 301", "the redirect")
            expect_in(moved.stdout, "<p>inside</p>", "the redirected body")

            missing = fetch(fetch_path, f"{base}/nope", expect=22)
            expect_in(missing.stderr, "< HTTP/1.0 404", "a 404")
        finally:
            server.process.terminate()
            server.process.wait(timeout=DEADLINE)

        # HTTP/1.1: the server keeps the connection open after each response.
        try:
            server, port = http_server(directory, "--protocol", "HTTP/1.1")
        except SystemExit:
            print("SKIP: this python3's http.server has no --protocol (Python < 3.11)")
            return
        try:
            started = time.monotonic()
            kept = fetch(fetch_path, f"http://127.0.0.1:{port}/hello.txt")
            took = time.monotonic() - started
            expect_in(kept.stderr, "< HTTP/1.1 200 OK", "fetch on HTTP/1.1")
            expect_in(kept.stderr, "the connection could be reused", "fetch on HTTP/1.1")
            if kept.stdout != "hello, http\n" or took > 2.0:
                fail(f"fetch on a kept-alive connection: {kept.stdout!r} after {took:.2f} s")
            try:
                naive = subprocess.run([naive_path, "--port", str(port), "--path", "/hello.txt"],
                                       capture_output=True, text=True, timeout=1.5)
                fail(f"naive-get returned on a kept-alive connection (it should hang): {naive.stdout}")
            except subprocess.TimeoutExpired:
                pass  # the chapter's failure: it waits for a close that never comes
        finally:
            server.process.terminate()
            server.process.wait(timeout=DEADLINE)

    refused = fetch(fetch_path, "http://127.0.0.1:1/", expect=1)
    expect_in(refused.stderr, "Connection refused", "a refused connection")
    print("ok")


if __name__ == "__main__":
    main()
