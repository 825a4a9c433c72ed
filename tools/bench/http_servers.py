"""The HTTP servers `compare --http` measures: nginx with one worker (started
with a generated configuration in a temporary folder, as the current user), the
Python peer, and lesson 14's server. Imported by compare."""
import os
import pwd
import grp
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
START_DEADLINE = 10.0
NGINX_INSTALL = ("install it with ./workbook bench --http, or: sudo apt-get install -y nginx (Debian/Ubuntu), "
                 "sudo dnf install -y nginx (Fedora), sudo pacman -S nginx (Arch)")

# One worker, no logging per request, keep-alive for the whole run, and a
# backlog and connection limit that let 1,000 clients in at once (nginx's
# defaults are 511 and 512). Every path nginx writes is in the temporary folder.
NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
user {user} {group};
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections {worker_connections}; }}
http {{
    access_log off;
{temp_paths}
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            default_type text/plain;
            return 200 "Hello, World!";
        }}
    }}
}}
"""


def free_port():
    """A port nobody listens on right now (nginx cannot take port 0): it may be
    taken again before nginx binds it, so the caller retries on EADDRINUSE."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def nginx_path():
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)


class Nginx:
    """nginx with one worker answering every GET with `return 200 "Hello, World!"`.
    The same interface as compare's Server: start(), stop(), port, process."""

    def __init__(self, name, nginx, max_connections):
        self.name, self.nginx = name, nginx
        self.worker_connections = max(4096, 2 * max_connections + 16)
        self.process = None
        self.port = None
        self.note = ""
        self.fresh_rss_kib = None
        self.folder = None
        self.sampled_pid = None  # the worker: it holds the connections, the master only starts it

    def _config(self, port):
        built = subprocess.run([self.nginx, "-V"], capture_output=True, text=True, timeout=15).stderr
        # Every temporary path nginx knows, else it creates them under /var/lib/nginx, which a user cannot.
        temp_paths = "\n".join(f"    {module}_temp_path {self.folder}/{module};"
                               for module in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
                               if module == "client_body" or f"--without-http_{module}_module" not in built)
        return NGINX_CONF.format(folder=self.folder, port=port, temp_paths=temp_paths,
                                 worker_connections=self.worker_connections,
                                 user=pwd.getpwuid(os.getuid()).pw_name, group=grp.getgrgid(os.getgid()).gr_name)

    def start(self):
        self.folder = tempfile.mkdtemp(prefix="bench-nginx-")
        conf = os.path.join(self.folder, "nginx.conf")
        error_log = os.path.join(self.folder, "error.log")
        # -e (nginx 1.19.5 and later) keeps even the errors before the configuration is read out of /var/log.
        early_log = ["-e", error_log] if "-e filename" in subprocess.run(
            [self.nginx, "-h"], capture_output=True, text=True, timeout=15).stderr else []
        for _ in range(5):
            port = free_port()
            with open(conf, "w") as out:
                out.write(self._config(port))
            self.process = subprocess.Popen([self.nginx, "-p", self.folder, "-c", conf, *early_log],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                            start_new_session=True)
            if self._wait_listening(port) and self._find_worker():
                self.port = port
                with open(f"/proc/{self.sampled_pid}/status") as status:
                    self.fresh_rss_kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
                return
            log = open(error_log).read() if os.path.exists(error_log) else ""
            self.stop()
            if "Address already in use" not in log:
                raise RuntimeError(f"{self.name}: nginx did not start within {START_DEADLINE:g} s: {log.strip()[-400:]}")
        raise RuntimeError(f"{self.name}: five free ports were each taken before nginx could bind them")

    def _wait_listening(self, port):
        """True once the port takes a connection; False if nginx exited or the deadline passed."""
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)  # polling a port that is not open yet; nothing else says when it is
        return False

    def _find_worker(self):
        """True once the master has started its one worker (sampled_pid)."""
        deadline = time.monotonic() + START_DEADLINE
        children = f"/proc/{self.process.pid}/task/{self.process.pid}/children"
        while time.monotonic() < deadline and self.process.poll() is None:
            with open(children) as listed:
                pids = listed.read().split()
            if pids:
                self.sampled_pid = int(pids[0])
                return True
            time.sleep(0.05)  # the master forks it right after it binds; nothing else says when
        return False

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # nginx's fast shutdown
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                print(f"note: {self.name} ignored Ctrl-C for 3 s: killed", file=sys.stderr)
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # a worker its master left behind
            except ProcessLookupError:
                pass
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def offers(program, flag):
    help_text = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=15)
    return flag in help_text.stdout + help_text.stderr


def default_http_servers(build, server_class, max_connections):
    """(servers, skipped): nginx, the Python peer, lesson 14's server; each when it is there."""
    servers, skipped = [], []
    nginx = nginx_path()
    if nginx:
        servers.append(Nginx("nginx (1 worker)", nginx, max_connections))
    else:
        skipped.append(("nginx", f"not installed: {NGINX_INSTALL}"))
    servers.append(server_class("python http.server", [sys.executable, os.path.join(HERE, "peers", "http_hello.py")]))
    guestbook = os.path.join(build, "lessons", "14-http-server", "guestbook")
    if os.access(guestbook, os.X_OK):
        # One loop, as nginx has one worker: the same share of the machine.
        loops = ["--loops", "1"] if offers(guestbook, "--loops") else []
        servers.append(server_class("14 guestbook (1 loop)" if loops else "14 guestbook", [guestbook, *loops]))
    else:
        skipped.append(("14 guestbook", f"{guestbook} is not built"))
    return servers, skipped
