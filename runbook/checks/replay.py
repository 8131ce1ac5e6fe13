"""Replay: steps served from a recorded journal, a sibling of `LiveSteps` (the demo and
training scenarios). A step gets the recorded result of the same planned command on the same
host, reported as it ran then: the command that actually ran (a fallback, a sudo wrapping),
its exit status, its output and data."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from runbook.checks.runner import StepOutput, new_observation
from runbook.engine import Observation, PlannedStep
from runbook.gaps import is_gap
from runbook.journal import utcnow
from runbook.parsers import parse
from runbook.transports.replay import Recordings


class ReplaySteps:
    """Each (host, planned command) serves its recordings in order, then repeats the last one."""

    def __init__(self, events: Iterable[Mapping[str, Any]], *, speed: float = 0.0):
        #: 0 serves instantly; 1.0 replays at the recorded pace (the demo feels live)
        self.speed = speed
        self._records = Recordings()
        for event in events:
            if event.get("type") == "step-result" and event.get("host") is not None:
                planned = event.get("plain_command") or event.get("command") or ""
                self._records.add((str(event["host"]), str(planned)), dict(event))

    async def run_step(self, step: PlannedStep, step_id: str, on_output: StepOutput | None = None) -> Observation:
        obs = new_observation(step, step_id, step.command, utcnow())
        if step.error:
            obs.error = {"kind": "template", "message": step.error}
            return obs
        event = self._records.next((step.host.name, step.command))
        if event is None:
            obs.error = {
                "kind": "not-recorded",
                "message": f"the scenario has no recording of this command on {step.host.name}: {step.command}",
            }
            return obs
        if self.speed:
            await asyncio.sleep(min(float(event.get("duration_s") or 0.0) * self.speed, 5.0))
        obs.command = str(event.get("command") or step.command)
        obs.exit_status = event.get("exit_status")
        obs.stdout = str(event.get("stdout") or "")
        obs.stderr = str(event.get("stderr") or "")
        obs.duration_s = float(event.get("duration_s") or 0.0)
        obs.timed_out = bool(event.get("timed_out"))
        obs.truncated_bytes = int(event.get("truncated_bytes") or 0)
        obs.data = dict(event.get("data") or {})
        error = event.get("error")
        obs.error = dict(error) if isinstance(error, dict) else None
        if step.kind == "shell" and step.check.parse and not obs.data and not is_gap(obs, step.check):
            obs.data = parse(step.check.parse, obs.stdout)
        if on_output and obs.stdout:
            on_output(step.key, "stdout", obs.stdout)
        if on_output and obs.stderr:
            on_output(step.key, "stderr", obs.stderr)
        return obs
