#!/usr/bin/env python3
"""Runs lesson 04's sort-server as a learner would and checks the behaviours
the chapter shows: half-close, a client that hangs up mid-reply, a graceful
stop with a client in flight, a restart onto a port with a connection in
TIME_WAIT (with and without SO_REUSEADDR), and --plain-send dying of SIGPIPE.
Every wait has a deadline."""
import os
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, read_to_eof, run  # noqa: E402

DEADLINE = 10.0
SLOW_DEADLINE = 40.0  # the rude client's 30 s, and room to exit


def rude_client(client_path, port):
    """A sort-client that sends 5 MB of lines and hangs up after 1000 bytes of the
    reply. Receiving and sorting 5 MB takes a while in an ASan build on a busy
    machine, so it waits up to 30 s for the reply to start (not its default 5 s)."""
    return [client_path, "--port", str(port), "--generate", "300000", "--hang-up-after", "1000", "--timeout", "30"]


def start(server_path, *args):
    """A sort-server whose stdout and stderr are collected together as they come."""
    return Server([server_path, *args], merge_stderr=True, deadline=DEADLINE)


def ask(server, payload, half_close=True):
    with server.connect() as sock:
        sock.sendall(payload)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return read_to_eof(sock)


def silent_client_then_ctrl_c_twice(server):
    """A client that never finishes its request; a second Ctrl-C drops it, so
    the server closes first and its side of the connection is left in TIME_WAIT."""
    silent = server.connect()
    server.wait_for(r"accept\(\) = fd", "accepting the silent client")
    server.interrupt_until_exit()
    if server.finish() != 0:
        fail(f"the server exited with {server.process.returncode} after Ctrl-C twice", server)
    if "dropped: a second stop signal" not in server.output():
        fail("the server did not say it dropped the client", server)
    if silent.recv(16) != b"":
        fail("the dropped client got data instead of EOF")
    silent.close()


def main():
    server_path, client_path = sys.argv[1], sys.argv[2]

    server = start(server_path, "--port", "0")
    client = run([client_path, "--port", str(server.port), "pear", "apple", "fig"], timeout=DEADLINE)
    if client.returncode != 0 or not client.stdout.endswith("apple\nfig\npear\n"):
        fail(f"sort-client: status {client.returncode}, stdout {client.stdout!r}, stderr {client.stderr!r}", server)
    if ask(server, b"banana\ncherry\napple") != b"apple\nbanana\ncherry\n":
        fail("a raw client that half-closed after an unterminated line did not get the sorted lines", server)

    rude = run(rude_client(client_path, server.port), timeout=SLOW_DEADLINE)
    if rude.returncode != 0 or "hanging up after 1000 bytes of the reply" not in rude.stderr:
        fail(f"the rude sort-client: status {rude.returncode}, stderr {rude.stderr!r}", server)
    server.wait_for(r"warning: client \S+: send \(after \d+ of \d+ bytes\): (Broken pipe|Connection reset)",
                    "the server noticing the client that hung up")
    if ask(server, b"still\nalive\n") != b"alive\nstill\n":
        fail("the server did not serve the client after the one that hung up", server)

    # A graceful stop: SIGTERM while a client is in flight.
    with server.connect() as in_flight:
        in_flight.sendall(b"zebra\n")
        # Its own accept line, by its port: "an accept line with no close after it yet"
        # could be the previous client's, whose close line the reader had not seen yet.
        server.wait_for(rf"accept\(\) = fd \d+ from 127\.0\.0\.1:{in_flight.getsockname()[1]}\n",
                        "accepting the client in flight")
        server.signal(signal.SIGTERM)
        with server.connect() as latecomer:
            in_flight.sendall(b"aardvark\n")
            in_flight.shutdown(socket.SHUT_WR)
            reply = read_to_eof(in_flight)
            if reply != b"aardvark\nzebra\n":
                fail(f"the client in flight got {reply!r}", server)
            if server.finish() != 0:
                fail(f"the server exited with {server.process.returncode} after SIGTERM", server)
            try:
                late = latecomer.recv(16)
            except ConnectionResetError:
                late = b""
            if late:
                fail(f"a client that connected after the stop was served: {late!r}", server)
    for expected in ("socket() = fd", "setsockopt(SO_REUSEADDR, 1)", "bind(127.0.0.1:", "the client is done sending",
                     "stop requested: finishing the client in flight", "stopping: accepting no more clients (4 served)"):
        if expected not in server.output():
            fail(f"the server's narration lacks {expected!r}:\n{server.output()}")

    # Restarting onto a port whose last connection the server closed first.
    first = start(server_path, "--port", "0", "--no-reuseaddr")
    silent_client_then_ctrl_c_twice(first)
    again = run([server_path, "--port", str(first.port), "--no-reuseaddr"], timeout=DEADLINE)
    if again.returncode != 1 or "Address already in use" not in again.stderr:
        fail(f"restart without SO_REUSEADDR: expected 'Address already in use', got status {again.returncode}, "
             f"stderr {again.stderr!r}")

    first = start(server_path, "--port", "0")
    silent_client_then_ctrl_c_twice(first)
    again = start(server_path, "--port", str(first.port))
    if again.port != first.port:
        fail("the restarted server did not get its port back")
    again.interrupt_until_exit()
    if again.finish() != 0:
        fail("the restarted server did not stop cleanly on Ctrl-C", again)

    # --plain-send: the client that hangs up mid-reply kills the server.
    fragile = start(server_path, "--port", "0", "--plain-send")
    run(rude_client(client_path, fragile.port), timeout=SLOW_DEADLINE)
    try:
        status = fragile.wait(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        fail("sort-server --plain-send survived a client that hung up mid-reply", fragile)
    if status != -signal.SIGPIPE:
        fail(f"sort-server --plain-send exited with {status}, expected death by SIGPIPE", fragile)

    print("ok: sort-server sorted, survived a hang-up, stopped gracefully, restarted with SO_REUSEADDR only, "
          "and died of SIGPIPE with --plain-send")
    return 0


if __name__ == "__main__":
    sys.exit(main())
