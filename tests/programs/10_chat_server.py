#!/usr/bin/env python3
"""Lesson 10's chat-server on the epoll loop. The chat of lesson 09 still works;
the slow reader that froze lesson 09's room (09_slow_reader.py) now freezes
nobody: its lines pile up in its output buffer, the others keep chatting, and
once it holds more than --output-limit unsent bytes it is dropped. An idle
member is closed after --idle-timeout, a talking one is not. Ctrl-C stops it.
Every wait has a deadline."""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, read_to_eof  # noqa: E402

LINE = b"x" * 1000 + b"\n"


def joined(server, nick, receive_buffer=None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(server.deadline)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(nick.encode() + b"\n")
    return sock


def read_until(sock, wanted, server, what):
    data = b""
    while wanted not in data:
        chunk = sock.recv(65536)
        if not chunk:
            fail(f"{what}: the server closed before {wanted!r} (got {data[-200:]!r})", server)
        data += chunk
    return data


class Reader(threading.Thread):
    """Reads everything sent to `sock`; sets `seen` when `wanted` went by."""

    def __init__(self, sock, wanted):
        super().__init__(daemon=True)
        self.sock, self.wanted, self.tail, self.seen = sock, wanted, b"", threading.Event()

    def run(self):
        try:
            while chunk := self.sock.recv(65536):
                window = self.tail + chunk
                if self.wanted in window:
                    self.seen.set()
                self.tail = window[-len(self.wanted):]
        except OSError:
            pass


def chat(path):
    server = Server([path, "--port", "0"])
    with joined(server, "ann") as ann, joined(server, "bob") as bob:
        read_until(ann, b"* bob joined\n", server, "ann waits for bob")
        bob.sendall(b"hello ann\r\n")
        read_until(ann, b"bob: hello ann\n", server, "bob's line")
    server.wait_for(r"left: recv\(\) = 0: EOF", "the narration of a member who left")
    server.stop()


def slow_reader(path):
    server = Server([path, "--port", "0", "--quiet", "--output-limit", "65536"])
    ann = joined(server, "ann", receive_buffer=4096)  # joins, then never reads
    dan = joined(server, "dan")
    bob = joined(server, "bob")
    cat = joined(server, "cat")
    dan_reads = Reader(dan, b"cat: anyone there?\n")
    dan_reads.start()
    Reader(cat, b"-").start()
    # 4 MB from bob: lesson 09's room froze after a few hundred kilobytes.
    start = time.monotonic()
    for _ in range(4000):
        bob.sendall(LINE)
    server.wait_for(r"\(ann\) left: not reading", "ann dropped for not reading")
    cat.sendall(b"anyone there?\n")
    if not dan_reads.seen.wait(timeout=server.deadline):
        fail("cat's line did not reach dan: the room is stalled", server)
    took = time.monotonic() - start
    for sock in (ann, dan, bob, cat):
        sock.close()
    server.stop()
    print(f"ok: 4 MB through the room in {took:.2f} s while ann read nothing; ann was dropped")


def idle_timeout(path):
    server = Server([path, "--port", "0", "--quiet", "--idle-timeout", "300"])
    with joined(server, "idle") as idle, joined(server, "busy") as busy:
        start = time.monotonic()
        talking = threading.Event()
        talking.set()

        def talk():  # a line every 100 ms: the client's pace, not a synchronisation
            while talking.is_set():
                busy.sendall(b"still here\n")
                time.sleep(0.1)

        talker = threading.Thread(target=talk, daemon=True)
        talker.start()
        rest = read_to_eof(idle)  # the server closes the silent one: EOF
        waited = time.monotonic() - start
        if waited < 0.25:
            fail(f"the idle member was closed after {waited:.2f} s, before --idle-timeout 300 ms", server)
        read_until(busy, b"* idle left\n", server, "the talking member hears that idle left")
        time.sleep(0.4)  # one more idle window for busy, talking all along
        talking.clear()
        talker.join(timeout=server.deadline)
        server.wait_for(r"\(idle\) left: idle for 300 ms", "the idle member's close")
        if any("(busy) left" in line for line in server.output().splitlines()):
            fail("the talking member was closed as idle", server)
        print(f"ok: the idle member was closed after {waited:.2f} s ({len(rest)} bytes before EOF), the talking one kept")
    server.stop()


def main():
    chat(sys.argv[1])
    slow_reader(sys.argv[1])
    idle_timeout(sys.argv[1])
    print("ok: chat-server on the loop: chat, a slow reader dropped, idle timeout, Ctrl-C")
    return 0


if __name__ == "__main__":
    sys.exit(main())
