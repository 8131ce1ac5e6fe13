"""Items 6-9 of the TUI: a step's result stays on screen, Output follows the step panel, wrap,
finding detail, a footer that fits, focus and keys that stay where they belong, a readable tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, RichLog

from runbook.journal import read_journal
from runbook.report import render_markdown
from runbook.tui.app import RunbookApp
from runbook.tui.screens import modals
from runbook.tui.screens.conclusion import ConclusionScreen
from runbook.tui.screens.modals import ConfirmScreen, FindingScreen
from runbook.tui.screens.report import ReportScreen
from runbook.tui.widgets.output import OutputView
from runbook.tui.widgets.step import StepPanel
from runbook.tui.widgets.tree import PlaybookTree, TreeLegend

from .conftest import lab_config, settle, wait_for

SIZE = (120, 40)


def app_for(tmp_path: Path) -> RunbookApp:
    return RunbookApp(lab_config(tmp_path / "j.jsonl"), export_dir=tmp_path, ask_incident=False)


def panel_text(app: RunbookApp) -> str:
    panel = app.main.query_one(StepPanel)
    return "\n".join(str(panel.query_one(f"#{i}").render()) for i in ("step-title", "step-why", "step-commands"))


def footer_keys(app: RunbookApp) -> set[str]:
    return {b.binding.action for b in app.screen.active_bindings.values() if b.enabled and b.binding.show}


async def run_step(pilot, app: RunbookApp) -> None:
    await pilot.press("r")
    await settle(pilot, app)
    await wait_for(pilot, lambda: app.session.status != "running")
    await settle(pilot, app)


async def test_result_stays_until_enter_and_says_why_the_next_branch(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(2):  # symptom, backend-health
            await run_step(pilot, app)
            await pilot.press("enter")
            await settle(pilot, app)
        assert app.session.current == "gateway-log"
        await run_step(pilot, app)
        # the walk moved on, the screen did not: gateway-log's result is shown
        assert app.session.current == "gateway-config"
        assert app.main.result_for == "gateway-log"
        text = panel_text(app)
        assert "Result" in text and "gateway-log" in text
        assert "The gateway's connections to an upstream are refused" in text  # its finding
        assert "gw1 · error_log" in text and "exit 0" in text  # its command's status
        assert "→ gateway-config" in text  # where the walk goes, and why
        assert app.main.query_one(OutputView).shown == "gateway-log"
        assert app.main.query_one("#step").border_title == "Step result"
        await pilot.pause(0.5)
        assert app.main.result_for == "gateway-log"  # still there: nothing moves on by itself
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.main.result_for is None
        assert "gateway-config" in panel_text(app) and "Result" not in panel_text(app)
        assert app.main.query_one(OutputView).shown == "gateway-config"
        # r continues as Enter does, and a runs on without pausing
        await run_step(pilot, app)
        assert app.main.result_for == "gateway-config"
        await pilot.press("r")
        await settle(pilot, app)
        assert app.main.result_for is None and app.session.current == "upstream-dns"
        await pilot.press("a")
        await wait_for(pilot, lambda: app.session.finished, timeout=30)
        await settle(pilot, app)
        assert app.main.result_for is None  # auto never paused
        assert isinstance(app.screen, ConclusionScreen)


async def test_branch_why_names_the_cited_finding_and_host(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.main.pause_on_result = False
        await pilot.press("a")
        await wait_for(pilot, lambda: app.session.finished, timeout=30)
        await settle(pilot, app)
        await pilot.press("escape")
        app.main.result_for = "diagnose"
        app.main.refresh_all()
        await pilot.pause()
        why = panel_text(app)
        assert "→ cause-gateway-misconfigured because config_target_unknown on gw1" in why


async def test_output_shows_the_step_in_the_panel_with_a_header_per_command(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await run_step(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        await run_step(pilot, app)  # backend-health: several commands on two hosts
        output = app.main.query_one(OutputView)
        await wait_for(pilot, lambda: output.shown == "backend-health")
        text = output.plain()
        for header in ("━━ app1 · service_status", "━━ app2 · service_status", "━━ app1 · resources"):
            assert header in text
        # each command's output sits under its own header, before the next header
        app1 = text.index("━━ app1 · health_inside")
        assert '"host": "app1"' in text[app1 : text.index("━━", app1 + 3)]
        assert "symptom" not in text and "through_gateway" not in text  # not the previous step's
        log = app.main.query_one(RichLog)
        assert log.wrap is False
        await pilot.press("l")
        await pilot.pause()
        assert log.wrap is True and output.wrap is True
        assert "wrapped" in output.border_title
        await pilot.press("l")
        await pilot.pause()
        assert log.wrap is False


async def test_finding_detail_has_evidence_command_and_output(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(2):
            await run_step(pilot, app)
            await pilot.press("enter")
            await settle(pilot, app)
        await run_step(pilot, app)  # gateway-log: its result on screen
        table = app.main.query_one("#findings")
        table.focus()
        row = next(i for i, f in enumerate(table.rows_shown) if f.id == "log_refused")
        table.move_cursor(row=row)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FindingScreen)
        body = app.screen.body().plain
        assert "Evidence" in body and "connect() failed (111: Connection refused)" in body
        assert "tail -n 2000" in body  # the command it came from
        assert "▶ 2026/11/22" in body  # the output line the evidence came from, marked
        assert app.main.result_for is not None  # Enter on the table opened the detail, not "continue"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, FindingScreen)


async def test_footer_is_contextual_and_fits(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        ready = footer_keys(app)
        assert {"run", "auto", "skip", "app.help", "app.quit"} <= ready
        assert not {"continue", "cancel", "answer", "conclusion"} & ready
        await run_step(pilot, app)
        showing = footer_keys(app)
        assert "continue" in showing and "run" not in showing and "skip" not in showing
        await pilot.press("enter")
        app.main.pause_on_result = False
        await pilot.press("a")
        await wait_for(pilot, lambda: app.session.finished, timeout=30)
        await settle(pilot, app)
        await pilot.press("escape")
        await pilot.pause()
        done = footer_keys(app)
        assert not {"run", "auto", "cancel", "skip", "answer", "continue"} & done
        assert {"conclusion", "back", "app.help", "app.quit"} <= done
        # Help and Quit are in the footer's first places: never cut off at 80 columns
        shown = [b.binding.action for b in app.screen.active_bindings.values() if b.enabled and b.binding.show]
        assert shown.index("app.help") < 3 and shown.index("app.quit") < 3
        footer_width = sum(
            len(app.get_key_display(b.binding)) + len(b.binding.description) + 2
            for b in app.screen.active_bindings.values()
            if b.enabled and b.binding.show
        )
        assert footer_width <= 80


async def test_tab_never_lands_in_the_note_and_dialog_keys_do_not_leak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        note = app.main.query_one("#note", Input)
        for _ in range(8):
            await pilot.press("tab")
            assert app.focused is not note
        await pilot.press("n")
        await pilot.pause()
        assert app.focused is note
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is not note
        await pilot.press("tab", "tab", "tab", "tab")
        assert app.focused is not note
        # a dialog answered by one letter, the next letters typed at once: they stay in the dialog.
        # (the window is widened here: the test's own key pacing is slower than a typist's)
        monkeypatch.setattr(modals, "TYPE_AHEAD_S", 30.0)
        app.push_screen(ConfirmScreen("Go back?", "test"))
        await pilot.pause()
        before = app.session.current
        await pilot.press("n", "s", "r")  # "n" closes it; "s" and "r" were typed into it
        await settle(pilot, app)
        assert app.session.current == before and app.session.status == "ready"
        assert not any(e["type"] == "skip" for e in read_journal(app.session.journal.path))
        monkeypatch.setattr(modals, "TYPE_AHEAD_S", 0.0)  # typed later, they act
        await pilot.press("s")
        await settle(pilot, app)
        assert app.session.current != before


async def test_tree_legend_full_names_and_the_walked_path(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        legend = str(app.main.query_one(TreeLegend).render())
        for word in ("current", "finding", "clear", "skipped", "overridden", "conclusion", "not visited"):
            assert word in legend
        for _ in range(2):
            await run_step(pilot, app)
            await pilot.press("enter")
            await settle(pilot, app)
        tree = app.main.query_one(PlaybookTree)
        labels = {nid: item.label.plain for nid, item in tree.items.items()}
        assert labels["symptom"].split()[1:] == ["1", "symptom"]
        assert labels["backend-health"].split()[1:] == ["2", "backend-health"]
        assert labels["gateway-log"].split()[1:] == ["3", "gateway-log"]
        assert labels["firewall"].split()[1:] == ["firewall"]  # not on the path: no number
        # the longest node name fits in the tree at 120 columns (not cut at 30)
        longest = max(tree.items, key=len)
        label = tree.items[longest].label.plain
        line = next(i for i in range(tree.last_line + 1) if tree.get_node_at_line(i) is tree.items[longest])
        shown = "".join(seg.text for seg in tree.render_line(line - tree.scroll_offset.y)).rstrip()
        assert shown.endswith(label), (shown, label)  # the whole name, not cut


async def test_preview_is_idempotent_and_renders_off_the_ui_thread(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await run_step(pilot, app)
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)
        screen = app.screen
        await pilot.press("p")  # again: stays open
        await pilot.pause()
        assert app.screen is screen
        await wait_for(pilot, lambda: screen.complete)
        assert "# " in screen.markdown and "Appendix" in screen.markdown
        assert screen.shown_after is not None
        await pilot.press("p")  # and again once it is complete
        await pilot.pause()
        assert app.screen is screen and screen.complete
        # the body and the appendix are laid out apart (the body shows first), both on screen
        body = str(screen.query_one("#report-text").render())
        appendix = str(screen.query_one("#report-appendix").render())
        assert "Appendix" not in body and "Appendix" in appendix
        # what the preview shows is the report as a re-render of the journal gives it
        events = read_journal(app.session.journal.path)
        assert screen.markdown == render_markdown(events)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ReportScreen)
