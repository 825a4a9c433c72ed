#!/usr/bin/env python3
"""The slow-reader problem of chapter 09 (lesson 10 solves it): one member
that never reads makes the chat server's blocking send() wait for it, and
while it waits nobody else is served. Shown, bounded in time:

1. ann joins with a small receive buffer and then reads nothing;
2. bob talks, a lot; dan reads everything, as he should;
3. the server ends up asleep in a send to ann (its kernel wait for socket
   memory, read from /proc/PID/syscall), and cat's "anyone there?" does not
   reach dan within a second, though dan is reading;
4. ann starts reading: everything flows again, cat's line reaches dan.
Every wait has a deadline."""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail  # noqa: E402

LINE = b"x" * 1000 + b"\n"
MOST = 64 << 20  # bob gives up after this much: the stall must come long before


def joined(server, nick, receive_buffer=None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(server.deadline)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(nick.encode() + b"\n")
    return sock


class Reader(threading.Thread):
    """Reads everything sent to `sock`, watching for one line."""

    def __init__(self, sock, wanted=b""):
        super().__init__(daemon=True)
        self.sock, self.wanted = sock, wanted
        self.received, self.seen = 0, threading.Event()
        self.tail = b""

    def run(self):
        try:
            while chunk := self.sock.recv(65536):
                self.received += len(chunk)
                window = self.tail + chunk
                if self.wanted and self.wanted in window:
                    self.seen.set()
                self.tail = window[-len(self.wanted):] if self.wanted else b""
        except OSError:
            pass


# sendto and sendmsg, by architecture (/proc/PID/syscall gives the number).
SEND_CALLS = {"x86_64": {44, 46}, "aarch64": {206, 211}, "riscv64": {206, 211}}


def server_waits_in_send(pid):
    """True while the (single-threaded) server is asleep inside send()."""
    with open(f"/proc/{pid}/syscall") as call:
        fields = call.read().split()
    return fields[0].isdigit() and int(fields[0]) in SEND_CALLS[os.uname().machine]


def main():
    if os.uname().machine not in SEND_CALLS:
        print(f"skipped: no send() call numbers for {os.uname().machine}")
        return 0
    server = Server([sys.argv[1], "--port", "0", "--quiet"])
    ann = joined(server, "ann", receive_buffer=4096)
    dan = joined(server, "dan")
    bob = joined(server, "bob")
    cat = joined(server, "cat")
    dan_reads = Reader(dan, wanted=b"cat: anyone there?\n")
    dan_reads.start()
    Reader(cat).start()  # cat reads too: only ann is slow

    def talk():
        sent = 0
        try:
            while sent < MOST:
                bob.sendall(LINE * 64)
                sent += len(LINE) * 64
        except OSError:
            pass  # the stop at the end closes it
    bob.settimeout(None)
    threading.Thread(target=talk, daemon=True).start()

    # A wait for dan, who reads, passes in microseconds; the wait for ann,
    # who does not, lasts: asleep in send() at every look for 300 ms.
    end = time.monotonic() + 20
    asleep_since = None
    while asleep_since is None or time.monotonic() - asleep_since < 0.3:
        if time.monotonic() > end:
            fail("the server never blocked in a send to the member who does not read", server)
        if not server_waits_in_send(server.process.pid):
            asleep_since = None
        elif asleep_since is None:
            asleep_since = time.monotonic()
        time.sleep(0.01)  # a look at the kernel's state, not a synchronisation
    print(f"the server is asleep in send() to ann; dan has received {dan_reads.received} bytes so far")

    cat.sendall(b"anyone there?\n")
    if dan_reads.seen.wait(timeout=1.0):
        fail("cat's line reached dan while ann was not reading: no stall shown", server)
    print("cat's line did not reach dan within 1 s: one slow reader stalls the whole room")

    Reader(ann).start()  # ann reads at last
    if not dan_reads.seen.wait(timeout=server.deadline * 2):
        fail("cat's line never reached dan after ann started reading", server)
    print("ann reads again: cat's line reached dan")

    bob.close()
    server.stop()
    print("ok: the slow-reader stall shown and lifted (lesson 10 removes it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
