#!/usr/bin/env python3
"""Two pages of lesson 16's chat in headless Chromium, chatting through
chat-server: each page connects, page A sends a line and both show it, page B
answers and both show that, and a screenshot of page B is left in OUT_DIR to
look at. Chromium is driven over its DevTools protocol, itself a WebSocket,
with Python's websockets (the same client as 16_chat.py); Chromium is found
the way the book's browser test finds it. Skipped (77, saying why) without
chromium or websockets. Every wait has a deadline.

    16_browser_chat.py CHAT_SERVER OUT_DIR
"""
import asyncio
import base64
import importlib
import itertools
import json
import os
import pathlib
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "book"))
from lesson_program import Program, Server, fail  # noqa: E402
from test_browser import chromium  # noqa: E402

chat_test = importlib.import_module("16_chat")  # its python-with-websockets choice
DEADLINE = 20.0  # a browser start on a loaded two-core machine
SKIP = 77

# Resolves true once an element matching `selector` holds `text` (a
# MutationObserver: no polling), false after the deadline.
WAIT_FOR = """new Promise((done) => {
  const found = () => [...document.querySelectorAll(%(selector)s)].some(e => e.textContent === %(text)s);
  if (found()) { done(true); return; }
  const watch = new MutationObserver(() => { if (found()) { watch.disconnect(); done(true); } });
  watch.observe(document.body, {subtree: true, childList: true, characterData: true});
  setTimeout(() => { watch.disconnect(); done(found()); }, %(ms)d);
})"""

SAY = """(() => {
  document.getElementById("text").value = %s;
  document.getElementById("form").requestSubmit();
  return true;
})()"""


class DevTools:
    """Chromium's DevTools protocol: one WebSocket, numbered commands, pages as sessions."""

    def __init__(self, socket):
        self.socket = socket
        self.ids = itertools.count(1)
        self.events = []  # those that came while waiting for an answer

    async def call(self, method, session=None, **params):
        number = next(self.ids)
        message = {"id": number, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        await self.socket.send(json.dumps(message))
        while True:  # events of the pages come in between: kept for wait_event
            answer = json.loads(await asyncio.wait_for(self.socket.recv(), DEADLINE))
            if answer.get("id") == number:
                if "error" in answer:
                    raise AssertionError(f"{method}: {answer['error']}")
                return answer["result"]
            if "method" in answer:
                self.events.append(answer)

    async def wait_event(self, method, session):
        while True:
            for event in self.events:
                if event["method"] == method and event.get("sessionId") == session:
                    self.events.remove(event)
                    return event
            self.events.append(json.loads(await asyncio.wait_for(self.socket.recv(), DEADLINE)))

    async def open_page(self, url):
        """A new page on `url`, once its load event has fired (before it, a
        script would run in the about:blank the page starts as)."""
        target = await self.call("Target.createTarget", url="about:blank")
        attached = await self.call("Target.attachToTarget", targetId=target["targetId"], flatten=True)
        session = attached["sessionId"]
        await self.call("Page.enable", session)
        await self.call("Page.navigate", session, url=url)
        await self.wait_event("Page.loadEventFired", session)
        return session

    async def evaluate(self, session, expression):
        result = await self.call("Runtime.evaluate", session, expression=expression, awaitPromise=True,
                                 returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"the page threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, session, selector, text, what):
        script = WAIT_FOR % {"selector": json.dumps(selector), "text": json.dumps(text), "ms": DEADLINE * 1000 / 2}
        if not await self.evaluate(session, script):
            log = await self.evaluate(session, "document.body.innerText")
            raise AssertionError(f"{what}: no {selector} saying {text!r}; the page shows:\n{log}")


async def chat(devtools_url, port, screenshot):
    import websockets
    async with websockets.connect(devtools_url, max_size=None, open_timeout=DEADLINE) as socket:
        browser = DevTools(socket)
        page_a = await browser.open_page(f"http://127.0.0.1:{port}/")
        page_b = await browser.open_page(f"http://127.0.0.1:{port}/")
        for name, page in (("page A", page_a), ("page B", page_b)):
            await browser.wait_for(page, "#status", "connected", f"{name} connecting its WebSocket")
        await browser.evaluate(page_a, SAY % json.dumps("hello from page A"))
        for name, page in (("page A", page_a), ("page B", page_b)):
            await browser.wait_for(page, "#log li", "hello from page A", f"{name} showing A's line")
        await browser.evaluate(page_b, SAY % json.dumps("h\u00e9llo A, this is B"))
        for name, page in (("page A", page_a), ("page B", page_b)):
            await browser.wait_for(page, "#log li", "h\u00e9llo A, this is B", f"{name} showing B's line")
        shot = await browser.call("Page.captureScreenshot", page_b, format="png")
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        await socket.send(json.dumps({"id": 0, "method": "Browser.close", "params": {}}))


def main():
    chat_test.use_python_with_websockets()
    program, out_dir = sys.argv[1], pathlib.Path(sys.argv[2])
    browser = chromium()
    if browser is None:
        print("SKIP: chromium is not installed (apt-get install chromium; ./workbook test installs it)")
        sys.exit(SKIP)
    out_dir.mkdir(parents=True, exist_ok=True)
    screenshot = out_dir / "16-browser-chat.png"
    server = Server([program, "--quiet"])
    with tempfile.TemporaryDirectory(prefix="workbook-chromium-") as profile:
        env = {"PATH": "/usr/bin:/bin", "HOME": profile}
        chrome = Program([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--disable-extensions", f"--user-data-dir={profile}", "--remote-debugging-port=0",
                          "--window-size=800,600", "about:blank"], merge_stderr=True, env=env, deadline=DEADLINE)
        devtools_url = chrome.wait_for(r"DevTools listening on (ws://\S+)", "chromium's DevTools address").group(1)
        try:
            asyncio.run(chat(devtools_url, server.port, screenshot))
            chrome.wait(DEADLINE)
        except Exception as error:  # the conversation failed: show both sides
            chrome.process.kill()
            chrome.process.wait(timeout=DEADLINE)
            chrome.show()
            fail(f"{type(error).__name__}: {error}", server)
    server.stop()
    print(f"ok: two pages chatted through chat-server; screenshot (look at it): {screenshot}")


if __name__ == "__main__":
    main()
