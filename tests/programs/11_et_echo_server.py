#!/usr/bin/env python3
"""Lesson 11's et-echo-server as the chapter runs it: a megabyte in one write
echoed whole; a client that half-closes gets every reply before the close; --read-once stalls it (the classic bug, on purpose); --max-fds
runs it out of descriptors, and it sheds the clients it cannot hold at once,
without spinning, and serves again when one leaves; --loops 2 serves from two
loops on one port; hostile clients never end it; Ctrl-C does."""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import MEGABYTE, Server, fail, survive_hostile_clients  # noqa: E402


def echo_of(server, data, quiet_for):
    """Sends `data` in one sendall while reading; returns what came back
    before the server went quiet for `quiet_for` seconds (or sent it all)."""
    with server.connect() as sock:
        sender = threading.Thread(target=sock.sendall, args=(data,))
        sender.start()
        back = b""
        sock.settimeout(quiet_for)
        try:
            while len(back) < len(data):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                back += chunk
        except socket.timeout:
            pass
        sock.shutdown(socket.SHUT_RDWR)
        sender.join(timeout=server.deadline)
        return back


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def closed_promptly(sock):
    sock.settimeout(2.0)
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def check_drain(path):
    server = Server([path, "--port", "0", "--quiet"])
    data = os.urandom(MEGABYTE)
    back = echo_of(server, data, quiet_for=2.0)
    if back != data:
        fail(f"a megabyte sent in one write came back as {len(back)} bytes", server)
    if server.exchange(b"bye\n") != b"bye\n":
        fail("a client that sent a line and closed at once did not get its echo and a close back", server)
    survive_hostile_clients(server)
    server.stop()

    # nc -N: 3 MB sent, then "that was all" (a half-close) before reading one
    # byte back: the server must finish sending before it closes.
    roomy = Server([path, "--port", "0", "--quiet", "--output-limit", str(8 * MEGABYTE)])
    data = os.urandom(3 * MEGABYTE)
    back = roomy.exchange(data)
    if back != data:
        fail(f"a client that half-closed after 3 MB got {len(back)} bytes back: the replies owed were dropped", roomy)
    roomy.stop()

    buggy = Server([path, "--port", "0", "--quiet", "--read-once"])
    back = echo_of(buggy, data, quiet_for=0.5)
    if len(back) >= len(data):
        fail("with --read-once the whole megabyte came back: the bug the chapter shows did not happen", buggy)
    buggy.stop()
    return len(back)


def check_out_of_descriptors(path):
    server = Server([path, "--port", "0", "--max-fds", "12"])
    served, shed = [], []
    for i in range(8):
        sock = server.connect()
        sock.sendall(b"hello\n")
        sock.settimeout(2.0)
        try:
            answer = sock.recv(100)
        except ConnectionResetError:
            answer = b""
        (served if answer == b"hello\n" else shed).append(sock)
    if not served or not shed:
        fail(f"with --max-fds 12, {len(served)} of 8 clients were served and {len(shed)} shed; expected some of each",
             server)
    counts = len(served), len(shed)
    if any(not closed_promptly(sock) for sock in shed):
        fail("a client the server could not hold was not closed at once", server)
    before = cpu_seconds(server.process.pid)
    time.sleep(0.5)  # the measurement window: out of descriptors, the loop must still sleep
    used = cpu_seconds(server.process.pid) - before
    if used > 0.2:
        fail(f"the server used {used:.2f} s of CPU in 0.5 s while out of descriptors: the loop spins", server)
    served.pop(0).close()
    server.wait_for(r"closing \d+: recv\(\) = 0", "the server closing the client that left")
    with server.connect() as sock:
        sock.sendall(b"again\n")
        sock.settimeout(2.0)
        if sock.recv(100) != b"again\n":
            fail("a descriptor was free again and the next client was not served", server)
    for sock in served + shed:
        sock.close()
    output = server.stop()
    if "shed a client" not in output:
        fail("the server never said it shed a client", server)
    return counts


def check_loops(path):
    server = Server([path, "--port", "0", "--quiet", "--loops", "2"])
    for i in range(24):
        with server.connect() as sock:
            sock.sendall(b"ping\n")
            if sock.recv(100) != b"ping\n":
                fail(f"client {i} of 24 got no echo from the two loops", server)
    survive_hostile_clients(server)
    output = server.stop()
    busy = [line for line in output.splitlines() if line.startswith("loop ") and " 0 accepted" not in line]
    if len(busy) != 2:
        fail("with --loops 2 and 24 clients, both loops should have accepted some:\n" + output, server)


def main():
    path = sys.argv[1]
    got = check_drain(path)
    served, shed = check_out_of_descriptors(path)
    check_loops(path)
    print(f"ok: 1 MiB echoed whole (--read-once: {got} bytes, then a stall); with 12 descriptors {served} served, "
          f"{shed} shed, no spinning; two loops on one port; hostile clients survived")
    return 0


if __name__ == "__main__":
    sys.exit(main())
