#!/usr/bin/env python3
"""select() past FD_SETSIZE, as chapter 09 shows it: with 1,100 files held
open, chat-server --select refuses a client whose descriptor it cannot watch
(told "ERR server full", closed, an error naming FD_SETSIZE) and keeps
running; the poll() loop serves the same clients."""
import os
import resource
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, read_to_eof  # noqa: E402

FILES = 1100


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < FILES + 64:
        print(f"skipped: RLIMIT_NOFILE hard limit {hard} is below {FILES + 64}")
        return 0

    server = Server([sys.argv[1], "--port", "0", "--select", "--open-files", str(FILES)])
    server.wait_for(r"holding 1100 files open", "the files held open")
    for _ in range(2):  # the server goes on after refusing one
        with server.connect() as sock:
            answer = read_to_eof(sock)
        if answer != b"ERR server full\n":
            fail(f"--select past FD_SETSIZE answered {answer!r}, expected b'ERR server full\\n'", server)
    server.stop()
    if "is not below FD_SETSIZE (1024): select() cannot watch it" not in server.errors():
        fail("--select did not say why it refused the client", server)

    server = Server([sys.argv[1], "--port", "0", "--open-files", str(FILES)])
    server.wait_for(r"holding 1100 files open", "the files held open")
    with server.connect() as ann, server.connect() as bob:
        ann.sendall(b"ann\n")
        bob.sendall(b"bob\n")
        if ann.recv(100) != b"* bob joined\n":
            fail("poll() with descriptors above 1100 did not chat", server)
    output = server.stop()
    if "accept() = fd 11" not in output:
        fail(f"expected descriptors above 1100:\n{output}")
    print("ok: --select refuses descriptors past FD_SETSIZE with a clear error; poll() serves them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
