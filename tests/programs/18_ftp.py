#!/usr/bin/env python3
"""Runs lesson 18's ftp (and naive-ftp) against a real FTP server from the
distribution, pyftpdlib (python3-pyftpdlib), started here on 127.0.0.1 with a
port the kernel picks, a temporary root and passive ports on loopback: a
1 MiB binary file up and back byte for byte in TYPE I; the same file through
TYPE A visibly changed; a text file's line ends converted on the wire and
back; REST resuming a download; LIST, NLST, PWD, SIZE; a 550; --quiet; a
refused connection; and naive-ftp out of step after FEAT's multi-line reply.
Every wait has a deadline."""
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Program, expect_in, fail, run, run_expecting  # noqa: E402

DEADLINE = 10.0
SERVER = r"""
import logging, sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer
logging.basicConfig(level=logging.WARNING)
authorizer = DummyAuthorizer()
authorizer.add_user("learner", "secret", sys.argv[1], perm="elradfmw")
FTPHandler.authorizer = authorizer
FTPHandler.banner = "pyftpdlib ready."
server = FTPServer(("127.0.0.1", 0), FTPHandler)
print("listening on 127.0.0.1:%d" % server.address[1], flush=True)
server.serve_forever()
"""


def interpreter_with_pyftpdlib():
    """This python3 if it has pyftpdlib, else the distribution's (apt's
    python3-pyftpdlib is installed for /usr/bin/python3)."""
    for candidate in (sys.executable, "/usr/bin/python3"):
        if candidate and subprocess.run([candidate, "-c", "import pyftpdlib"], capture_output=True,
                                        timeout=DEADLINE).returncode == 0:
            return candidate
    fail("pyftpdlib is not installed: run ./workbook (it installs python3-pyftpdlib) "
         "or sudo apt-get install python3-pyftpdlib")


def ftp(ftp_path, port, *args, expect=0):
    return run_expecting([ftp_path, "--port", str(port), "--user", "learner", "--password", "secret", *args],
                         expect=expect, timeout=DEADLINE)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    ftp_path, naive_path = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    python = interpreter_with_pyftpdlib()
    with tempfile.TemporaryDirectory() as root, tempfile.TemporaryDirectory() as local:
        server = Program([python, "-u", "-c", SERVER, root], merge_stderr=True, deadline=DEADLINE)
        port = int(server.wait_for(r"listening on 127\.0\.0\.1:(?P<port>\d+)", "pyftpdlib's port").group("port"))
        try:
            os.chdir(local)
            original = random.Random(18).randbytes(1 << 20)
            assert b"\r\n" in original and b"\n" in original
            with open("big.bin", "wb") as f:
                f.write(original)

            # TYPE I up and back: byte for byte.
            put = ftp(ftp_path, port, "put", "big.bin")
            for line in ("control > TYPE I", "control > EPSV", "control > STOR big.bin",
                         "data    * connected to 127.0.0.1 port", "data    > 1048576 bytes", "control < 226"):
                expect_in(put.stderr, line, "put's narration")
            # 125 when the server had accepted the data connection before STOR came, else 150
            if "control < 125 " not in put.stderr and "control < 150 " not in put.stderr:
                fail(f"put's narration: no 125 or 150 before the data:\n{put.stderr}")
            if read(os.path.join(root, "big.bin")) != original:
                fail("the uploaded file differs from the original")
            get = ftp(ftp_path, port, "get", "big.bin", "back.bin")
            expect_in(get.stderr, "data    < 1048576 bytes, then the server closed it", "get's narration")
            if read("back.bin") != original:
                fail("big.bin came back different in TYPE I")

            # TYPE A on a binary file: the server turns every LF into CRLF, the
            # client every CRLF into LF. Not the same bytes any more.
            ftp(ftp_path, port, "--ascii", "get", "big.bin", "mangled.bin")
            if read("mangled.bin") == original:
                fail("big.bin came back unchanged in TYPE A; its CRLFs should have become LFs")

            # TYPE A on a text file: CRLF on the wire, LF at each end.
            with open("notes.txt", "wb") as f:
                f.write(b"one\ntwo\nthree\n")
            ftp(ftp_path, port, "--ascii", "put", "notes.txt")
            if read(os.path.join(root, "notes.txt")) != b"one\ntwo\nthree\n":
                fail(f"notes.txt on the server: {read(os.path.join(root, 'notes.txt'))!r}")
            text = ftp(ftp_path, port, "--ascii", "get", "notes.txt", "-")
            if text.stdout != "one\ntwo\nthree\n":
                fail(f"notes.txt in TYPE A: {text.stdout!r}")
            expect_in(text.stderr, "data    < 17 bytes", "TYPE A's CRLFs on the wire (14 bytes + 3 CR)")
            raw = ftp(ftp_path, port, "get", "notes.txt", "-")
            expect_in(raw.stderr, "data    < 14 bytes", "TYPE I: the bytes as they are stored")

            # REST: the first half is here, fetch the rest.
            with open("resumed.bin", "wb") as f:
                f.write(original[:300_000])
            resumed = ftp(ftp_path, port, "--rest", "300000", "get", "big.bin", "resumed.bin")
            expect_in(resumed.stderr, "control < 350", "REST's reply")
            if read("resumed.bin") != original:
                fail("the resumed download is not the file")

            listing = ftp(ftp_path, port, "ls")
            expect_in(listing.stdout, "big.bin", "LIST")
            expect_in(listing.stderr, "control > TYPE A", "LIST in TYPE A")
            names = ftp(ftp_path, port, "--quiet", "nlst")
            if sorted(names.stdout.split()) != ["big.bin", "notes.txt"] or names.stderr != "":
                fail(f"nlst --quiet: stdout {names.stdout!r}, stderr {names.stderr!r}")
            if ftp(ftp_path, port, "--quiet", "size", "big.bin").stdout != "1048576\n":
                fail("SIZE big.bin is not 1048576")
            if ftp(ftp_path, port, "--quiet", "pwd").stdout != "/\n":
                fail("PWD is not /")
            missing = ftp(ftp_path, port, "get", "nope.bin", expect=1)
            expect_in(missing.stderr, "550", "a missing file")

            # The chapter's failure: one line per reply goes out of step at FEAT.
            naive = run([naive_path, "--port", str(port), "--user", "learner", "--password", "secret"],
                        timeout=DEADLINE)
            pwd_line = next((line for line in naive.stdout.splitlines() if line.startswith("PWD")), "")
            if naive.returncode != 0 or not pwd_line or "257" in pwd_line:
                fail(f"naive-ftp should take a line of FEAT's reply for PWD's:\n{naive.stdout}{naive.stderr}")
        finally:
            server.process.terminate()
            server.process.wait(timeout=DEADLINE)

    refused = run([ftp_path, "--port", "1", "pwd"], timeout=DEADLINE)
    if refused.returncode != 1:
        fail(f"a refused connection: exit status {refused.returncode}")
    expect_in(refused.stderr, "Connection refused", "a refused connection")
    print("ok")


if __name__ == "__main__":
    main()
