"""The app's main states, reproducibly: shared by the screenshot script and the snapshot tests
(test code: it patches the clock with unittest.mock, so it lives under tests/).

Each state is an app on a fixture (a replayed lab scenario, or the local test playbook) and a
few key presses. `frozen()` pins the clock and the session id so screens compare byte for byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from runbook.tui.app import RunbookApp
from runbook.wiring import RunConfig

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "tui" / "fixtures"
LAB = FIXTURES / "lab-502.jsonl"
#: the real playbook; its hash when the lab scenario and the snapshots were recorded is in
#: fixtures/502-bad-gateway.sha256 (tests/tui/test_snapshots.py says when they need re-recording)
LAB_PLAYBOOK = ROOT / "playbooks" / "502-bad-gateway.yaml"
LAB_PLAYBOOK_HASH = FIXTURES / "502-bad-gateway.sha256"
LOCAL = FIXTURES / "local.yaml"
LOCAL_INVENTORY = FIXTURES / "local-inventory.yaml"
LOCAL_REPLAY = FIXTURES / "local-replay.jsonl"
INCIDENT = {"title": "Checkout API answers 502", "severity": "SEV2", "responder": "oncall", "ticket": "INC-4242"}

Driver = Callable[[Any], Awaitable[None]]


@contextlib.contextmanager
def frozen(ts: str = "2026-11-22T03:04:05.000Z") -> Iterator[None]:
    """A fixed clock and session id, so journals, reports and screens repeat exactly."""
    with (
        mock.patch("runbook.journal.utcnow", lambda: ts),
        mock.patch("runbook.checks.runner.utcnow", lambda: ts),
        mock.patch("runbook.session.uuid.uuid4", lambda: uuid.UUID(int=0x5EED)),
    ):
        yield


def journal_path(name: str) -> Path:
    directory = Path(tempfile.gettempdir()) / "runbook-tui-states"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.jsonl"
    path.unlink(missing_ok=True)
    return path


def lab_app(name: str, *, ask: bool = False) -> RunbookApp:
    cfg = RunConfig(playbook=str(LAB_PLAYBOOK), scenario=str(LAB), journal=str(journal_path(name)), incident=INCIDENT)
    return RunbookApp(cfg, export_dir=journal_path(name).parent, ask_incident=ask)


def local_app(name: str, *, replay: bool = False) -> RunbookApp:
    journal = str(journal_path(name))
    if replay:
        cfg = RunConfig(playbook=str(LOCAL), scenario=str(LOCAL_REPLAY), journal=journal, incident=INCIDENT)
    else:
        cfg = RunConfig(
            playbook=str(LOCAL), inventory=str(LOCAL_INVENTORY), transport="local", journal=journal, incident=INCIDENT
        )
    return RunbookApp(cfg, export_dir=journal_path(name).parent, ask_incident=False)


async def settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def until(pilot: Any, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise TimeoutError("the app did not reach the expected state")
        await pilot.pause(0.05)


async def steps(pilot: Any, count: int) -> None:
    """Run `count` steps, going on from each one's result (Enter) as the engineer would."""
    for _ in range(count):
        await go_on(pilot)
        if pilot.app.session.finished:
            return
        await pilot.press("r")
        await settle(pilot)
        await until(pilot, lambda: pilot.app.session.status != "running")
        await settle(pilot)
    await go_on(pilot)


async def go_on(pilot: Any) -> None:
    main = pilot.app.main
    if main is not None and main.result_for is not None:
        await pilot.press("enter")
        await settle(pilot)


async def drive_start(pilot: Any) -> None:
    await pilot.pause()


async def drive_running(pilot: Any) -> None:
    await pilot.pause()
    await pilot.press("s")  # look -> slow, the default branch
    await settle(pilot)
    await pilot.press("r")
    app = pilot.app
    await until(pilot, lambda: "waiting" in app.main.query_one("#output").plain())
    await pilot.pause(0.2)


async def drive_finding(pilot: Any) -> None:
    await pilot.pause()
    await steps(pilot, 2)
    await pilot.pause(0.2)


async def drive_question(pilot: Any) -> None:
    from runbook.tui.screens.modals import QuestionScreen

    await pilot.pause()
    await steps(pilot, 1)
    await until(pilot, lambda: isinstance(pilot.app.screen, QuestionScreen))
    # the findings table behind the dialog lays its columns out after its rows land: let it
    await settle(pilot)
    await pilot.pause(0.4)


async def drive_conclusion(pilot: Any) -> None:
    await pilot.pause()
    await steps(pilot, 20)
    await pilot.pause(0.3)


class NginxOffPath:
    """The recorded steps, except that `nginx` is not on the gateway's PATH: a gap."""

    def __init__(self, inner: Any):
        self.inner = inner

    async def run_step(self, step: Any, step_id: str, on_output: Any = None) -> Any:
        obs = await self.inner.run_step(step, step_id, on_output)
        if step.check.id == "nginx_config":
            obs.exit_status, obs.stdout, obs.stderr, obs.data = 127, "sh: 1: nginx: not found\n", "", {}
        return obs


async def drive_inconclusive(pilot: Any) -> None:
    await pilot.pause()
    pilot.app.session.io = NginxOffPath(pilot.app.session.io)
    await steps(pilot, 20)
    await pilot.pause(0.3)


async def drive_report(pilot: Any) -> None:
    from runbook.tui.screens.report import ReportScreen

    await drive_conclusion(pilot)
    await pilot.press("p")
    await until(pilot, lambda: isinstance(pilot.app.screen, ReportScreen) and pilot.app.screen.complete)
    await pilot.pause(0.3)


async def drive_result(pilot: Any) -> None:
    """The result of the gateway's error log, kept on screen: findings and why the next branch."""
    await pilot.pause()
    await steps(pilot, 2)
    await pilot.press("r")
    await settle(pilot)
    await until(pilot, lambda: pilot.app.main.result_for == "gateway-log")
    await pilot.pause(0.3)


async def drive_finding_detail(pilot: Any) -> None:
    await drive_result(pilot)
    table = pilot.app.main.query_one("#findings")
    table.focus()
    row = next(i for i, f in enumerate(table.rows_shown) if f.id == "log_refused")
    table.move_cursor(row=row)
    await pilot.press("enter")
    await pilot.pause(0.3)


async def drive_back_dialog(pilot: Any) -> None:
    """A dialog open over the main screen (b: go back): its footer shows its own keys."""
    from runbook.tui.screens.modals import ChooseScreen

    await drive_finding(pilot)
    await pilot.press("b")
    await until(pilot, lambda: isinstance(pilot.app.screen, ChooseScreen))
    await pilot.pause(0.2)


async def drive_help(pilot: Any) -> None:
    await drive_finding(pilot)
    await pilot.press("question_mark")
    await pilot.pause(0.2)


#: name -> (make the app, drive it there)
STATES: dict[str, tuple[Callable[[], RunbookApp], Driver]] = {
    "start": (lambda: lab_app("start", ask=True), drive_start),
    "running": (lambda: local_app("running"), drive_running),
    "finding": (lambda: lab_app("finding"), drive_finding),
    "question": (lambda: local_app("question", replay=True), drive_question),
    "conclusion": (lambda: lab_app("conclusion"), drive_conclusion),
    "inconclusive": (lambda: lab_app("inconclusive"), drive_inconclusive),
    "report": (lambda: lab_app("report"), drive_report),
    "help": (lambda: lab_app("help"), drive_help),
    "back-dialog": (lambda: lab_app("back-dialog"), drive_back_dialog),
    "result": (lambda: lab_app("result"), drive_result),
    "finding-detail": (lambda: lab_app("finding-detail"), drive_finding_detail),
}
