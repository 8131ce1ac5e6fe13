"""The classroom: `runbook serve` in a real headless Chromium, driven over the DevTools protocol.

The page draws the terminal on a canvas, so the test reads what the app sends over the page's
websocket (CDP Network events), strips the escape sequences, and looks for the app's words;
a screenshot is saved too. Needs Debian's `chromium` and textual-serve (aiohttp comes with it).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium)"),
    pytest.mark.skipif(
        subprocess.run([sys.executable, "-c", "import textual_serve, aiohttp"], capture_output=True).returncode != 0,
        reason="needs textual-serve (pip install textual-serve)",
    ),
]
ROOT = Path(__file__).resolve().parents[2]
ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"runbook serve exited with {proc.returncode}")
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


@contextlib.contextmanager
def started(cmd: list[str], **kw: Any) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Page:
    """A minimal DevTools client: calls, and the frames the page's websockets receive."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.frames: list[bytes] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            msg = json.loads(message.data)
            if "id" in msg and msg["id"] in self.pending:
                self.pending.pop(msg["id"]).set_result(msg)
            elif msg.get("method") == "Network.webSocketFrameReceived":
                r = msg["params"]["response"]
                data = base64.b64decode(r["payloadData"]) if r["opcode"] == 2 else r["payloadData"].encode()
                self.frames.append(data)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        i = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.pending[i] = future
        await self.ws.send_json({"id": i, "method": method, "params": params})
        msg = await asyncio.wait_for(future, 20)
        assert "error" not in msg, msg
        return msg["result"]

    def text(self, since: int = 0) -> str:
        return ESCAPES.sub(b"", b"".join(self.frames[since:])).decode("utf-8", "replace")

    async def wait_text(self, words: str, since: int = 0, timeout: float = 30) -> None:
        end = asyncio.get_running_loop().time() + timeout
        while words not in self.text(since):
            if asyncio.get_running_loop().time() > end:
                raise AssertionError(f"{words!r} never showed; last: {self.text(since)[-500:]!r}")
            await asyncio.sleep(0.2)

    async def key(self, key: str, code: int) -> None:
        for kind in ("keyDown", "keyUp"):
            await self.call("Input.dispatchKeyEvent", type=kind, key=key, code=key, windowsVirtualKeyCode=code)

    async def screenshot(self, path: Path) -> bytes:
        data = base64.b64decode((await self.call("Page.captureScreenshot", format="png"))["data"])
        path.write_bytes(data)
        return data


async def drive(url: str, profile: Path, shots: Path) -> None:
    import aiohttp

    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        "--window-size=1280,900",
        "about:blank",
    ]
    with started(cmd):
        port_file = profile / "DevToolsActivePort"
        for _ in range(200):
            if port_file.exists() and port_file.read_text().strip():
                break
            await asyncio.sleep(0.1)
        devtools = port_file.read_text().split()[0]
        async with aiohttp.ClientSession() as http:
            targets = await (await http.get(f"http://127.0.0.1:{devtools}/json")).json()
            target = next(t for t in targets if t["type"] == "page")
            async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                page = Page(ws)
                await page.call("Network.enable")
                await page.call("Page.navigate", url=url)
                # the app: its start screen, drawn in the browser
                await page.wait_text("Incident title")
                await page.wait_text("Start (enter)")
                first = await page.screenshot(shots / "start.png")
                assert first[:8] == b"\x89PNG\r\n\x1a\n" and len(first) > 10_000
                # a key press reaches the app, and it answers with the main screen
                await page.call(
                    "Runtime.evaluate", expression="document.querySelector('.xterm-helper-textarea').focus()"
                )
                mark = len(page.frames)
                await page.key("Escape", 27)
                await page.wait_text("Decision tree", since=mark)
                await page.wait_text("Does the gateway answer with an error?", since=mark)
                second = await page.screenshot(shots / "main.png")
                assert second != first
                page.reader.cancel()


def test_serve_in_headless_chromium(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    cmd = [sys.executable, "-m", "runbook", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with started(cmd, cwd=ROOT, env=env) as server:
        wait_port(port, server)
        (tmp_path / "profile").mkdir()
        asyncio.run(drive(f"http://127.0.0.1:{port}/", tmp_path / "profile", tmp_path))
    # the served app was a real runbook session: it wrote its journal
    assert list((tmp_path / "xdg").rglob("*.jsonl"))


async def type_text(page: Page, text: str) -> None:
    for ch in text:
        await page.call("Input.dispatchKeyEvent", type="keyDown", key=ch, text=ch, unmodifiedText=ch)
        await page.call("Input.dispatchKeyEvent", type="keyUp", key=ch)


async def trainee(url: str, profile: Path, name: str, shots: Path) -> str:
    """One browser: the page, the trainee's name, a step, a diagnosis, the debrief.
    Returns what the browser was sent before the diagnosis."""
    import aiohttp

    profile.mkdir()
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        "--window-size=1280,900",
        "about:blank",
    ]
    with started(cmd):
        port_file = profile / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and port_file.read_text().strip():
                break
            await asyncio.sleep(0.1)
        devtools = port_file.read_text().split()[0]
        async with aiohttp.ClientSession() as http:
            targets = await (await http.get(f"http://127.0.0.1:{devtools}/json")).json()
            target = next(t for t in targets if t["type"] == "page")
            async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                page = Page(ws)
                await page.call("Network.enable")
                await page.call("Page.navigate", url=url)
                await page.wait_text("You are paged", timeout=60)
                await page.wait_text("Users API", timeout=30)
                await page.call(
                    "Runtime.evaluate", expression="document.querySelector('.xterm-helper-textarea').focus()"
                )
                await type_text(page, name)
                mark = len(page.frames)
                await page.key("Enter", 13)
                await page.wait_text("on call for", since=mark, timeout=60)
                await page.screenshot(shots / f"{name}-main.png")
                mark = len(page.frames)
                await type_text(page, "r")
                await page.wait_text("Where do you look next?", since=mark, timeout=60)
                await page.key("Escape", 27)
                await asyncio.sleep(0.6)  # a letter right after Escape would read as alt+letter
                before = page.text()
                mark = len(page.frames)
                await type_text(page, "d")
                await page.wait_text("Your diagnosis", since=mark, timeout=60)
                await type_text(page, "1")
                for _ in range(3):  # cause -> hosts -> evidence -> why
                    await page.key("Enter", 13)
                    await asyncio.sleep(0.3)
                await type_text(page, f"{name} thinks so")
                mark = len(page.frames)
                await page.key("Enter", 13)
                await page.wait_text("/ 100", since=mark, timeout=60)
                await page.screenshot(shots / f"{name}-debrief.png")
                page.reader.cancel()
                return before
    raise AssertionError("unreachable")


def test_two_trainees_in_two_browsers_at_once(tmp_path: Path) -> None:
    from runbook.journal import read_journal
    from runbook.training.session import pick_scenario
    from runbook.training.summary import class_summary
    from tests.training.leaks import leaks_of

    port = free_port()
    data = tmp_path / "xdg"
    env = {**os.environ, "XDG_DATA_HOME": str(data)}
    cmd = [
        sys.executable,
        "-m",
        "runbook",
        "serve",
        "--train",
        "granite-owl",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with started(cmd, cwd=ROOT, env=env) as server:
        wait_port(port, server)
        url = f"http://127.0.0.1:{port}/"

        async def both() -> list[str]:
            return await asyncio.gather(
                trainee(url, tmp_path / "ann", "Ann", tmp_path), trainee(url, tmp_path / "bob", "Bob", tmp_path)
            )

        seen = asyncio.run(both())
        time.sleep(1)
    journals = [p for p in data.rglob("*.jsonl")]
    starts = [next(e for e in read_journal(p) if e["type"] == "training-start") for p in journals]
    assert sorted(s["trainee"] for s in starts) == ["Ann", "Bob"]  # each browser its own session
    diagnoses = [e for p in journals for e in read_journal(p) if e["type"] == "diagnosis"]
    assert sorted(d["why"] for d in diagnoses) == ["Ann thinks so", "Bob thinks so"]
    # nothing in the browser gave the answer away before the diagnosis
    for secret in leaks_of(pick_scenario("granite-owl")):
        assert all(secret not in text for text in seen), secret
    assert all("Granite Owl" in text and "Users API" in text for text in seen)
    summary = class_summary(data)
    assert "| Ann | Granite Owl |" in summary and "| Bob | Granite Owl |" in summary
