"""Whole flows through the app with Pilot, on replayed and local fixtures."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Input

from runbook.inventory import Host
from runbook.tui.app import RunbookApp
from runbook.tui.screens.conclusion import ConclusionScreen
from runbook.tui.screens.main import MainScreen
from runbook.tui.screens.modals import (
    ChooseScreen,
    ConfirmScreen,
    HelpScreen,
    HostKeyScreen,
    MutatingScreen,
    QuestionScreen,
)
from runbook.tui.screens.report import ReportScreen
from runbook.tui.screens.start import StartScreen
from runbook.tui.widgets.output import OutputView

from .conftest import LAB_SCENARIO, events_of, lab_config, local_config, settle, wait_for
from .states import NginxOffPath

SIZE = (120, 40)


async def step(pilot, app: RunbookApp) -> None:
    """r runs the current step; its result stays on screen until Enter."""
    await pilot.press("r")
    await settle(pilot, app)
    await wait_for(pilot, lambda: app.session.status != "running")
    await settle(pilot, app)
    if app.main is not None and app.main.result_for is not None:
        await pilot.press("enter")
        await settle(pilot, app)


async def run_until_end(pilot, app: RunbookApp, limit: int = 40) -> None:
    for _ in range(limit):
        if app.session.finished:
            if app.main.result_for is not None:  # the last step's result, then the conclusion
                await pilot.press("enter")
                await settle(pilot, app)
            return
        await pilot.press("r")
        await settle(pilot, app)
    raise AssertionError(f"no conclusion after {limit} steps (at {app.session.current})")


async def test_every_step_to_a_conclusion_then_note_and_export(tmp_path: Path) -> None:
    app = RunbookApp(lab_config(tmp_path / "j.jsonl"), export_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        title = app.screen.query_one("#title", Input)
        title.value = "Checkout answers 502"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await run_until_end(pilot, app)
        assert app.session.status == "concluded"
        assert isinstance(app.screen, ConclusionScreen)
        await pilot.press("escape")
        await pilot.press("n")
        await pilot.press(*"rollback", "space", *"planned")
        await pilot.press("enter")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.exported == tmp_path / "j.md"
        await pilot.press("q")
    assert app.return_code == 0
    report = (tmp_path / "j.md").read_text()
    start = events_of(app, "session-start")[0]
    assert start["incident"]["title"] == "Checkout answers 502"
    assert "Checkout answers 502" in report
    assert app.session.conclusion and app.session.conclusion["title"] in report
    assert "rollback planned" in report
    for node in ("symptom", "backend-health", "gateway-log", "firewall", "diagnose"):
        assert node in [e["node"] for e in events_of(app, "node-enter")]
    assert events_of(app, "session-end")[0]["status"] == "concluded"


async def test_override_then_auto_advance(tmp_path: Path) -> None:
    app = RunbookApp(lab_config(tmp_path / "j.jsonl"), export_dir=tmp_path, ask_incident=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await run_until_end(pilot, app)
        cited = app.session.conclusion["findings"]
        assert cited
        await pilot.press("escape", "o")
        await pilot.pause()
        chooser = app.screen
        assert isinstance(chooser, ChooseScreen)
        options = chooser.query_one("#options")
        index = next(i for i, (key, _) in enumerate(chooser.options) if key == f"finding:{cited[0]}")
        options.highlighted = index
        await pilot.press("enter")
        await pilot.press(*"timeouts", "space", *"are", "space", *"expected")
        await pilot.press("enter")
        await settle(pilot, app)
        assert not app.session.finished
        await pilot.press("a")
        await settle(pilot, app, rounds=6)
        await wait_for(pilot, lambda: app.session.finished)
        await pilot.press("ctrl+s")
        await pilot.pause()
    report = (tmp_path / "j.md").read_text()
    override = events_of(app, "override")[0]
    assert override["finding"] == cited[0] and override["reason"] == "timeouts are expected"
    assert "timeouts are expected" in report


async def test_question_refused_mutating_back_other_branch_cancel_skip(tmp_path: Path) -> None:
    app = RunbookApp(local_config(tmp_path / "j.jsonl"), export_dir=tmp_path, ask_incident=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await step(pilot, app)
        # the question opens by itself
        await wait_for(pilot, lambda: isinstance(app.screen, QuestionScreen))
        await pilot.press("1")
        await settle(pilot, app)
        assert app.session.current == "fix"
        await pilot.pause(0.3)  # keys right after a dialog closes are taken as typed into it
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, MutatingScreen))
        assert "echo restarting the service" in str(app.screen.query_one("#commands").render())
        await pilot.press("n")
        await settle(pilot, app)
        assert app.session.current == "not-fixed"
        assert app.main.result_for == "fix"  # the refused step's result first
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, ConclusionScreen)
        # back to the question, and the other answer this time
        await pilot.press("b")
        await pilot.pause()
        chooser = app.screen
        assert isinstance(chooser, ChooseScreen)
        chooser.query_one("#options").highlighted = [k for k, _ in chooser.options].index("ask")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, QuestionScreen))
        await pilot.press("2")
        await settle(pilot, app)
        assert app.session.current == "slow"
        # a long step, cancelled
        await pilot.pause(0.3)
        await pilot.press("r")
        await wait_for(pilot, lambda: app.session.status == "running")
        await wait_for(pilot, lambda: any(e["type"] == "step-start" for e in events_of(app, "step-start")))
        await pilot.pause(0.3)
        await pilot.press("x")
        await settle(pilot, app)
        assert app.session.status == "ready" and app.session.current == "slow"
        # skipped instead; then the mutating step, confirmed this time
        await pilot.press("s")
        await settle(pilot, app)
        assert app.session.current == "fix"
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, MutatingScreen))
        await pilot.press("y")
        await settle(pilot, app)
        assert app.session.current == "fixed"
        await pilot.press("ctrl+s")
        await pilot.pause()
    results = events_of(app, "step-result")
    assert any((r.get("error") or {}).get("kind") == "cancelled" and r["check"] == "wait" for r in results)
    assert any(r["check"] == "restart" and r["exit_status"] == 0 for r in results)
    assert [e["value"] for e in events_of(app, "answer")] == ["yes", "no"]
    assert events_of(app, "mutating-refused")[0]["reason"] == "the engineer declined to run it"
    assert events_of(app, "back")[0]["to"] == "ask"
    report = (tmp_path / "j.md").read_text()
    assert "declined" in report
    assert "cancelled" in report
    assert "skipped by the engineer" in report
    assert "Went back to" in report
    assert "The service was restarted and answers again" in report


async def test_host_key_modal_records_the_decision(tmp_path: Path) -> None:
    app = RunbookApp(lab_config(tmp_path / "j.jsonl"), export_dir=tmp_path, ask_incident=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        host = Host(name="gw1", address="198.18.0.2")
        asked = asyncio.ensure_future(app.host_key_prompt(host, "SHA256:abcdefTESTFINGERPRINT"))
        await wait_for(pilot, lambda: isinstance(app.screen, HostKeyScreen))
        assert "SHA256:abcdefTESTFINGERPRINT" in str(app.screen.query_one(".dialog-body").render())
        await pilot.press("r")
        assert await asked == "trust-recorded"
        asked = asyncio.ensure_future(app.host_key_prompt(host, "SHA256:other"))
        await wait_for(pilot, lambda: isinstance(app.screen, HostKeyScreen))
        await pilot.press("escape")
        assert await asked == "abort"
        await pilot.press("ctrl+s")
        await pilot.pause()
    decisions = [(e["host"], e["decision"]) for e in events_of(app, "host-key")]
    assert decisions == [("gw1", "trust-recorded"), ("gw1", "abort")]
    assert "SHA256:abcdefTESTFINGERPRINT" in (tmp_path / "j.md").read_text()


async def test_quit_while_running_asks_first_and_keeps_the_journal(tmp_path: Path) -> None:
    app = RunbookApp(local_config(tmp_path / "j.jsonl"), export_dir=tmp_path, ask_incident=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("s")  # look -> slow (the default branch)
        await settle(pilot, app)
        await pilot.press("r")
        await wait_for(pilot, lambda: app.session.status == "running")
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await pilot.pause()
        assert app.session.status == "running"
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: app._exit, timeout=15)
    assert app.return_code == 1
    assert events_of(app, "session-end")[0]["status"] == "aborted"
    assert any((r.get("error") or {}).get("kind") == "cancelled" for r in events_of(app, "step-result"))


async def test_follow_a_log_until_stopped(tmp_path: Path) -> None:
    logfile = tmp_path / "app.log"
    logfile.write_text("old line\n")
    app = RunbookApp(
        local_config(tmp_path / "j.jsonl", variables={"logfile": str(logfile)}), export_dir=tmp_path, ask_incident=False
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f")
        await wait_for(pilot, lambda: app.main.following is not None)
        await pilot.pause(0.5)
        with logfile.open("a") as fh:
            fh.write("upstream timed out while reading\n")
        output = app.main.query_one(OutputView)
        await wait_for(pilot, lambda: "upstream timed out" in output.plain())
        assert "local · following the log" in output.plain()
        await pilot.press("f")
        await wait_for(pilot, lambda: app.main.following is None)
        await settle(pilot, app)
    notes = [e["text"] for e in events_of(app, "note")]
    assert any("upstream timed out while reading" in n and "Followed" in n for n in notes)
    # the follow is a session intent: its start, lines and end are in the journal
    assert [e["host"] for e in events_of(app, "follow-start")] == ["local"]
    assert any("upstream timed out" in e["text"] for e in events_of(app, "follow-line"))
    assert events_of(app, "follow-end")[0]["lines"] >= 1


async def test_preview_help_theme_and_palette(tmp_path: Path) -> None:
    app = RunbookApp(lab_config(tmp_path / "j.jsonl"), export_dir=tmp_path, ask_incident=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await settle(pilot, app)
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)
        screen = app.screen
        await wait_for(pilot, lambda: screen.complete)  # rendered in a thread
        assert "502 Bad Gateway" in screen.markdown
        assert "502 Bad Gateway" in str(screen.query_one("#report-text").render())
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        dark = app.current_theme.dark
        await pilot.press("t")
        assert app.current_theme.dark != dark
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert any(t.startswith("Run (r)") for t in titles) and any(t.startswith("Export") for t in titles)


async def test_rerun_and_resume_in_the_app(tmp_path: Path) -> None:
    from runbook.journal import read_journal
    from runbook.wiring import config_from_journal

    journal = tmp_path / "j.jsonl"
    app = RunbookApp(lab_config(journal), export_dir=tmp_path, ask_incident=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await step(pilot, app)
        await step(pilot, app)
        assert app.session.current == "gateway-log"
        await pilot.press("e")  # runs backend-health again (the current node has not run)
        await settle(pilot, app)
        assert app.session.current == "gateway-log"
        assert [e["to"] for e in events_of(app, "back")] == ["backend-health"]
        await pilot.press("q")
    assert app.return_code == 1
    events = read_journal(journal)
    cfg = config_from_journal(events, str(journal))
    cfg.scenario = str(LAB_SCENARIO)  # the journal names the scenario, not its (test fixture) path
    resumed = RunbookApp(cfg, resume_events=events, export_dir=tmp_path)
    async with resumed.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(resumed.screen, MainScreen)
        assert resumed.session.current == "gateway-log"
        await run_until_end(pilot, resumed)
        assert resumed.session.status == "concluded"
    assert len([e for e in read_journal(journal) if e["type"] == "session-start"]) == 1


async def test_a_note_is_journaled_as_it_is_typed(tmp_path: Path) -> None:
    """Typed but never submitted (the app is killed): the draft is in the journal and the report."""
    from runbook.journal import read_journal
    from runbook.report import render_markdown

    app = RunbookApp(lab_config(tmp_path / "j.jsonl"), export_dir=tmp_path, ask_incident=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("n", *"saw", "space", *"spikes")
        await wait_for(pilot, lambda: bool(events_of(app, "note-draft")))
        # no Enter, no export, no quit: read the journal as a crash would leave it
        drafts = [e for e in read_journal(tmp_path / "j.jsonl") if e["type"] == "note-draft"]
        assert drafts[-1]["text"] == "saw spikes" and drafts[-1]["node"] == "symptom"
        report = render_markdown(read_journal(tmp_path / "j.jsonl"))
        assert "saw spikes (draft, never submitted)" in report
        await pilot.press("enter")
        await pilot.pause()
        report = render_markdown(read_journal(tmp_path / "j.jsonl"))
        assert "saw spikes" in report and "never submitted" not in report


async def test_an_inconclusive_walk_shows_what_could_not_be_seen_and_the_fix(tmp_path: Path) -> None:
    from textual.widgets import Markdown

    app = RunbookApp(lab_config(tmp_path / "j.jsonl"), export_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        app.session.io = NginxOffPath(app.session.io)
        await run_until_end(pilot, app)
        assert app.session.status == "inconclusive"
        assert isinstance(app.screen, ConclusionScreen)
        shown = app.screen.query_one("#conclusion", Markdown).source
        assert shown.startswith("# Inconclusive") and "## What could not be seen" in shown
        assert "`nginx_config` on `gw1`: missing-tool" in shown and "install nginx on gw1" in shown
        await pilot.press("q")
    assert app.return_code == 1
    assert events_of(app, "session-end")[0]["status"] == "inconclusive"
