#!/usr/bin/env python3
"""Runs lesson 16's chat-server as a learner would and talks to it with
Python's websockets library (python3-websockets), a client we did not write,
after the hostile clients every server must survive (a reset mid-frame, a
megabyte of garbage after the upgrade): the page at /, two clients in the room each getting every message, a ping
answered, a message over --max-message closed with 1009 while the other
client carries on, a close with 1000 echoed, a refused upgrade as plain
HTTP, the narration, --quiet, and Ctrl-C. Every wait has a deadline."""
import asyncio
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lesson_program import Server, fail, read_to_eof, survive_hostile_clients  # noqa: E402

DEADLINE = 5.0
SKIP = 77  # meson's "skipped"


def use_python_with_websockets():
    """apt's python3-websockets is for /usr/bin/python3: run there when this
    python3 (a pyenv one, say) does not have it; skip when neither has it."""
    try:
        import websockets  # noqa: F401
        return
    except ImportError:
        pass
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3") and subprocess.run(
            ["/usr/bin/python3", "-c", "import websockets"], capture_output=True, timeout=DEADLINE).returncode == 0:
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    print("SKIP: Python's websockets is not installed: run ./workbook (it installs python3-websockets) "
          "or sudo apt-get install python3-websockets")
    sys.exit(SKIP)


async def within(awaitable, what):
    try:
        return await asyncio.wait_for(awaitable, DEADLINE)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out after {DEADLINE:g} s: {what}") from None


async def chat(port):
    import websockets
    uri = f"ws://127.0.0.1:{port}/chat"
    alice = await within(websockets.connect(uri, close_timeout=DEADLINE), "alice's handshake")
    bob = await within(websockets.connect(uri, close_timeout=DEADLINE), "bob's handshake")
    await alice.send("hello from alice")
    for name, client in (("alice", alice), ("bob", bob)):
        got = await within(client.recv(), f"{name} receiving alice's message")
        if got != "hello from alice":
            raise AssertionError(f"{name} got {got!r}, expected 'hello from alice'")
    await bob.send("h\u00e9llo from bob")
    for name, client in (("alice", alice), ("bob", bob)):
        got = await within(client.recv(), f"{name} receiving bob's message")
        if got != "h\u00e9llo from bob":
            raise AssertionError(f"{name} got {got!r}")
    pong = await alice.ping(b"are you there?")
    await within(pong, "the pong for alice's ping")

    await bob.send("x" * 2000)  # over --max-message 1000
    try:
        got = await within(bob.recv(), "bob's connection closing with 1009")
        raise AssertionError(f"a 2000-byte message over a 1000-byte limit was answered: {got[:40]!r}")
    except websockets.ConnectionClosed:
        pass
    if bob.close_code != 1009:
        raise AssertionError(f"bob's connection closed with {bob.close_code}, expected 1009 (message too big)")
    await alice.send("still here")
    got = await within(alice.recv(), "alice after bob left")
    if got != "still here":
        raise AssertionError(f"alice got {got!r}")
    await within(alice.close(code=1000, reason="bye"), "the close handshake")
    if alice.close_code != 1000:
        raise AssertionError(f"the server answered alice's close 1000 with {alice.close_code}")


UPGRADE = (b"GET /chat HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")


def garbage_after_upgrade(server):
    """A megabyte of bytes that are no frames, right after the upgrade: the
    server must close the connection (with 1002) and keep serving."""
    deadline = time.monotonic() + server.deadline
    with server.connect() as sock:
        try:
            sock.sendall(UPGRADE + bytes(range(256)) * 4096)
        except (ConnectionResetError, BrokenPipeError):
            pass  # it closed while the megabyte was still going: as it should
        try:
            while sock.recv(65536):
                if time.monotonic() > deadline:
                    fail("a megabyte of garbage after the upgrade: the server did not close", server)
        except ConnectionResetError:
            pass
        except (TimeoutError, socket.timeout):
            fail("a megabyte of garbage after the upgrade: the server did not close", server)


def main():
    use_python_with_websockets()
    program = sys.argv[1]
    server = Server([program, "--max-message", "1000"])
    page = server.exchange(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").decode()
    if not page.startswith("HTTP/1.1 200 ") or "text/html" not in page or "new WebSocket(" not in page:
        fail(f"GET / is not the chat page:\n{page[:600]}", server)
    refused = server.exchange(b"GET /chat HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").decode()
    if not refused.startswith("HTTP/1.1 400 ") or "Sec-WebSocket-Version: 13" not in refused:
        fail(f"GET /chat without an upgrade: expected a 400 with Sec-WebSocket-Version: 13:\n{refused}", server)
    # Hostile clients, for the HTTP side and then for the frames: a reset in
    # the middle of a frame, a megabyte of garbage after the upgrade.
    survive_hostile_clients(server, partial=UPGRADE + b"\x82\xfe\x10\x00\x01\x02")
    garbage_after_upgrade(server)
    try:
        asyncio.run(chat(server.port))
    except Exception as error:  # any failure of the conversation, with the server's side of it
        fail(f"{type(error).__name__}: {error}", server)
    server.wait_for(r"close 1000 -> echoed", "the narration of the close handshake")
    output = server.stop()
    for wanted in ("upgraded", "joined", "failing the connection with 1009", "-> pong",
                   "failing the connection with 1002"):
        if wanted not in output:
            fail(f"the narration lacks {wanted!r}:\n{output}")

    quiet = Server([program, "--quiet"])
    with quiet.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        read_to_eof(sock)
    output = quiet.stop()
    if "GET /" in output or len(output.splitlines()) > 3:
        fail(f"--quiet still narrates:\n{output}")
    print("ok: hostile clients survived; the page, two clients, broadcast, ping/pong, 1009, close 1000 echoed, a refused upgrade, --quiet")


if __name__ == "__main__":
    main()
