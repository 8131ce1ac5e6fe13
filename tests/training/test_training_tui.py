"""Whole training sessions through the app with Pilot: the trainee chooses every move,
commits a diagnosis (cause, hosts, evidence, why), and gets a debrief that explains."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Markdown, Static

from runbook.journal import read_journal
from runbook.playbook import load_playbook
from runbook.training.scoring import score
from runbook.training.session import pick_scenario, reference_for, scenario_config
from runbook.tui.training import (
    ChooseNodeScreen,
    DiagnosisScreen,
    HintScreen,
    NameScreen,
    TrainingApp,
    TrainingMainScreen,
)
from runbook.tui.training_debrief import DebriefScreen

from .conftest import settle, wait_for

SIZE = (120, 40)


def make_app(name: str, tmp_path: Path) -> TrainingApp:
    scenario = pick_scenario(name)
    reference = reference_for(scenario, load_playbook(str(scenario.header["playbook"])))
    cfg = scenario_config(scenario, str(tmp_path / "j.jsonl"))
    return TrainingApp(cfg, reference, export_dir=tmp_path, report_path=tmp_path / "training.md")


async def sign_in(pilot, app: TrainingApp, name: str = "Ann") -> None:
    await pilot.pause()
    assert isinstance(app.screen, NameScreen)
    await pilot.press(*name, "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TrainingMainScreen))


async def run_here(pilot, app: TrainingApp) -> None:
    """r on the main screen: the current node's checks run, then the choice opens."""
    await pilot.press("r")
    await settle(pilot, app)
    await wait_for(pilot, lambda: isinstance(app.screen, ChooseNodeScreen))


async def go_to(pilot, app: TrainingApp, node: str, why: str = "") -> None:
    """In the choice dialog: highlight `node`, Enter moves to why, type it, Enter goes."""
    screen = app.screen
    assert isinstance(screen, ChooseNodeScreen)
    nodes = screen.query_one("#nodes")
    nodes.highlighted = [c.node for c in app.training.choices()].index(node)
    await pilot.press("enter")
    assert screen.focused is screen.query_one("#why", Input)  # Enter moved on, did not commit
    assert app.session.current != node
    await pilot.press(*why, "enter")
    await wait_for(pilot, lambda: app.session.current == node and isinstance(app.screen, TrainingMainScreen))


async def diagnose(pilot, app: TrainingApp, cause_index: int, hosts: list[str], evidence: list[str], why: str):
    await pilot.press("d")
    await wait_for(pilot, lambda: isinstance(app.screen, DiagnosisScreen))
    screen = app.screen
    await pilot.press(str(cause_index))
    await pilot.press("enter")  # the cause: Enter moves on to the hosts, it does not commit
    assert isinstance(app.screen, DiagnosisScreen) and screen.focused is screen.query_one("#hosts")
    for h in hosts:
        screen.query_one("#hosts").select(h)
    await pilot.press("enter")
    assert screen.focused is screen.query_one("#evidence")
    for f in app.training.uncovered():
        if f.id in evidence:
            screen.query_one("#evidence").select(f"{f.id}@{f.host or ''}")
    await pilot.press("enter")
    assert screen.focused is screen.query_one("#why", Input)
    await pilot.press(*why)
    assert screen.query_one("#why", Input).value == why  # keys typed here stay here
    assert isinstance(app.screen, DiagnosisScreen)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, DebriefScreen))


async def test_pressing_run_again_and_again_gets_no_diagnosis_and_no_score(tmp_path: Path) -> None:
    app = make_app("granite-owl", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, app)
        await run_here(pilot, app)
        for _ in range(4):  # r in the dialog stays in the dialog
            await pilot.press("r")
            await settle(pilot, app)
        await pilot.press("escape")
        await pilot.pause()
        for _ in range(4):  # r on the main screen: this step was run, choose the next
            await pilot.press("r")
            await settle(pilot, app)
        assert app.session.current == "symptom" and app.session.status == "decide"
        assert not app.training.committed and app.session.conclusion is None
        await pilot.press("q")
        await pilot.pause()
    events = read_journal(tmp_path / "j.jsonl")
    kinds = [e["type"] for e in events]
    assert "diagnosis" not in kinds and "conclusion" not in kinds and "branch" not in kinds
    assert kinds.count("node-enter") == 1  # the engine never moved on by itself
    s = score(events)
    assert not s.scored and s.total == 0 and s.points == {}
    assert not (tmp_path / "training.md").exists()


async def test_right_cause_right_hosts_with_supporting_evidence(tmp_path: Path) -> None:
    app = make_app("granite-owl", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, app, "Ann")
        await run_here(pilot, app)
        await go_to(pilot, app, "backend-health", "is anything down?")
        await run_here(pilot, app)
        await pilot.press("escape")
        await diagnose(pilot, app, 1, ["app2"], ["backend_not_running"], "app2 runs no app process")
        s = app.screen.score
        assert s.correct and s.hosts_right and not s.unsupported
        assert s.points["cause"] == 40 and s.points["hosts"] == 15 and s.points["evidence"] == 15
        assert s.steps == 2 and s.dead_ends == [] and s.pointless == []
        md = app.screen.query_one("#debrief-md", Markdown).source
        assert "app2 runs no app process" in md  # the trainee's own why
        assert app.session.conclusion["cause"] == "backend-down"
        await pilot.press("q")
        await pilot.pause()
    report = (tmp_path / "training.md").read_text()
    assert "| Trainee | Ann |" in report and "app2 runs no app process" in report
    assert "to `backend-health`: is anything down?" in report  # the why of each move
    assert (tmp_path / "training.json").is_file()


async def test_wrong_cause_debrief_quotes_the_contradicting_output(tmp_path: Path) -> None:
    app = make_app("granite-owl", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, app)
        await run_here(pilot, app)
        await go_to(pilot, app, "backend-health")
        await run_here(pilot, app)
        await pilot.press("escape")
        # network-blocked (6th), on the right host, citing a finding that shows a stopped service
        await diagnose(pilot, app, 6, ["app2"], ["backend_not_running"], "the network changed")
        s = app.screen.score
        assert not s.correct and s.points["cause"] == 0
        assert [c["id"] for c in s.unsupported] == ["backend_not_running"]
        md = app.screen.query_one("#debrief-md", Markdown).source
        assert "Why `network-blocked` is not it" in md
        assert "no process matches the service name" in md  # the output line itself, quoted
        assert "What points at `backend-down`" in md
        assert "A faster path" in md and "the network changed" in md


async def test_wrong_hosts_and_a_hint_that_costs(tmp_path: Path) -> None:
    app = make_app("granite-owl", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, app)
        await run_here(pilot, app)
        await pilot.press("escape")
        screen_text = screen_words(app)
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HintScreen))
        hint = str(app.screen.query_one("#hint-text", Static).render())
        assert "backend-health" in hint and hint not in screen_text  # something the screen did not show
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TrainingMainScreen)
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, ChooseNodeScreen))
        await go_to(pilot, app, "backend-health")
        await run_here(pilot, app)
        await pilot.press("escape")
        await diagnose(pilot, app, 1, ["app1"], ["backend_not_running"], "")
        s = app.screen.score
        assert s.correct and not s.hosts_right and s.points["hosts"] == 0
        assert s.points["hints"] == -4 and s.hints[0]["level"] == 1


def screen_words(app: TrainingApp) -> str:
    return "\n".join(str(w.render()) for w in app.screen.query("*") if hasattr(w, "render"))
