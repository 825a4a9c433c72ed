#!/usr/bin/env python3
"""Runs lesson 07's time-server and time-client as a learner would and checks
what the chapter claims: RFC 868 over TCP and UDP within 2 s of the clock,
RFC 867 as one CRLF line, a silent client dropped on time while the next one
waits, a dripping client outliving SO_RCVTIMEO but not poll's deadline, a
server without a timeout frozen by one silent client, and a client that gives
up on a mute server. Every wait has a deadline."""
import calendar
import re
import signal
import socket
import subprocess
import sys
import threading
import time

DEADLINE = 10.0
ENV = {"NO_COLOR": "1", "PATH": "/usr/bin:/bin"}
EPOCH_OFFSET = 2208988800


def fail(message, server=None):
    print(f"FAIL: {message}")
    if server is not None:
        server.process.kill()
        server.process.wait(timeout=DEADLINE)
        print(f"--- server output\n{server.output()}")
    sys.exit(1)


class Server:
    """A time-server process whose output is collected as it comes."""

    def __init__(self, path, *args):
        self.process = subprocess.Popen([path, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, env=ENV)
        self.lines = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        match = self.wait_for(r"listening on (TCP|UDP) (\S+):(\d+)", "the listening line")
        if match.group(2) != "127.0.0.1":
            fail(f"listening on {match.group(2)}, expected 127.0.0.1 by default", self)
        self.port = int(match.group(3))

    def _read(self):
        for line in self.process.stdout:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.lines.append(None)
            self.changed.notify_all()

    def output(self):
        with self.changed:
            return "".join(line for line in self.lines if line is not None)

    def wait_for(self, pattern, what):
        end = time.monotonic() + DEADLINE
        with self.changed:
            while True:
                match = re.search(pattern, "".join(line for line in self.lines if line is not None))
                if match:
                    return match
                if None in self.lines or time.monotonic() >= end:
                    break
                self.changed.wait(timeout=0.05)
        fail(f"{what}: no line matching {pattern!r} within {DEADLINE} s", self)

    def stop(self):
        """Ctrl-C, repeated until the server exits: a signal that lands between
        the loop's check and accept() is only noticed at the next one."""
        end = time.monotonic() + DEADLINE
        while self.process.poll() is None and time.monotonic() < end:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                pass
        if self.process.poll() is None:
            fail("the server did not exit within 10 s of Ctrl-C", self)
        if self.process.returncode != 0:
            fail(f"the server exited with {self.process.returncode} after Ctrl-C", self)


def check_time(four, what):
    if len(four) != 4:
        fail(f"{what}: expected 4 bytes, got {four!r}")
    told = int.from_bytes(four, "big") - EPOCH_OFFSET
    if abs(told - time.time()) > 2:
        fail(f"{what}: {told} is not within 2 s of the clock ({time.time():.0f}); bytes {four.hex()}")


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def closed_within(sock, seconds):
    """True if the peer closes (EOF or reset) within `seconds`."""
    sock.settimeout(seconds)
    try:
        while sock.recv(64):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)


def main():
    server_path, client_path = sys.argv[1], sys.argv[2]

    # RFC 868 over TCP, with a short timeout; a silent client is dropped on time.
    server = Server(server_path, "--port", "0", "--timeout", "300")
    with connect(server.port) as polite:
        check_time(read_exactly(polite, 4), "RFC 868 over TCP")
    server.wait_for(r"the client closed", "the server seeing the client close first")
    with connect(server.port) as silent:
        check_time(read_exactly(silent, 4), "RFC 868 to the silent client")
        started = time.monotonic()
        with connect(server.port) as waiting:
            if not closed_within(silent, 2.0):
                fail("the silent client was not dropped within 2 s (--timeout 300)", server)
            waited = time.monotonic() - started
            if not 0.25 <= waited <= 1.5:
                fail(f"the silent client was dropped after {waited:.2f} s, expected about 0.3 s", server)
            waiting.settimeout(DEADLINE)
            check_time(read_exactly(waiting, 4), "RFC 868 to the client that waited")
    server.wait_for(r"poll\(\) = 0: no close within 300 ms, dropping the client", "the drop narrated")
    client = subprocess.run([client_path, "--port", str(server.port)], capture_output=True, text=True,
                            timeout=DEADLINE, env=ENV)
    if client.returncode != 0 or "UTC" not in client.stdout or "differs by" not in client.stdout:
        fail(f"time-client: status {client.returncode}, stdout {client.stdout!r}, stderr {client.stderr!r}", server)

    # A client dripping a byte every 100 ms: poll's deadline drops it anyway.
    with connect(server.port) as dripping:
        read_exactly(dripping, 4)
        started = time.monotonic()
        while time.monotonic() - started < 2.0 and not closed_within(dripping, 0.1):
            try:
                dripping.send(b".")
            except (BrokenPipeError, ConnectionResetError):
                break
        if time.monotonic() - started > 1.5:
            fail("the poll-style server did not drop a dripping client", server)
    server.stop()

    # SO_RCVTIMEO restarts at every recv: the dripping client outlives it.
    server = Server(server_path, "--port", "0", "--timeout", "300", "--timeout-style", "sockopt")
    with connect(server.port) as dripping:
        read_exactly(dripping, 4)
        started = time.monotonic()
        while time.monotonic() - started < 1.0:
            if closed_within(dripping, 0.1):
                fail("the sockopt-style server dropped a client that kept sending (the chapter says it cannot)",
                     server)
            dripping.send(b".")
    server.wait_for(r"SO_RCVTIMEO starts again", "the dripping narrated")
    server.stop()

    # Without a timeout one silent client freezes the whole server.
    server = Server(server_path, "--port", "0", "--timeout", "0")
    with connect(server.port) as silent:
        read_exactly(silent, 4)
        with connect(server.port) as waiting:
            waiting.settimeout(0.5)
            try:
                early = waiting.recv(4)
            except socket.timeout:
                early = None
            if early is not None:
                fail(f"with --timeout 0 the second client was served ({early!r}) while the first held on", server)
            silent.close()
            waiting.settimeout(DEADLINE)
            check_time(read_exactly(waiting, 4), "RFC 868 once the silent client left")
    server.stop()

    # RFC 867 over TCP: one CRLF line, then the server closes.
    server = Server(server_path, "--port", "0", "--service", "daytime")
    if f"(try: nc -d 127.0.0.1 {server.port})" not in server.output():
        fail("the daytime server should suggest nc -d (plain nc at a terminal outlives the connection)", server)
    with connect(server.port) as sock:
        line = b""
        while chunk := sock.recv(256):
            line += chunk
    match = re.fullmatch(rb"\w+, (\w+ \d\d, \d{4} \d\d:\d\d:\d\d)-UTC\r\n", line)
    if not match:
        fail(f"the daytime line {line!r} is not in the RFC's example style", server)
    told = calendar.timegm(time.strptime(match.group(1).decode(), "%B %d, %Y %H:%M:%S"))
    if abs(told - time.time()) > 2:
        fail(f"the daytime line {line!r} is not within 2 s of the clock", server)
    server.stop()

    # RFC 868 over UDP: an empty datagram gets 4 bytes.
    server = Server(server_path, "--port", "0", "--udp")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(DEADLINE)
        udp.sendto(b"", ("127.0.0.1", server.port))
        reply, sender = udp.recvfrom(64)
        check_time(reply, "RFC 868 over UDP")
        if sender != ("127.0.0.1", server.port):
            fail(f"the UDP reply came from {sender}", server)
    client = subprocess.run([client_path, "--port", str(server.port), "--udp"], capture_output=True, text=True,
                            timeout=DEADLINE, env=ENV)
    if client.returncode != 0 or "UTC" not in client.stdout:
        fail(f"time-client --udp: status {client.returncode}, stdout {client.stdout!r}", server)
    server.stop()

    # The client gives up on a server that accepts and never answers.
    with socket.socket() as mute:
        mute.bind(("127.0.0.1", 0))
        mute.listen()
        started = time.monotonic()
        client = subprocess.run([client_path, "--port", str(mute.getsockname()[1]), "--timeout", "500"],
                                capture_output=True, text=True, timeout=DEADLINE, env=ENV)
        waited = time.monotonic() - started
    if client.returncode != 1 or "no answer in time" not in client.stderr:
        fail(f"time-client against a mute server: status {client.returncode}, stderr {client.stderr!r}")
    if not 0.4 <= waited <= 2.0:
        fail(f"time-client gave up after {waited:.2f} s, expected about 0.5 s")

    print("ok: time-server answered RFC 868/867 over TCP and UDP, dropped silent and dripping clients on time, "
          "and time-client gave up on a mute server")
    return 0


if __name__ == "__main__":
    sys.exit(main())
