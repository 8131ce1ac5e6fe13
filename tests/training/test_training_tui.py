"""Whole training sessions through the app with Pilot: hints, a held conclusion, the debrief."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Markdown, Static

from runbook.journal import read_journal
from runbook.playbook import load_playbook
from runbook.training.session import pick_scenario, reference_for, scenario_config
from runbook.tui.training import DiagnosisScreen, HintScreen, TrainingApp, TrainingMainScreen
from runbook.tui.training_debrief import DebriefScreen

from .conftest import settle, wait_for

SIZE = (120, 40)


def make_app(name: str, tmp_path: Path) -> TrainingApp:
    scenario = pick_scenario(name)
    reference = reference_for(scenario, load_playbook(str(scenario.header["playbook"])))
    cfg = scenario_config(scenario, str(tmp_path / "j.jsonl"))
    return TrainingApp(cfg, reference, export_dir=tmp_path, report_path=tmp_path / "training.md")


async def walk_to_diagnosis(pilot, app: TrainingApp, limit: int = 20) -> None:
    for _ in range(limit):
        if isinstance(app.screen, DiagnosisScreen):
            return
        await pilot.press("r")
        await settle(pilot, app)
    raise AssertionError(f"no diagnosis asked after {limit} steps (at {app.session.current})")


async def test_right_diagnosis_with_a_hint_then_debrief(tmp_path: Path) -> None:
    app = make_app("firewall", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TrainingMainScreen)
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, HintScreen)
        assert "Why this step" in str(app.screen.query_one("#hint-text", Static).render())
        await pilot.press("enter")
        await pilot.pause()
        await walk_to_diagnosis(pilot, app)
        # the tree concluded, but nothing shows it: no conclusion, no conclusion node entered
        assert app.session.status == "diagnose"
        assert app.session.conclusion is None and app.session.current == "firewall"
        assert "DIAGNOSE" in str(app.main.status_line())
        assert "network-blocked" not in str(app.main.status_line())
        # the incident report stays closed until the diagnosis
        await pilot.press("escape")
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, TrainingMainScreen)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DiagnosisScreen)
        await pilot.press("6")  # network-blocked is the 6th cause
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DebriefScreen))
        debrief = app.screen
        assert debrief.score.correct and debrief.score.total == 97  # 100 - one level-1 hint
        md = debrief.query_one("#debrief-md", Markdown)
        assert "Right cause" in md.source and "97 / 100" in md.source
        table = debrief.rows
        assert [r.node for r in table if r.expert][-1] == "cause-network-blocked"
        assert all(r.trainee for r in table if r.expert and r.node != "cause-network-blocked")
        assert app.session.conclusion["cause"] == "network-blocked"
        report = (tmp_path / "training.md").read_text()
        assert "Training report" in report and "97 / 100" in report
        await pilot.press("q")
        await pilot.pause()
    kinds = [e["type"] for e in read_journal(tmp_path / "j.jsonl")]
    assert kinds.count("hint") == 1 and kinds.count("diagnosis") == 1
    assert kinds.index("diagnosis") < kinds.index("conclusion") < kinds.index("session-end")
    assert app.return_code == 0


async def test_wrong_early_diagnosis_shows_missed_evidence(tmp_path: Path) -> None:
    app = make_app("backend-down", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")  # symptom
        await settle(pilot, app)
        assert app.session.current == "backend-health"
        await pilot.press("s")  # skip the backend check: its evidence is never seen
        await settle(pilot, app)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DiagnosisScreen)
        await pilot.press("3")  # gateway-misconfigured
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DebriefScreen))
        s = app.screen.score
        assert not s.correct and s.diagnosis == "gateway-misconfigured"
        assert s.missed and {f["node"] for f in s.missed} == {"backend-health"}
        md = app.screen.query_one("#debrief-md", Markdown).source
        assert "Wrong cause" in md and "Evidence you missed" in md
        assert s.missed[0]["title"] in md
        row = next(r for r in app.screen.rows if r.node == "backend-health")
        assert row.skipped and row.missed
        # no conclusion was reached: the session ends unconcluded-by-the-tree
        assert app.session.conclusion is None
    report = (tmp_path / "training.md").read_text()
    assert "Wrong cause" in report and "backend-health" in report


async def test_escape_keeps_investigating(tmp_path: Path) -> None:
    app = make_app("backend-down", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await walk_to_diagnosis(pilot, app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, TrainingMainScreen) and app.session.status == "diagnose"
        await pilot.press("s")  # skip is refused while the conclusion is held
        await pilot.pause()
        assert app.session.status == "diagnose"
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("1")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DebriefScreen))
        assert app.screen.score.correct and app.session.conclusion["node"] == "cause-backend-down"
