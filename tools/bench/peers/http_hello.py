#!/usr/bin/env python3
"""The reference peer for lesson 14: Python's http.server answering every GET
with "Hello, World!", the way its documentation writes a handler
(BaseHTTPRequestHandler on a ThreadingHTTPServer: a thread per connection).
protocol_version is HTTP/1.1, so connections are kept alive as they are by
every other server measured (`python3 -m http.server` is a file server, and
speaks HTTP/1.0: a connection per request).

    http_hello.py [--host 127.0.0.1] [--port 0] [--quiet]

Prints "listening on HOST:PORT"; Ctrl-C (SIGINT) or SIGTERM stops it."""
import argparse
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = b"Hello, World!"


class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The head and the body leave in two writes: with Nagle's algorithm on, the
    # body would wait for the client's delayed ACK, 40 ms per request (the
    # workbook's pitfall 8). socketserver's own switch sets TCP_NODELAY.
    disable_nagle_algorithm = True

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format, *args):
        pass  # a line on stderr per request would measure the terminal


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 4096


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="accepted for symmetry: it never narrates")
    arguments = parser.parse_args()
    with Server((arguments.host, arguments.port), Hello) as server:
        host, port = server.server_address[:2]
        print(f"listening on {host}:{port}", flush=True)
        # serve_forever runs on a thread so that the main thread can take the signal.
        stopped = threading.Event()
        for signo in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signo, lambda *_: stopped.set())
        threading.Thread(target=server.serve_forever, daemon=True).start()
        stopped.wait()
        server.shutdown()
    # Out at once: while the interpreter finalizes, SIGINT is back to its default
    # action, and a Ctrl-C repeated while stopping would kill it with status -2.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
