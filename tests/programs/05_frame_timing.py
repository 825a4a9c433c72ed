#!/usr/bin/env python3
"""Runs lesson 05's frame-timing and checks what chapter 05 says it shows: a
frame sent as send(header); send(payload) waits for the server's delayed ACK
(at least 40 ms on Linux, RFC 1122 4.2.3.2) on nearly every round trip, and
one send(), writev() or TCP_NODELAY does not. The bounds are far apart on
purpose (30 ms against a tenth of that), so a loaded machine cannot flip them."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import DEADLINE, fail, run  # noqa: E402


def main():
    program = sys.argv[1]
    done = run([program, "--rounds", "20"], timeout=DEADLINE * 4)
    if done.returncode != 0:
        fail(f"frame-timing: status {done.returncode}, stdout {done.stdout!r}, stderr {done.stderr!r}")
    medians = {}
    for way in ("send(header); send(payload)", "send(header + payload)", "writev({header, payload})",
                "two sends, TCP_NODELAY"):
        found = re.search(re.escape(way) + r" +[\d.]+ ms in all, +([\d.]+) ms per round trip \(median\)", done.stdout)
        if not found:
            fail(f"no timing line for {way!r} in:\n{done.stdout}")
        medians[way] = float(found.group(1))
    split = medians.pop("send(header); send(payload)")
    if split < 30:
        fail(f"two sends took {split} ms per round trip (median): expected the delayed-ACK wait of 40 ms or more\n"
             f"{done.stdout}")
    for way, median in medians.items():
        if median > split / 10:
            fail(f"{way} took {median} ms per round trip (median), not far below the {split} ms of two sends\n"
                 f"{done.stdout}")
    print(done.stdout, end="")
    print("ok: two sends wait for the delayed ACK; one send, writev and TCP_NODELAY do not")
    return 0


if __name__ == "__main__":
    sys.exit(main())
