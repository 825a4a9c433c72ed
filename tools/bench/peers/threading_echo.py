#!/usr/bin/env python3
"""The reference peer for lesson 08: an echo server on Python's
socketserver.ThreadingTCPServer (a thread per client, ThreadingMixIn), the
way its documentation writes one.

    threading_echo.py [--host 127.0.0.1] [--port 0] [--quiet]

Prints "listening on HOST:PORT"; Ctrl-C (SIGINT) or SIGTERM stops it."""
import argparse
import os
import signal
import sys
import socketserver
import threading


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            while data := self.request.recv(65536):
                self.request.sendall(data)
        except ConnectionError:
            pass  # a client that resets ends its own thread, never the server


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 4096


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="accepted for symmetry: it never narrates")
    arguments = parser.parse_args()
    with Server((arguments.host, arguments.port), Echo) as server:
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
