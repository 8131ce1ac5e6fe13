"""The command that ran is the command reported: sudo wrapping and fallbacks, live and replayed
(LiveSteps and ReplaySteps are siblings behind one StepIO interface)."""

from __future__ import annotations

from pathlib import Path

from runbook.checks.replay import ReplaySteps
from runbook.checks.runner import LiveSteps
from runbook.engine import PlannedStep
from runbook.events import SessionStarted, StepFinished, StepStarted
from runbook.inventory import Host
from runbook.playbook.model import CheckSpec
from runbook.report import build_result
from runbook.transports.local import LocalTransport


class SudoLocal(LocalTransport):
    """The local shell, on a host where commands that need root go through `sudo -n`."""

    def needs_sudo(self, host: Host) -> bool:
        return True


def status_step() -> PlannedStep:
    check = CheckSpec(
        id="service_status", on="backend", shell="no-such-tool status app", fallback="echo pgrep-ran; exit 0", sudo=True
    )
    host = Host(name="local", address="localhost", roles=["local"])
    return PlannedStep(
        key="n/service_status/local",
        node="n",
        check=check,
        host=host,
        command="no-such-tool status app",
        kind="shell",
        fallback="echo pgrep-ran; exit 0",
    )


async def test_live_steps_report_the_wrapped_fallback_with_its_own_status() -> None:
    transport = SudoLocal()
    obs = await LiveSteps(transport, transport).run_step(status_step(), "s001")
    assert obs.command == "sudo -n sh -c 'echo pgrep-ran; exit 0'"
    assert obs.plain_command == "no-such-tool status app"
    assert obs.exit_status == 0 and obs.stdout.strip() == "pgrep-ran"
    first = obs.data["fallback_from"]
    assert first["command"] == "sudo -n sh -c 'no-such-tool status app'" and first["exit_status"] == 127


async def test_replayed_steps_report_what_ran_when_recorded(tmp_path: Path) -> None:
    transport = SudoLocal()
    step = status_step()
    recorded = await LiveSteps(transport, transport).run_step(step, "s001")
    replayed = await ReplaySteps([StepFinished(result=recorded).to_json()]).run_step(step, "s007")
    assert (replayed.command, replayed.exit_status, replayed.stdout) == (
        recorded.command,
        recorded.exit_status,
        recorded.stdout,
    )
    assert replayed.step_id == "s007" and replayed.data["fallback_from"] == recorded.data["fallback_from"]
    # and the JSON result says so: the command that ran, its status, the planned one beside it
    events = [
        SessionStarted(ts="2026-12-02T10:00:00.000Z", playbook="p").to_json(),
        StepStarted(
            ts="2026-12-02T10:00:00.100Z", step_id="s007", node="n", check="service_status", command=step.command
        ).to_json(),
        StepFinished(ts="2026-12-02T10:00:00.200Z", result=replayed).to_json(),
    ]
    [reported] = build_result(events)["steps"]
    assert reported["command"] == "sudo -n sh -c 'echo pgrep-ran; exit 0'"
    assert reported["exit_status"] == 0 and reported["planned_command"] == "no-such-tool status app"
    assert reported["fallback_from"]["exit_status"] == 127


async def test_an_unrecorded_step_is_a_gap_not_evidence() -> None:
    obs = await ReplaySteps([]).run_step(status_step(), "s001")
    assert obs.error and obs.error["kind"] == "not-recorded" and obs.exit_status is None
