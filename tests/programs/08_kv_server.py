#!/usr/bin/env python3
"""Lesson 08's kv-server in every model (pool, thread, fork, and one at a time):
it survives hostile clients, answers the protocol (ERR lines, never a dropped
connection), serves two clients at once (except --model one), shares its store
between clients (except --model fork, where each child has its own copy),
leaves no zombie after 50 clients (fork), keeps its threads bounded (pool),
echoes in --echo mode, and on Ctrl-C lets a client in flight finish, then
exits 0. Every wait has a deadline."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, read_to_eof, survive_hostile_clients  # noqa: E402


class Client:
    """One connection that reads whole lines."""

    def __init__(self, server):
        self.server = server
        self.sock = server.connect()
        self.pending = b""

    def ask(self, line):
        self.sock.sendall(line.encode() + b"\n")
        return self.line()

    def line(self):
        while b"\n" not in self.pending:
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                fail(f"no answer within {self.server.deadline} s (pending {self.pending!r})", self.server)
            if not chunk:
                fail(f"the server closed the connection (pending {self.pending!r})", self.server)
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode()

    def close(self):
        self.sock.close()


def expect(server, what, got, wanted):
    if got != wanted:
        fail(f"{what}: got {got!r}, expected {wanted!r}", server)


def children_of(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(child) for child in f.read().split()]


def state_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


def threads_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1


def check_protocol(server):
    c = Client(server)
    expect(server, "SET", c.ask("SET fruit a ripe pear"), "OK")
    expect(server, "GET", c.ask("GET fruit"), "VALUE a ripe pear")
    expect(server, "INCR", c.ask("INCR visits"), "VALUE 1")
    expect(server, "INCR", c.ask("INCR visits"), "VALUE 2")
    expect(server, "DEL", c.ask("DEL fruit"), "DELETED")
    expect(server, "GET after DEL", c.ask("GET fruit"), "NOT_FOUND")
    for bad in ["FLY", "GET", "INCR a b", "SET x"]:
        answer = c.ask(bad)
        if not answer.startswith("ERR "):
            fail(f"{bad!r} was answered {answer!r}, expected an ERR line", server)
    expect(server, "QUIT", c.ask("QUIT"), "BYE")
    if read_to_eof(c.sock) != b"":
        fail("the server sent more after BYE", server)
    c.close()


def check_kv_model(path, model):
    server = Server([path, "--port", "0", "--model", model, "--workers", "4"], merge_stderr=True)
    survive_hostile_clients(server)
    check_protocol(server)

    if model != "one":
        # Two clients at once: the second is answered while the first is still connected.
        first, second = Client(server), Client(server)
        expect(server, f"{model}: first client", first.ask("SET shared 1"), "OK")
        shared = "NOT_FOUND" if model == "fork" else "VALUE 1"  # each child has its own copy of the store
        expect(server, f"{model}: a second client while the first is connected", second.ask("GET shared"), shared)
        first.close()
        second.close()

    if model == "fork":
        for _ in range(50):
            c = Client(server)
            expect(server, "fork: INCR", c.ask("INCR n"), "VALUE 1")
            expect(server, "fork: QUIT", c.ask("QUIT"), "BYE")
            read_to_eof(c.sock)
            c.close()
        end = time.monotonic() + server.deadline
        while children_of(server.process.pid) and time.monotonic() < end:
            time.sleep(0.01)  # polling /proc: the children end on their own schedule
        left = {child: state_of(child) for child in children_of(server.process.pid)}
        if left:
            fail(f"fork: after 50 clients these children are left (Z = zombie): {left}", server)

    if model == "pool":
        # 20 clients at once against 4 workers: 4 are served while 16 wait in
        # the queue, each taking its turn as a client before it leaves.
        crowd = [Client(server) for _ in range(20)]
        for c in crowd:
            c.sock.sendall(b"INCR crowd\nQUIT\n")
        # 4 workers + the accepting thread (+ 1 that ThreadSanitizer adds in its build).
        threads = threads_of(server.process.pid)
        if not 4 + 1 <= threads <= 4 + 2:
            fail(f"pool --workers 4: {threads} threads with 20 clients connected, expected 5", server)
        answers = []
        for c in crowd:
            answers.append(int(c.line().split()[1]))
            expect(server, "pool: QUIT", c.line(), "BYE")
            c.close()
        expect(server, "pool: 20 INCRs from 20 clients", sorted(answers), list(range(1, 21)))

    # Ctrl-C while a client is connected: that client finishes, then the server exits 0.
    if model != "one":
        inflight = Client(server)
        expect(server, "before Ctrl-C", inflight.ask("INCR last"), "VALUE 1")
        server.signal(2)
        server.wait_for(r"stopping: no new clients", "the stop announced")
        expect(server, "a client in flight after Ctrl-C", inflight.ask("INCR last"), "VALUE 2")
        expect(server, "QUIT after Ctrl-C", inflight.ask("QUIT"), "BYE")
        inflight.close()
    output = server.stop()
    wanted = {"pool": "joined 4 worker threads", "thread": "joined every thread",
              "fork": "every child collected", "one": "stopped cleanly"}[model]
    if wanted not in output:
        fail(f"{model}: the output after Ctrl-C lacks {wanted!r}", server)


def check_echo_model(path, model):
    server = Server([path, "--port", "0", "--model", model, "--echo", "--quiet"], merge_stderr=True)
    survive_hostile_clients(server)
    payload = bytes(range(256)) * 64
    with server.connect() as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        echoed = read_to_eof(sock)
    if echoed != payload:
        fail(f"--echo --model {model}: {len(echoed)} bytes came back, expected the same {len(payload)}", server)
    output = server.stop()
    if "accept()" in output:
        fail(f"--quiet still narrates each call:\n{output}", server)


def check_zombies_show(path):
    """Without the SIGCHLD handler (--no-collect) the children that ended stay
    zombies: proof that the zombie check above can see one."""
    server = Server([path, "--port", "0", "--model", "fork", "--no-collect", "--quiet"], merge_stderr=True)
    for _ in range(3):
        c = Client(server)
        expect(server, "fork --no-collect: QUIT", c.ask("QUIT"), "BYE")
        read_to_eof(c.sock)
        c.close()
    end = time.monotonic() + server.deadline
    while time.monotonic() < end:
        zombies = [child for child in children_of(server.process.pid) if state_of(child) == "Z"]
        if len(zombies) == 3:
            break
        time.sleep(0.01)  # polling /proc: the children end on their own schedule
    else:
        fail(f"fork --no-collect: expected 3 zombie children, found {zombies}", server)
    output = server.stop()
    if "every child collected" not in output:
        fail("fork --no-collect: the stop did not collect the zombies", server)


def check_grace(path):
    server = Server([path, "--port", "0", "--grace-ms", "300"], merge_stderr=True)
    silent = Client(server)
    expect(server, "before Ctrl-C", silent.ask("GET x"), "NOT_FOUND")
    started = time.monotonic()
    server.stop()
    took = time.monotonic() - started
    if took > 2.5:
        fail(f"a silent client held the stop for {took:.1f} s with --grace-ms 300", server)
    if read_to_eof(silent.sock) != b"":
        fail("the silent client got bytes instead of the end of the connection", server)
    silent.close()


def main():
    """08_kv_server.py KV_SERVER [MODEL...]: the models to check (all four by default)."""
    path, models = sys.argv[1], sys.argv[2:] or ["pool", "thread", "fork", "one"]
    for model in models:
        check_kv_model(path, model)
        check_echo_model(path, model)
    if "fork" in models:
        check_zombies_show(path)
    if "pool" in models:
        check_grace(path)
    print("ok: kv-server in every model: hostile clients, protocol, concurrency, fork state and zombies, "
          "bounded pool threads, echo, graceful Ctrl-C")
    return 0


if __name__ == "__main__":
    sys.exit(main())
