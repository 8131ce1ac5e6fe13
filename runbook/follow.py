"""Follow a log (tail -f) through the session's transport while probing the gateway.

A plain module (no textual): the screen gives callbacks and a stop event. The follow command
runs until stopped or `max_s` passes; meanwhile a bounded number of test requests go through
the gateway, so an error shows up in the log as it happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runbook.checks.runner import wrap_sudo
from runbook.safety import sanitize
from runbook.transports.base import TransportError

if TYPE_CHECKING:
    from runbook.engine import PlannedStep
    from runbook.transports.base import Transport

#: (stream, text) of the followed command
OnOutput = Callable[[str, str], None]
#: one line describing a probe's result
OnProbe = Callable[[str], None]


@dataclass
class FollowResult:
    host: str
    command: str
    duration_s: float = 0.0
    lines: int = 0
    tail: list[str] = field(default_factory=list)
    probes: list[str] = field(default_factory=list)
    error: str | None = None

    def summary(self) -> str:
        text = f"Followed `{self.command}` on {self.host} for {self.duration_s:.0f}s: {self.lines} new log lines"
        if self.probes:
            text += f"; {len(self.probes)} test requests: " + ", ".join(self.probes[-10:])
        if self.error:
            text += f"; stopped: {self.error}"
        if self.tail:
            text += "\nLast lines:\n" + "\n".join(self.tail[-5:])
        return text


def follow_command(step: PlannedStep, transport: Transport) -> str:
    assert step.follow
    return wrap_sudo(step.follow) if step.check.sudo and transport.needs_sudo(step.host) else step.follow


async def probe(url: str, timeout: float = 5.0) -> str:
    """One GET through the gateway; a short description of what came back."""
    import httpx  # here, not at the top: importing httpx loads rich (its CLI), slow and TUI-only

    t0 = time.monotonic()
    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
            resp = await client.get(url)
        return f"{resp.status_code} in {time.monotonic() - t0:.2f}s"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__} after {time.monotonic() - t0:.2f}s"


async def follow(
    step: PlannedStep,
    transport: Transport,
    stop: asyncio.Event,
    on_output: OnOutput,
    on_probe: OnProbe | None = None,
    *,
    probe_url: str | None = None,
    probe_every_s: float = 2.0,
    max_probes: int = 30,
    max_s: float = 600.0,
) -> FollowResult:
    command = follow_command(step, transport)
    result = FollowResult(host=step.host.name, command=step.follow or command)
    t0 = time.monotonic()
    partial = ""

    def output(stream: str, text: str) -> None:
        nonlocal partial
        text = sanitize(text)
        lines = (partial + text).split("\n")
        partial = lines.pop()
        result.lines += len(lines)
        result.tail = (result.tail + lines)[-20:]
        on_output(stream, text)

    async def probes() -> None:
        if not probe_url:
            return
        for _ in range(max_probes):
            outcome = await probe(probe_url)
            result.probes.append(outcome)
            if on_probe:
                on_probe(f"GET {probe_url} → {outcome}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), probe_every_s)
            if stop.is_set():
                return

    run = asyncio.ensure_future(transport.run(step.host, command, timeout=max_s, on_output=output))
    prober = asyncio.ensure_future(probes())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({run, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if run.done() and not run.cancelled():
            exc = run.exception()
            if isinstance(exc, TransportError):
                result.error = f"{exc.kind}: {exc.message}"
            elif exc is not None:
                result.error = f"{type(exc).__name__}: {exc}"
            else:
                result.error = "the follow command ended"
    finally:
        for task in (run, prober, stopper):
            task.cancel()
        await asyncio.gather(run, prober, stopper, return_exceptions=True)
        result.duration_s = time.monotonic() - t0
    return result
