"""What the end-to-end program tests share: run a lesson's program as a learner
would, collect what it prints as it comes, wait for a line with a deadline,
stop a server with Ctrl-C (SIGINT) and check it exits cleanly, and talk to it
over loopback. Every wait has a deadline. A program still running when the
test ends (a failure exits early; meson's timeout sends SIGTERM) is killed:
none outlives its test."""
import atexit
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

DEADLINE = 5.0
ENV = {"NO_COLOR": "1", "PATH": "/usr/bin:/bin"}
LISTENING = r"listening on (?P<host>\S+):(?P<port>\d+)"
_STARTED = []  # every Program's process, for the clean-up at exit


@atexit.register
def _kill_leftovers():
    for process in _STARTED:
        if process.poll() is None:
            process.kill()
            process.wait()


# sys.exit runs the atexit clean-up; the default SIGTERM would skip it.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def fail(message, server=None):
    """Reports the failure and exits 1; given a running program, kills it and
    shows everything it printed."""
    print(f"FAIL: {message}")
    if server is not None:
        server.process.kill()
        server.process.wait(timeout=server.deadline)
        server.show()
    sys.exit(1)


def run(command, timeout=DEADLINE, env=ENV):
    """Runs a program to the end (a client, say) and captures its output."""
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def run_expecting(command, expect=0, timeout=DEADLINE):
    """Runs a client to the end and fails unless it exits with `expect`,
    showing what it printed (the start of stdout, the end of stderr)."""
    result = run(command, timeout=timeout)
    if result.returncode != expect:
        name = os.path.basename(command[0])
        fail(f"{name} {' '.join(command[1:])}: exit status {result.returncode}, expected {expect}\n"
             f"stdout: {result.stdout[:2000]}\nstderr: {result.stderr[-4000:]}")
    return result


def expect_in(text, wanted, what):
    """Fails unless `wanted` is in `text`, showing the text."""
    if wanted not in text:
        fail(f"{what}: {wanted!r} not in:\n{text}")


def read_to_eof(sock):
    """Everything the peer sends until it closes."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


class Program:
    """A lesson's program whose output reader threads collect as it comes.
    stderr is kept apart (errors()) unless merge_stderr sends it to stdout."""

    def __init__(self, command, merge_stderr=False, env=ENV, deadline=DEADLINE):
        self.name = os.path.basename(command[0])
        self.deadline = deadline
        self.merged = merge_stderr
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
                                        text=True, env=env)
        _STARTED.append(self.process)
        self.stdout, self.stderr = [], []
        self.changed = threading.Condition()
        pipes = [(self.process.stdout, self.stdout)]
        if not merge_stderr:
            pipes.append((self.process.stderr, self.stderr))
        self.open_pipes = len(pipes)
        self.stdout_ended = False
        for pipe, lines in pipes:
            threading.Thread(target=self._read, args=(pipe, lines), daemon=True).start()

    def _read(self, pipe, lines):
        for line in pipe:
            with self.changed:
                lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.open_pipes -= 1
            self.stdout_ended |= lines is self.stdout
            self.changed.notify_all()

    def output(self):
        """stdout so far (with stderr in it if merged)."""
        with self.changed:
            return "".join(self.stdout)

    def errors(self):
        """stderr so far, when kept apart."""
        with self.changed:
            return "".join(self.stderr)

    def show(self):
        if self.merged:
            print(f"--- {self.name} output\n{self.output()}")
        else:
            print(f"--- {self.name} stdout\n{self.output()}--- {self.name} stderr\n{self.errors()}")

    def wait_for(self, pattern, what):
        """The first match of pattern in the output, waiting for it up to the deadline."""
        end = time.monotonic() + self.deadline
        with self.changed:
            while True:
                match = re.search(pattern, "".join(self.stdout))
                if match:
                    return match
                if self.stdout_ended or time.monotonic() >= end:
                    break
                self.changed.wait(timeout=0.05)
        fail(f"{what}: no line matching {pattern!r} within {self.deadline} s", self)

    def signal(self, signo):
        self.process.send_signal(signo)

    def wait(self, timeout):
        """The exit status once the program has exited (subprocess.TimeoutExpired
        if not within timeout) and all of its output has been read."""
        status = self.process.wait(timeout=timeout)
        with self.changed:
            self.changed.wait_for(lambda: self.open_pipes == 0, timeout=self.deadline)
        return status


class Server(Program):
    """A lesson's server, started and waited for until it prints its listening
    line (a regex with groups host and port), which must be on 127.0.0.1."""

    def __init__(self, command, listening=LISTENING, merge_stderr=False, env=ENV, deadline=DEADLINE):
        super().__init__(command, merge_stderr=merge_stderr, env=env, deadline=deadline)
        match = self.wait_for(listening, "the listening line")
        if match.group("host") != "127.0.0.1":
            fail(f"listening on {match.group('host')}, expected 127.0.0.1 by default", self)
        self.port = int(match.group("port"))

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=self.deadline)

    def exchange(self, request):
        """One ordinary client: sends `request`, half-closes, returns the whole answer."""
        with self.connect() as sock:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
            return read_to_eof(sock)

    def interrupt_until_exit(self):
        """Ctrl-C, repeated until the server exits: a signal that lands between
        the loop's check and its blocking call (accept(), say) is only noticed
        at the next one."""
        end = time.monotonic() + self.deadline
        while self.process.poll() is None and time.monotonic() < end:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                pass

    def finish(self):
        """The exit status, once the server has exited and all its output is read."""
        try:
            return self.wait(self.deadline)
        except subprocess.TimeoutExpired:
            fail(f"the server did not exit within {self.deadline:g} s", self)

    def stop(self):
        """Ctrl-C until the server exits, which it must do with status 0; returns its output."""
        self.interrupt_until_exit()
        if self.process.poll() is None:
            fail(f"the server did not exit within {self.deadline:g} s of Ctrl-C (SIGINT)", self)
        status = self.finish()
        if status != 0:
            fail(f"the server exited with status {status} after Ctrl-C", self)
        return self.output()


MEGABYTE = 1 << 20


def reset(sock):
    """Closes sock with SO_LINGER {1, 0}: the peer gets RST, not FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _send_megabyte(sock, outcome):
    try:
        sock.sendall(b"x" * MEGABYTE)
        sock.shutdown(socket.SHUT_WR)
        outcome.append("sent")
    except OSError as error:  # the server refused it and closed: fine
        outcome.append(f"send stopped: {error}")


def _drain_until_closed(sock, deadline):
    """Reads and discards until EOF or a reset; returns how many bytes came."""
    received = 0
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += len(chunk)
    raise TimeoutError("the server neither answered nor closed")


def survive_hostile_clients(server, partial=b"half a messa", hold=True):
    """Plays the clients every TCP server must survive (chapter 04; pitfall 25),
    in this order, then checks that the server is still running:

    1. a client that resets while it waits in the accept queue: a first client
       holds the iterative server (connected, silent) while a second connects
       and resets; with hold=False (a server that answers and closes at once)
       the second may already be accepted when its reset comes;
    2. a client that sends `partial` (the start of a message the server then
       waits to complete) and resets;
    3. a client that connects and closes without a byte;
    4. a megabyte with no framing (no newline, a nonsense length), sent while
       whatever comes back is read, until the server closes.

    The caller then shows that an ordinary client is served correctly. Every
    step has a deadline; nothing sleeps."""
    # 1. The accept queue is first in, first out: the second client stays
    #    behind the first for as long as the first holds the server.
    holder = server.connect() if hold else None
    queued = server.connect()
    reset(queued)
    if holder is not None:
        holder.close()

    # 2. A reset in the middle of a message.
    with server.connect() as sock:
        sock.sendall(partial)
        reset(sock)

    # 3. Connect, then close without a word.
    server.connect().close()

    # 4. A megabyte in one go, with no framing in it.
    deadline = time.monotonic() + server.deadline * 2
    with server.connect() as sock:
        outcome = []
        sender = threading.Thread(target=_send_megabyte, args=(sock, outcome), daemon=True)
        sender.start()
        try:
            _drain_until_closed(sock, deadline)
        except (TimeoutError, socket.timeout) as error:
            fail(f"a megabyte with no framing: {error}", server)
        sender.join(timeout=max(0.0, deadline - time.monotonic()))
        if sender.is_alive():
            fail("a megabyte with no framing: still sending after the server closed", server)

    if server.process.poll() is not None:
        fail(f"the server exited (status {server.process.returncode}) during the hostile clients", server)
