#!/usr/bin/env python3
"""connect-probe --demo: a non-blocking connect to a closed port fails with
ECONNREFUSED at once, one to a backlog-0 listener that never accepts succeeds,
and the next one, its accept queue full, ends by connect-probe's own deadline.
connect-probe --port of a closed port exits 1, and --port is required."""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import fail, run  # noqa: E402


def main():
    probe = sys.argv[1]
    demo = run([probe, "--demo", "--timeout", "500"])
    out = demo.stdout + demo.stderr
    for wanted in ("getsockopt(SO_ERROR) = Connection refused", "getsockopt(SO_ERROR) = 0",
                   "timer: 500 ms passed, no answer to the SYN"):
        if wanted not in out:
            fail(f"connect-probe --demo did not print {wanted!r}:\n{out}")
    if demo.returncode != 0:
        fail(f"connect-probe --demo exited {demo.returncode}:\n{out}")

    closed = socket.socket()  # bound, not listening: the SYN gets a reset
    closed.bind(("127.0.0.1", 0))
    refused = run([probe, "--port", str(closed.getsockname()[1])])
    if refused.returncode != 1 or "Connection refused" not in refused.stdout + refused.stderr:
        fail(f"connect-probe on a closed port: status {refused.returncode}\n{refused.stdout}{refused.stderr}")
    closed.close()

    missing = run([probe])
    if missing.returncode != 2 or "--port is required" not in missing.stderr:
        fail(f"connect-probe without --port: status {missing.returncode}\n{missing.stderr}")
    print("ok: connect-probe: refused, connected, timed out on a full accept queue; --port required")
    return 0


if __name__ == "__main__":
    sys.exit(main())
