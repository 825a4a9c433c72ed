#!/usr/bin/env python3
"""Runs lesson 07's time-server, udp-time-server and time-client as a learner
would and checks what the chapter claims: RFC 868 over TCP and UDP within 2 s of the clock,
RFC 867 as one CRLF line, a silent client dropped on time while the next one
waits, a dripping client outliving SO_RCVTIMEO but not poll's deadline, a
server without a timeout frozen by one silent client, a client that takes the
time from a server that closes first (RFC 868's prose), and a client that gives
up on a mute server. Every wait has a deadline."""
import calendar
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, read_to_eof, run  # noqa: E402

DEADLINE = 10.0
EPOCH_OFFSET = 2208988800


def start(server_path, *args):
    """A time-server whose stdout and stderr are collected together as they come."""
    return Server([server_path, *args], listening=r"listening on (TCP|UDP) (?P<host>\S+):(?P<port>\d+)",
                  merge_stderr=True, deadline=DEADLINE)


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


def answer_and_close(listener):
    """One client, served as RFC 868's prose says: the time, then close."""
    conn, _ = listener.accept()
    with conn:
        conn.sendall(((int(time.time()) + EPOCH_OFFSET) % 2**32).to_bytes(4, "big"))


def main():
    server_path, udp_server_path, client_path = sys.argv[1], sys.argv[2], sys.argv[3]

    # RFC 868 over TCP, with a short timeout; a silent client is dropped on time.
    server = start(server_path, "--port", "0", "--timeout", "300")
    with server.connect() as polite:
        check_time(read_exactly(polite, 4), "RFC 868 over TCP")
    server.wait_for(r"the client closed", "the server seeing the client close first")
    with server.connect() as silent:
        check_time(read_exactly(silent, 4), "RFC 868 to the silent client")
        started = time.monotonic()
        with server.connect() as waiting:
            if not closed_within(silent, 2.0):
                fail("the silent client was not dropped within 2 s (--timeout 300)", server)
            waited = time.monotonic() - started
            if not 0.25 <= waited <= 1.5:
                fail(f"the silent client was dropped after {waited:.2f} s, expected about 0.3 s", server)
            waiting.settimeout(DEADLINE)
            check_time(read_exactly(waiting, 4), "RFC 868 to the client that waited")
    server.wait_for(r"poll\(\) = 0: no close within 300 ms, dropping the client", "the drop narrated")
    client = run([client_path, "--port", str(server.port)], timeout=DEADLINE)
    if client.returncode != 0 or "UTC" not in client.stdout or "differs by" not in client.stdout:
        fail(f"time-client: status {client.returncode}, stdout {client.stdout!r}, stderr {client.stderr!r}", server)

    # A client dripping a byte every 100 ms: poll's deadline drops it anyway.
    with server.connect() as dripping:
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
    server = start(server_path, "--port", "0", "--timeout", "300", "--timeout-style", "sockopt")
    with server.connect() as dripping:
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
    server = start(server_path, "--port", "0", "--timeout", "0")
    with server.connect() as silent:
        read_exactly(silent, 4)
        with server.connect() as waiting:
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
    server = start(server_path, "--port", "0", "--service", "daytime")
    if f"(try: nc -d 127.0.0.1 {server.port})" not in server.output():
        fail("the daytime server should suggest nc -d (plain nc at a terminal outlives the connection)", server)
    with server.connect() as sock:
        line = read_to_eof(sock)
    match = re.fullmatch(rb"\w+, (\w+ \d\d, \d{4} \d\d:\d\d:\d\d)-UTC\r\n", line)
    if not match:
        fail(f"the daytime line {line!r} is not in the RFC's example style", server)
    told = calendar.timegm(time.strptime(match.group(1).decode(), "%B %d, %Y %H:%M:%S"))
    if abs(told - time.time()) > 2:
        fail(f"the daytime line {line!r} is not within 2 s of the clock", server)
    server.stop()

    # RFC 868 over UDP: an empty datagram gets 4 bytes.
    server = start(udp_server_path, "--port", "0")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(DEADLINE)
        udp.sendto(b"", ("127.0.0.1", server.port))
        reply, sender = udp.recvfrom(64)
        check_time(reply, "RFC 868 over UDP")
        if sender != ("127.0.0.1", server.port):
            fail(f"the UDP reply came from {sender}", server)
    server.wait_for(r"sendto\(127\.0\.0\.1:\d+\) = 4 bytes", "the reply narrated")
    client = run([client_path, "--port", str(server.port), "--udp"], timeout=DEADLINE)
    if client.returncode != 0 or "UTC" not in client.stdout:
        fail(f"time-client --udp: status {client.returncode}, stdout {client.stdout!r}", server)
    server.stop()

    # RFC 868's prose: the server sends its 4 bytes and closes at once, without
    # waiting for the client. time-client takes the time from such a server too.
    with socket.create_server(("127.0.0.1", 0)) as closing:
        closing.settimeout(DEADLINE)
        answered = threading.Thread(target=answer_and_close, args=(closing,))
        answered.start()
        client = run([client_path, "--port", str(closing.getsockname()[1])], timeout=DEADLINE)
        answered.join(DEADLINE)
    if client.returncode != 0 or "differs by" not in client.stdout:
        fail(f"time-client against a server that closes first: status {client.returncode}, "
             f"stdout {client.stdout!r}, stderr {client.stderr!r}")

    # The client gives up on a server that accepts and never answers.
    with socket.socket() as mute:
        mute.bind(("127.0.0.1", 0))
        mute.listen()
        started = time.monotonic()
        client = run([client_path, "--port", str(mute.getsockname()[1]), "--timeout", "500"], timeout=DEADLINE)
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
