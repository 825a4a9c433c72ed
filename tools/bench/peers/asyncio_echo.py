#!/usr/bin/env python3
"""The reference peer for lesson 09: an echo server on Python's asyncio, the way
its documentation writes one (asyncio.start_server, one coroutine per client).

    asyncio_echo.py [--host 127.0.0.1] [--port 0] [--quiet]

Prints "listening on HOST:PORT"; Ctrl-C (SIGINT) or SIGTERM stops it."""
import argparse
import asyncio
import os
import signal
import sys


async def echo(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass  # a client that resets, or the server stopping, ends this coroutine quietly
    finally:
        writer.close()


async def main(arguments):
    server = await asyncio.start_server(echo, arguments.host, arguments.port, backlog=4096)
    host, port = server.sockets[0].getsockname()[:2]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # A plain handler that stays installed until the process exits: every
    # Ctrl-C, however many, only asks the loop to stop (asyncio's own SIGINT
    # handling would turn a second one during shutdown into KeyboardInterrupt).
    for signo in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signo, lambda *_: loop.call_soon_threadsafe(stop.set))
    print(f"listening on {host}:{port}", flush=True)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="accepted for symmetry: it never narrates")
    asyncio.run(main(parser.parse_args()))
    # Out at once: while the interpreter finalizes, SIGINT is back to its default
    # action, and a Ctrl-C repeated while stopping would kill it with status -2.
    sys.stdout.flush()
    os._exit(0)
