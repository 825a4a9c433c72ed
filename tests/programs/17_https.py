#!/usr/bin/env python3
"""Runs lesson 17's https-server and https-get as chapter 17 does: a throwaway
CA, a certificate for localhost and an impostor's self-signed one, all made
here with the openssl command in a temporary folder; then the verified GET
(by name and by address, SNI only for the name), the refusal with the
system's CAs, the impostor believed with --insecure and refused without it,
curl and openssl s_client against the server, TLS 1.1 refused, plain HTTP on
the TLS port, the hostile clients every server survives, --quiet, and Ctrl-C.
Every wait has a deadline."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, expect_in, fail, read_to_eof, run, run_expecting, survive_hostile_clients  # noqa: E402

DEADLINE = 10.0


def openssl(*args, cwd):
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=DEADLINE, cwd=cwd)
    if result.returncode != 0:
        fail(f"openssl {' '.join(args)}: status {result.returncode}\n{result.stderr}")
    return result


def make_certificates(folder):
    """The chapter's three commands, and the impostor's."""
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc", "-days", "30"]
    openssl("req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Workbook CA", cwd=folder)
    openssl("req", "-x509", *curve, "-keyout", "localhost.key", "-out", "localhost.pem", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE",
            "-CA", "ca.pem", "-CAkey", "ca.key", cwd=folder)
    openssl("req", "-x509", *curve, "-keyout", "impostor.key", "-out", "impostor.pem", "-subj", "/CN=impostor.example",
            "-addext", "subjectAltName=DNS:impostor.example", cwd=folder)


def get(https_get, *args, expect=0):
    return run_expecting([https_get, *args], expect=expect, timeout=DEADLINE)


def main():
    https_get, https_server = sys.argv[1], sys.argv[2]
    if shutil.which("openssl", path="/usr/bin:/bin") is None:
        fail("the openssl command is not installed: run ./workbook (it installs openssl) or sudo apt-get install openssl")
    with tempfile.TemporaryDirectory(prefix="workbook-17-") as folder:
        make_certificates(folder)
        ca = os.path.join(folder, "ca.pem")
        server = Server([https_server, "--cert", os.path.join(folder, "localhost.pem"),
                         "--key", os.path.join(folder, "localhost.key")], deadline=DEADLINE)
        url = f"https://localhost:{server.port}/"

        ok = get(https_get, "--cafile", ca, url)
        if ok.stdout != "Hello, TLS!\n":
            fail(f"the body: {ok.stdout!r}", server)
        for line in ("* TLS handshake done: TLSv1.3", "*   certificate: /CN=localhost", "* certificate check: ok",
                     f"> Host: localhost:{server.port}", "< HTTP/1.1 200 OK"):
            expect_in(ok.stderr, line, "https-get's narration")
        server.wait_for(r"SNI localhost", "the server saw SNI localhost")

        by_address = get(https_get, "--cafile", ca, f"https://127.0.0.1:{server.port}/by-address")
        expect_in(by_address.stderr, "(an address: no SNI)", "https-get to 127.0.0.1")
        server.wait_for(r"SNI \(none\)\n.*\n?.*< GET /by-address", "the server saw no SNI for an address")

        refused = get(https_get, url, expect=1)
        expect_in(refused.stderr, "certificate verify failed for localhost: unable to get local issuer certificate",
                  "https-get with the system's CAs")
        if refused.stdout:
            fail(f"a refused connection printed a body: {refused.stdout!r}", server)

        quiet = get(https_get, "--quiet", "--cafile", ca, url)
        if quiet.stderr or quiet.stdout != "Hello, TLS!\n":
            fail(f"--quiet: stdout {quiet.stdout!r}, stderr {quiet.stderr!r}", server)

        curl = run(["curl", "-sS", "--cacert", ca, url], timeout=DEADLINE)
        if curl.returncode != 0 or curl.stdout != "Hello, TLS!\n":
            fail(f"curl --cacert: status {curl.returncode}, {curl.stdout!r} {curl.stderr}", server)
        curl = run(["curl", "-sS", url], timeout=DEADLINE)
        if curl.returncode != 60:
            fail(f"curl without the CA: status {curl.returncode} (60 expected), {curl.stderr}", server)

        s_client = subprocess.run(["openssl", "s_client", "-connect", f"localhost:{server.port}", "-servername",
                                   "localhost", "-CAfile", ca, "-verify_hostname", "localhost", "-brief"],
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=DEADLINE)
        for line in ("Protocol version: TLSv1.3", "Peer certificate: CN = localhost", "Verification: OK",
                     "Verified peername: localhost"):
            expect_in(s_client.stdout + s_client.stderr, line, "openssl s_client -brief")
        old = subprocess.run(["openssl", "s_client", "-connect", f"localhost:{server.port}", "-tls1_1", "-brief"],
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=DEADLINE)
        if old.returncode == 0:
            fail(f"a TLS 1.1 client was served:\n{old.stdout}{old.stderr}", server)
        expect_in(old.stderr, "alert protocol version", "openssl s_client -tls1_1")
        server.wait_for(r"TLS handshake failed: unsupported protocol", "the server refused TLS 1.1")

        with server.connect() as sock:  # an http:// client on the https:// port
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            try:
                read_to_eof(sock)
            except ConnectionResetError:
                pass  # it closed with our request unread: the kernel says so with a reset
        server.wait_for(r"TLS handshake failed: http request", "plain HTTP on the TLS port")

        survive_hostile_clients(server)
        get(https_get, "--cafile", ca, url)

        impostor = Server([https_server, "--cert", os.path.join(folder, "impostor.pem"),
                           "--key", os.path.join(folder, "impostor.key")], deadline=DEADLINE)
        fooled = get(https_get, "--insecure", f"https://localhost:{impostor.port}/")
        if fooled.stdout != "Hello, TLS!\n":
            fail(f"--insecure against the impostor: {fooled.stdout!r}", impostor)
        expect_in(fooled.stderr, "certificate: /CN=impostor.example", "--insecure's narration")
        expect_in(fooled.stderr, "certificate check: OFF (self-signed certificate)", "--insecure's narration")
        caught = get(https_get, "--cafile", ca, f"https://localhost:{impostor.port}/", expect=1)
        expect_in(caught.stderr, "certificate verify failed for localhost: self-signed certificate", "the impostor")
        impostor.stop()

        server.stop()
    print("ok: verified by name and address, refused by the system's CAs, the impostor believed only with "
          "--insecure, curl and s_client agree, TLS 1.1 and plain HTTP refused, hostile clients survived")


if __name__ == "__main__":
    main()
