#!/usr/bin/env python3
"""Runs lesson 04's sort-server as a learner would and checks the behaviours
the chapter shows: half-close, a client that hangs up mid-reply, a graceful
stop with a client in flight, a restart onto a port with a connection in
TIME_WAIT (with and without SO_REUSEADDR), and --plain-send dying of SIGPIPE.
Every wait has a deadline."""
import re
import signal
import socket
import subprocess
import sys
import threading
import time

DEADLINE = 10.0
ENV = {"NO_COLOR": "1", "PATH": "/usr/bin:/bin"}


def fail(message, server=None):
    print(f"FAIL: {message}")
    if server is not None:
        server.kill()
        server.wait(timeout=DEADLINE)
        print(f"--- server output\n{server.output()}")
    sys.exit(1)


class Server:
    """A sort-server process whose output is collected as it comes."""

    def __init__(self, path, *args):
        self.process = subprocess.Popen([path, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, env=ENV)
        self.lines = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.lines.append(None)  # end of output
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

    def port(self):
        match = self.wait_for(r"listening on (\S+):(\d+)", "the server's listening line")
        if match.group(1) != "127.0.0.1":
            fail(f"listening on {match.group(1)}, expected 127.0.0.1 by default", self)
        return int(match.group(2))

    def signal(self, signo):
        self.process.send_signal(signo)

    def interrupt_until_exit(self):
        """Ctrl-C, repeated until the process exits: a signal that lands between
        the server's check and its blocking call only counts at the next one."""
        end = time.monotonic() + DEADLINE
        while self.process.poll() is None and time.monotonic() < end:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                pass

    def finish(self):
        try:
            status = self.process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            fail("the server did not exit", self)
        with self.changed:  # and all of its output has been read
            self.changed.wait_for(lambda: None in self.lines, timeout=DEADLINE)
        return status

    def kill(self):
        self.process.kill()

    def wait(self, timeout):
        return self.process.wait(timeout=timeout)


def ask(port, payload, half_close=True):
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as sock:
        sock.sendall(payload)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
        return reply


def run(client, *args):
    return subprocess.run([client, *args], capture_output=True, text=True, timeout=DEADLINE, env=ENV)


def silent_client_then_ctrl_c_twice(server, port):
    """A client that never finishes its request; a second Ctrl-C drops it, so
    the server closes first and its side of the connection is left in TIME_WAIT."""
    silent = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
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

    server = Server(server_path, "--port", "0")
    port = server.port()
    client = run(client_path, "--port", str(port), "pear", "apple", "fig")
    if client.returncode != 0 or not client.stdout.endswith("apple\nfig\npear\n"):
        fail(f"sort-client: status {client.returncode}, stdout {client.stdout!r}, stderr {client.stderr!r}", server)
    if ask(port, b"banana\ncherry\napple") != b"apple\nbanana\ncherry\n":
        fail("a raw client that half-closed after an unterminated line did not get the sorted lines", server)

    rude = run(client_path, "--port", str(port), "--generate", "300000", "--hang-up-after", "1000")
    if rude.returncode != 0 or "hanging up after 1000 bytes of the reply" not in rude.stderr:
        fail(f"the rude sort-client: status {rude.returncode}, stderr {rude.stderr!r}", server)
    server.wait_for(r"warning: client \S+: send \(after \d+ of \d+ bytes\): (Broken pipe|Connection reset)",
                    "the server noticing the client that hung up")
    if ask(port, b"still\nalive\n") != b"alive\nstill\n":
        fail("the server did not serve the client after the one that hung up", server)

    # A graceful stop: SIGTERM while a client is in flight.
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as in_flight:
        in_flight.sendall(b"zebra\n")
        server.wait_for(r"accept\(\) = fd \d+ from [^\n]*\n(?![\s\S]*close)", "accepting the client in flight")
        server.signal(signal.SIGTERM)
        with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as latecomer:
            in_flight.sendall(b"aardvark\n")
            in_flight.shutdown(socket.SHUT_WR)
            reply = b""
            while chunk := in_flight.recv(65536):
                reply += chunk
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
    first = Server(server_path, "--port", "0", "--no-reuseaddr")
    port = first.port()
    silent_client_then_ctrl_c_twice(first, port)
    again = run(server_path, "--port", str(port), "--no-reuseaddr")
    if again.returncode != 1 or "Address already in use" not in again.stderr:
        fail(f"restart without SO_REUSEADDR: expected 'Address already in use', got status {again.returncode}, "
             f"stderr {again.stderr!r}")

    first = Server(server_path, "--port", "0")
    port = first.port()
    silent_client_then_ctrl_c_twice(first, port)
    again = Server(server_path, "--port", str(port))
    if again.port() != port:
        fail("the restarted server did not get its port back")
    again.interrupt_until_exit()
    if again.finish() != 0:
        fail("the restarted server did not stop cleanly on Ctrl-C", again)

    # --plain-send: the client that hangs up mid-reply kills the server.
    fragile = Server(server_path, "--port", "0", "--plain-send")
    port = fragile.port()
    run(client_path, "--port", str(port), "--generate", "300000", "--hang-up-after", "1000")
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
