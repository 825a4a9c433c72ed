#!/usr/bin/env python3
"""Lesson 07's time-server against hostile clients (a reset in the accept queue,
a reset mid-message, a silent one, a megabyte at once), in each of its ways of
waiting for a client to close and as a daytime server: it must drop each one,
keep serving, answer an ordinary client, and stop cleanly on Ctrl-C. Every wait
has a deadline."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, read_to_eof, survive_hostile_clients  # noqa: E402

EPOCH_OFFSET = 2208988800


def main():
    server_path = sys.argv[1]
    for mode in (["--timeout", "1000"], ["--timeout", "1000", "--timeout-style", "sockopt"],
                 ["--timeout", "0"], ["--service", "daytime"]):
        daytime = "daytime" in mode
        server = Server([server_path, "--port", "0", *mode], listening=r"listening on TCP (?P<host>\S+):(?P<port>\d+)",
                        merge_stderr=True)
        survive_hostile_clients(server, hold=not daytime)
        with server.connect() as sock:
            sock.shutdown(1)  # done sending: a time server may close as soon as it has answered
            answer = read_to_eof(sock)
        if daytime:
            if not answer.endswith(b"-UTC\r\n"):
                fail(f"time-server {' '.join(mode)}: after the hostile clients the daytime line was {answer!r}", server)
        elif len(answer) != 4 or abs(int.from_bytes(answer, "big") - EPOCH_OFFSET - time.time()) > 2:
            fail(f"time-server {' '.join(mode)}: after the hostile clients the time was {answer!r}", server)
        server.stop()
    print("ok: time-server survived hostile clients in every timeout style and as a daytime server")
    return 0


if __name__ == "__main__":
    sys.exit(main())
