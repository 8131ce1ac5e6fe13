"""Run one planned step: shell through a transport, http (httpx or curl on the host), dns
(dnspython or the host's resolver), tcp (connect with a timeout). Returns an Observation;
every failure is recorded in it, never raised.

All step I/O goes through a `StepIO`: `LiveSteps` here runs steps on the hosts (and the
local probes on this machine); `runbook.checks.replay.ReplaySteps` serves them from a
recording. The session does not know which one it has."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any, Protocol

from runbook.engine import Observation, PlannedStep
from runbook.gaps import is_gap
from runbook.journal import utcnow
from runbook.parsers import parse
from runbook.safety import sanitize, shell_quote
from runbook.transports.base import CommandResult, ErrorKind, Transport, TransportError

#: Called with (step key, stream, text) as output arrives.
StepOutput = Callable[[str, str, str], None]

#: stderr that means "the tool is not here", so the fallback command should run instead
MISSING_TOOL = re.compile(
    r"command not found|not found$|No such file or directory|System has not been booted with systemd"
    r"|Failed to connect to bus|Running in chroot|systemd is not running|can't open|No such command",
    re.MULTILINE,
)
NEEDS_PASSWORD = re.compile(r"sudo: (a password is required|a terminal is required|no tty present)")


class StepIO(Protocol):
    """How a session's steps are carried out."""

    async def run_step(self, step: PlannedStep, step_id: str, on_output: StepOutput | None = None) -> Observation:
        """The step's result; a cancel propagates as CancelledError."""
        ...


class LiveSteps:
    """Steps on real hosts: through the remote transport, or the local one for local hosts."""

    def __init__(self, remote: Transport, local: Transport):
        self.remote = remote
        self.local = local

    async def run_step(self, step: PlannedStep, step_id: str, on_output: StepOutput | None = None) -> Observation:
        transport = self.local if step.host.is_local else self.remote
        return await execute(step, step_id, transport, on_output)


def new_observation(step: PlannedStep, step_id: str, command: str, started: str) -> Observation:
    return Observation(
        step_id=step_id,
        node=step.node,
        check=step.check.id,
        host=step.host.name,
        command=command,
        plain_command=step.command,
        key=step.key,
        kind=step.kind,
        item=step.item,
        started_at=started,
    )


#: Past this many characters text work (sanitising, parsing) runs in a worker thread, so a host
#: printing a hostile megabyte cannot block the event loop (and with it every step's timeout).
OFF_LOOP_CHARS = 64_000


async def off_loop(func: Callable[[str], Any], text: str) -> Any:
    if len(text) <= OFF_LOOP_CHARS:
        return func(text)
    return await asyncio.to_thread(func, text)


async def _fill(obs: Observation, res: CommandResult) -> Observation:
    obs.exit_status = res.exit_status
    obs.stdout = await off_loop(sanitize, res.stdout)
    obs.stderr = await off_loop(sanitize, res.stderr)
    obs.duration_s = round(res.duration_s, 4)
    obs.timed_out = res.timed_out
    obs.truncated_bytes = res.truncated_bytes
    if res.data:
        obs.data = dict(res.data)
    return obs


def wrap_sudo(command: str) -> str:
    return f"sudo -n sh -c {shell_quote(command)}"


async def execute(
    step: PlannedStep, step_id: str, transport: Transport, on_output: StepOutput | None = None
) -> Observation:
    started = utcnow()
    t0 = time.monotonic()
    obs = new_observation(step, step_id, step.command, started)
    if step.error:
        obs.error = {"kind": "template", "message": step.error}
        return obs

    def stream(name: str, text: str) -> None:
        if on_output:
            on_output(step.key, name, sanitize(text))

    try:
        if step.kind == "shell":
            await _shell(step, obs, transport, stream)
        elif step.kind == "http":
            await _http(step, obs, transport, stream)
        elif step.kind == "dns":
            await _dns(step, obs, transport, stream)
        elif step.kind == "tcp":
            await _tcp(step, obs, transport, stream)
    except TransportError as exc:
        obs.error = {"kind": str(exc.kind), "message": sanitize(exc.message)}
        if exc.fingerprint:
            obs.data["fingerprint"] = exc.fingerprint
    except asyncio.CancelledError:
        obs.error = {"kind": str(ErrorKind.CANCELLED), "message": "cancelled by the engineer"}
        obs.duration_s = round(time.monotonic() - t0, 4)
        raise
    except Exception as exc:
        obs.error = {"kind": "error", "message": f"{type(exc).__name__}: {exc}"}
    if not obs.duration_s:
        obs.duration_s = round(time.monotonic() - t0, 4)
    return obs


async def _parse(parser: str, text: str) -> dict[str, Any]:
    return await off_loop(lambda t: parse(parser, t), text)


async def _run(step: PlannedStep, transport: Transport, command: str, stream: Any) -> CommandResult:
    return await transport.run(step.host, command, timeout=step.timeout, on_output=stream)


async def _shell(step: PlannedStep, obs: Observation, transport: Transport, stream: Any) -> None:
    sudo = step.check.sudo and transport.needs_sudo(step.host)
    command = wrap_sudo(step.command) if sudo else step.command
    obs.command = command
    res = await _run(step, transport, command, stream)
    if (
        step.fallback
        and not res.timed_out
        and res.exit_status != 0
        and (res.exit_status == 127 or MISSING_TOOL.search(res.stderr))
    ):
        first = {"command": command, "exit_status": res.exit_status, "stderr": sanitize(res.stderr)[-500:]}
        command = wrap_sudo(step.fallback) if sudo else step.fallback
        obs.command = command
        res = await _run(step, transport, command, stream)
        res.data = {**res.data, "fallback_from": first}
    await _fill(obs, res)
    if sudo and res.exit_status not in (0, None) and NEEDS_PASSWORD.search(res.stderr):
        obs.error = {
            "kind": "needs-root",
            "message": f"needs root: {step.command} (no passwordless sudo for "
            f"{step.host.user or 'this user'} on {step.host.name})",
        }
    if step.check.parse and not is_gap(obs, step.check):  # a gap's output is never read
        obs.data = {**obs.data, **(await _parse(step.check.parse, obs.stdout))}


async def _http(step: PlannedStep, obs: Observation, transport: Transport, stream: Any) -> None:
    req = step.request
    if req["via"] == "host":
        res = await _run(step, transport, step.command, stream)
        await _fill(obs, res)
        if is_gap(obs, step.check):
            return
        obs.data = {**obs.data, **(await _parse("curl", obs.stdout))}
        if res.exit_status not in (0, None):
            obs.data.setdefault("curl_exit", res.exit_status)
        return
    from runbook.checks.http import probe

    data, text = await probe(req, step.timeout)
    obs.data = data
    obs.stdout = await off_loop(sanitize, text)
    obs.exit_status = 0 if data.get("http_code") else 1
    stream("stdout", obs.stdout)


async def _dns(step: PlannedStep, obs: Observation, transport: Transport, stream: Any) -> None:
    req = step.request
    if req["via"] == "host":
        res = await _run(step, transport, step.command, stream)
        await _fill(obs, res)
        parsed = parse("getent", obs.stdout)
        # getent: 0 found, 2 not found; anything else is a resolver failure
        status = {0: "NOERROR", 2: "NXDOMAIN"}.get(res.exit_status or 0, "SERVFAIL")
        obs.data = {**obs.data, "answers": parsed.get("addresses", []), "rcode": status, "name": req["name"]}
        return
    from runbook.checks.dns import resolve

    data, text = await resolve(req, step.timeout)
    obs.data = data
    obs.stdout = sanitize(text)
    obs.exit_status = 0 if data.get("rcode") == "NOERROR" else 1
    stream("stdout", obs.stdout)


async def _tcp(step: PlannedStep, obs: Observation, transport: Transport, stream: Any) -> None:
    req = step.request
    if req["via"] == "host":
        res = await _run(step, transport, step.command, stream)
        await _fill(obs, res)
        err = obs.stderr.lower()
        state = (
            "open"
            if res.exit_status == 0
            else (
                "refused"
                if "refused" in err
                else "no-route"
                if ("no route" in err or "unreachable" in err)
                else "timeout"
                if res.exit_status == 124 or res.timed_out
                else "error"
            )
        )
        obs.data = {**obs.data, "state": state, "host": req["host"], "port": req["port"]}
        return
    from runbook.checks.tcp import connect

    data, text = await connect(req, step.timeout)
    obs.data = data
    obs.stdout = text
    obs.exit_status = 0 if data["state"] == "open" else 1
    stream("stdout", text)
