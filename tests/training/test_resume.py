"""`runbook resume` on a training journal (issue 24 item 5): the gate holds, the trainee still
chooses, nothing on the resumed screens gives the answer away, and the score counts the
whole session, before and after the break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from runbook.journal import read_journal
from runbook.training.scoring import reference_of, score
from runbook.training.session import DECIDE, pick_scenario
from runbook.tui.training import ChooseNodeScreen, HintScreen, NameScreen, TrainingApp, TrainingMainScreen
from runbook.tui.training_debrief import DebriefScreen
from runbook.wiring import config_from_journal

from .conftest import settle, wait_for
from .leaks import leaks_of
from .test_no_leaks import screen_text
from .test_training_tui import SIZE, diagnose, go_to, make_app, run_here, sign_in


async def test_resumed_training_keeps_the_gate_leaks_nothing_and_scores_the_whole_session(tmp_path: Path) -> None:
    name = "granite-owl"
    secrets = leaks_of(pick_scenario(name))
    cut = tmp_path / "interrupted.jsonl"
    first = make_app(name, tmp_path)
    async with first.run_test(size=SIZE) as pilot:
        await sign_in(pilot, first, "Ann")
        await run_here(pilot, first)  # symptom ran; the trainee is asked where to look next
        await pilot.press("escape")
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(first.screen, HintScreen))
        await pilot.press("enter")
        await settle(pilot, first)
        assert first.session.status == DECIDE and len(first.training.hints_given()) == 1
        # the process dies here: what it leaves is this prefix of its journal
        shutil.copy(first.session.journal.path, cut)

    events = read_journal(cut)
    before = len(events)
    assert not any(e["type"] in ("session-end", "branch", "diagnosis") for e in events)
    app = TrainingApp(
        config_from_journal(events, str(cut)),
        reference_of(events),
        export_dir=tmp_path,
        report_path=tmp_path / "resumed.md",
        resume_events=events,
    )
    shown: list[tuple[str, str]] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not isinstance(app.screen, NameScreen)  # the trainee is known from the journal
        assert app.training.trainee == "Ann"
        # the gate holds: the resumed walk waits at symptom for the trainee's choice
        await wait_for(pilot, lambda: isinstance(app.screen, ChooseNodeScreen))
        shown.append(("resumed, choosing", screen_text(app)))
        assert app.session.gate is app.training.gate and not app.training.gate.open
        assert app.session.current == "symptom" and app.session.status == DECIDE
        assert app.session.conclusion is None and not app.training.committed
        choices = {c.node: c for c in app.training.choices()}
        assert choices["symptom"].runs == 1  # the run before the break still counts
        await pilot.press("escape")
        await settle(pilot, app)
        assert isinstance(app.screen, TrainingMainScreen)
        shown.append(("resumed, main", screen_text(app)))
        await pilot.press("r")  # this step was run: r does not walk on for the trainee
        await settle(pilot, app)
        assert app.session.current == "symptom"
        after = read_journal(cut)[before:]
        assert not any(e["type"] in ("branch", "conclusion", "session-end") for e in after), after
        await pilot.press("h")  # the next hint, not the first one again
        await wait_for(pilot, lambda: isinstance(app.screen, HintScreen))
        hint = screen_text(app)
        shown.append(("hint after resume", hint))
        assert "Hint 2 of 3" in hint
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, ChooseNodeScreen))
        await go_to(pilot, app, "backend-health", "is anything down?")
        shown.append(("at backend-health", screen_text(app)))
        await run_here(pilot, app)
        shown.append(("ran backend-health", screen_text(app)))
        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.pause()
        shown.append(("help", screen_text(app)))
        await pilot.press("escape")
        await pilot.pause()
        assert not app.training.committed
        for where, text in shown:
            assert text.strip(), where
            for secret in secrets:
                assert secret not in text, f"{where} shows {secret!r}"
        await diagnose(pilot, app, 1, ["app2"], ["backend_not_running"], "app2 runs no app process")
        assert isinstance(app.screen, DebriefScreen)
        shown_total = app.screen.score.total

    s = score(read_journal(cut))
    assert s.scored and s.correct and s.hosts_right
    assert s.runs == ["symptom", "backend-health"] and s.steps == 2  # both sides of the break
    assert [h["level"] for h in s.hints] == [1, 2]
    assert s.hint_cost == sum(int(h["cost"]) for h in s.hints) > 0
    assert s.total == shown_total  # the debrief scored the whole journal too


async def test_runbook_resume_sends_a_training_journal_to_the_training_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not the incident TUI (no gate: it would walk on and show the conclusion), and never headless."""
    import runbook.tui.training as training_tui
    from runbook.cli import main

    first = make_app("granite-owl", tmp_path)
    cut = tmp_path / "interrupted.jsonl"
    async with first.run_test(size=SIZE) as pilot:
        await sign_in(pilot, first, "Ann")
        await run_here(pilot, first)
        shutil.copy(first.session.journal.path, cut)
    assert main(["resume", str(cut), "--headless"]) == 2
    assert "training session resumes in the TUI only" in capsys.readouterr().err
    seen: dict[str, object] = {}

    def fake_run_training(cfg, reference, trainee=None, resume_events=None) -> int:  # type: ignore[no-untyped-def]
        seen.update(codename=reference.codename, resumed=len(resume_events or []))
        return 0

    monkeypatch.setattr(training_tui, "run_training", fake_run_training)
    assert main(["resume", str(cut)]) == 0
    assert seen == {"codename": first.training.reference.codename, "resumed": len(read_journal(cut))}
