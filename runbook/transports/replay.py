"""Serve recorded command results, keyed by host and command, for what runs a command
outside a step (following a log in the demo). Steps themselves are replayed by
`runbook.checks.replay.ReplaySteps`."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from runbook.inventory import Host
from runbook.transports.base import (
    DEFAULT_MAX_OUTPUT,
    CommandResult,
    ErrorKind,
    OutputCallback,
    Transport,
    TransportError,
)


def _result(event: dict[str, Any]) -> CommandResult:
    return CommandResult(
        exit_status=event.get("exit_status"),
        stdout=event.get("stdout", ""),
        stderr=event.get("stderr", ""),
        duration_s=float(event.get("duration_s") or 0.0),
        timed_out=bool(event.get("timed_out")),
        truncated_bytes=int(event.get("truncated_bytes") or 0),
        data=dict(event.get("data") or {}),
    )


class Recordings:
    """Recorded step results by key; each key serves its recordings in order, then repeats
    the last one (shared by the replayed steps and this transport)."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self._served: dict[tuple[str, str], int] = defaultdict(int)

    def add(self, key: tuple[str, str], event: dict[str, Any]) -> None:
        self._records[key].append(event)

    def next(self, key: tuple[str, str]) -> dict[str, Any] | None:
        records = self._records.get(key)
        if not records:
            return None
        index = min(self._served[key], len(records) - 1)
        self._served[key] += 1
        return records[index]


class ReplayTransport(Transport):
    """Each (host, command) serves its recordings in order, then repeats the last one."""

    name = "replay"

    def __init__(self, events: list[dict[str, Any]], *, speed: float = 0.0):
        #: 0 serves instantly; 1.0 replays at the recorded pace (the demo feels live)
        self.speed = speed
        self._records = Recordings()
        for event in events:
            if event.get("type") == "step-result":
                self._records.add((event["host"], event["command"]), event)
                # a recorded sudo-wrapped command also answers its plain form
                plain = event.get("plain_command")
                if plain and plain != event["command"]:
                    self._records.add((event["host"], plain), event)

    def connection_state(self, host: Host) -> str:
        return "replayed"

    async def _pace(self, result: CommandResult) -> None:
        if self.speed:
            await asyncio.sleep(min(result.duration_s * self.speed, 5.0))

    def _recorded(self, host: Host, command: str) -> CommandResult | None:
        event = self._records.next((host.name, command))
        if event is None:
            return None
        if event.get("error"):
            err = event["error"]
            raise TransportError(
                ErrorKind(err["kind"]) if err["kind"] in ErrorKind._value2member_map_ else ErrorKind.OTHER,
                err["message"],
            )
        return _result(event)

    async def run(
        self,
        host: Host,
        command: str,
        *,
        timeout: float,
        on_output: OutputCallback | None = None,
        max_output: int = DEFAULT_MAX_OUTPUT,
        stdin: str | None = None,
    ) -> CommandResult:
        result = self._recorded(host, command)
        if result is None:
            raise TransportError(
                ErrorKind.NOT_RECORDED, f"the scenario has no recording of this command on {host.name}: {command}"
            )
        await self._pace(result)
        if on_output and result.stdout:
            on_output("stdout", result.stdout)
        if on_output and result.stderr:
            on_output("stderr", result.stderr)
        return result
