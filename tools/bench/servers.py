"""The servers compare measures: a program started with --port 0 whose port is
read from its "listening on HOST:PORT" line and which is stopped no matter
what (Server), and the default list of echo servers (default_servers), each
when it is built or installed. Imported by compare; http_servers.py has the
HTTP ones."""
import os
import re
import shlex
import signal
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
LISTENING = re.compile(r"listening on (\S+):(\d+)")
START_DEADLINE = 10.0
STOP_DEADLINE = 3.0


class Server:
    """A server under test: started, its port read, stopped no matter what."""

    def __init__(self, name, command, limit=None):
        self.name, self.command = name, command
        self.limit = limit  # the most connections it is measured with (None: any number)
        self.memory_note = ""  # said beside its idle memory
        self.process = None
        self.port = None
        self.note = ""
        self.fresh_rss_kib = None  # right after it started listening, before any load

    @property
    def sampled_pid(self):
        """The process whose memory and threads the idle load reads."""
        return self.process.pid

    def start(self):
        help_text = subprocess.run(self.command + ["--help"], capture_output=True, text=True, timeout=15)
        flags = ["--port", "0"]
        if "--quiet" in help_text.stdout + help_text.stderr:
            flags.append("--quiet")
        else:
            self.note = "narrating: no --quiet"
        self.process = subprocess.Popen(self.command + flags, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True, start_new_session=True, env={**os.environ, "NO_COLOR": "1"})
        found = threading.Event()

        def read():  # the port, then the rest of the output is drained so the server never blocks on it
            for line in self.process.stdout:
                match = LISTENING.search(line) if self.port is None else None
                if match:
                    self.port = int(match.group(2))
                    found.set()
            found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(START_DEADLINE) or self.port is None:
            try:
                status = self.process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                status = None
            why = f"it exited with status {status}" if status is not None else f"not within {START_DEADLINE:g} s"
            raise RuntimeError(f"{self.name}: no 'listening on HOST:PORT' line: {why} ({shlex.join(self.command + flags)})")
        with open(f"/proc/{self.process.pid}/status") as status:
            self.fresh_rss_kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            print(f"note: {self.name} ignored Ctrl-C for {STOP_DEADLINE:g} s: killed", file=sys.stderr)
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def echo_programs(build, lesson):
    """The programs of lesson NN whose --help offers --echo."""
    found = []
    for folder in sorted(d for d in os.listdir(os.path.join(build, "lessons")) if d.startswith(lesson + "-")):
        path = os.path.join(build, "lessons", folder)
        for name in sorted(os.listdir(path)):
            program = os.path.join(path, name)
            if os.path.isfile(program) and os.access(program, os.X_OK):
                help_text = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=15).stdout
                if "--echo" in help_text:
                    found.append(program)
    return found


def default_servers(build):
    """(servers, skipped): the default list, and what was left out and why."""
    servers, skipped = [], []
    peers = os.path.join(HERE, "peers")
    servers.append(Server("python-threading", [sys.executable, os.path.join(peers, "threading_echo.py")]))
    servers.append(Server("python-asyncio", [sys.executable, os.path.join(peers, "asyncio_echo.py")]))
    asio = os.path.join(build, "tools", "bench", "asio-echo")
    if not os.access(asio, os.X_OK) and os.path.isfile("/usr/include/asio.hpp"):
        # Not built by default (it compiles slowly): build it on first use.
        subprocess.run(["ninja", "-C", build, "tools/bench/asio-echo"], capture_output=True, timeout=600)
    if os.access(asio, os.X_OK):
        servers.append(Server("asio", [asio]))
    else:
        skipped.append(("asio", f"{asio} is not built: install libasio-dev (apt), then rebuild"))
    echo_server = os.path.join(build, "lessons", "02-tcp-client-server", "echo-server")
    if os.access(echo_server, os.X_OK):
        servers.append(Server("02 echo-server", [echo_server]))
    else:
        skipped.append(("02 echo-server", f"{echo_server} is not built"))
    lesson_08 = echo_programs(build, "08")
    # The pool gets a worker for each of 64 connections: a pool smaller than the
    # load leaves the rest queued, which is its point but not what is measured here.
    for model, extra in (("pool", ["--workers", "64"]), ("thread", [])):
        if lesson_08:
            servers.append(Server(f"08 {model}", [lesson_08[0], "--echo", "--model", model, *extra]))
        else:
            skipped.append((f"08 {model}", "no lesson 08 program with --echo is built"))
    if lesson_08:
        # A process per client: 10,000 clients would be 10,000 processes.
        fork = Server("08 fork", [lesson_08[0], "--echo", "--model", "fork"], limit=1000)
        fork.memory_note = "the parent's memory only: each client's process has its own"
        servers.append(fork)
    lesson_09 = echo_programs(build, "09")
    if lesson_09:
        servers.append(Server("09 poll", [lesson_09[0], "--echo"]))
    else:
        skipped.append(("09 poll", "no lesson 09 program with --echo is built"))
    for name, program, extra in (("10 epoll LT", "10-event-loop/echo-server", []),
                                 ("11 epoll ET", "11-edge-triggered-and-c10k/et-echo-server", []),
                                 ("11 epoll ET, 2 loops", "11-edge-triggered-and-c10k/et-echo-server", ["--loops", "2"])):
        path = os.path.join(build, "lessons", program)
        if os.access(path, os.X_OK):
            servers.append(Server(name, [path, *extra]))
        else:
            skipped.append((name, f"{path} is not built"))
    coroutines = os.path.join(build, "lessons", "12-coroutines", "echo-server")
    if os.access(coroutines, os.X_OK):
        servers.append(Server("12 coroutines", [coroutines]))
    else:
        skipped.append(("12 coroutines", f"{coroutines} is not built"))
    return servers, skipped
