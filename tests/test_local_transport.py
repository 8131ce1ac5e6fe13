"""The local transport: streamed, bounded, timed out, cancellable."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from runbook.inventory import Host
from runbook.transports.local import LocalTransport

HOST = Host(name="local", address="localhost")


def gone(pid: int) -> bool:
    """The process has exited (a zombie waiting for its parent counts as gone)."""
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split()[2] == "Z"


async def test_exit_status_stdout_stderr() -> None:
    res = await LocalTransport().run(HOST, "echo out; echo err >&2; exit 3", timeout=5)
    assert (res.exit_status, res.stdout, res.stderr) == (3, "out\n", "err\n")


async def test_streams_as_output_arrives() -> None:
    seen: list[tuple[float, str]] = []
    t0 = time.monotonic()
    await LocalTransport().run(
        HOST, "echo one; sleep 0.5; echo two", timeout=5, on_output=lambda s, t: seen.append((time.monotonic() - t0, t))
    )
    assert [t for _, t in seen] == ["one\n", "two\n"]
    assert seen[0][0] < 0.4  # the first line came before the command finished


async def test_timeout_kills_the_process_group(tmp_path) -> None:
    pidfile = tmp_path / "pid"
    res = await LocalTransport().run(HOST, f"sh -c 'echo $$ > {pidfile}; sleep 30' & wait", timeout=0.5)
    assert res.timed_out and res.exit_status is None
    pid = int(pidfile.read_text())
    await asyncio.sleep(0.1)
    assert gone(pid)


async def test_cancel_stops_the_command(tmp_path) -> None:
    pidfile = tmp_path / "pid"
    task = asyncio.create_task(LocalTransport().run(HOST, f"echo $$ > {pidfile}; exec sleep 30", timeout=60))
    for _ in range(50):
        if pidfile.exists() and pidfile.read_text().strip():
            break
        await asyncio.sleep(0.05)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    pid = int(pidfile.read_text())
    await asyncio.sleep(0.1)
    assert gone(pid)


async def test_output_is_bounded_and_excess_counted() -> None:
    res = await LocalTransport().run(HOST, "head -c 300000 /dev/zero | tr '\\0' x", timeout=10, max_output=1000)
    assert len(res.stdout) == 1000
    assert res.truncated_bytes == 299000


async def test_invalid_utf8_is_replaced_not_fatal() -> None:
    res = await LocalTransport().run(HOST, "printf 'ok \\377\\376 end'", timeout=5)
    assert res.stdout.startswith("ok ") and res.stdout.endswith(" end") and "\ufffd" in res.stdout
