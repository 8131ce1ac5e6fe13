"""Training mode: the main app with hints, a diagnosis to commit, and a debrief.

The session is a TrainingSession: when the tree reaches a conclusion it holds it back and
asks the trainee for a diagnosis (one of CAUSES). Only then is the conclusion revealed, and
the debrief screen shows the walk beside the expert's and writes the training report.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from runbook.journal import read_journal
from runbook.playbook.model import CAUSES
from runbook.training.reference import Reference
from runbook.training.session import DIAGNOSE, TrainingSession
from runbook.tui.app import RunbookApp
from runbook.tui.screens.main import MainScreen
from runbook.tui.screens.modals import Dialog
from runbook.tui.training_debrief import DebriefScreen
from runbook.wiring import RunConfig

#: how each cause reads in the diagnosis dialog
CAUSE_LABELS = {
    "backend-down": "A backend is down (stopped, crashed, not listening)",
    "backend-overloaded": "A backend is overloaded or too slow for the gateway",
    "gateway-misconfigured": "The gateway is misconfigured",
    "dns-failure": "An upstream name does not resolve (or resolves wrong)",
    "malformed-response": "A backend sends a malformed response",
    "network-blocked": "The network blocks the gateway from a backend",
    "no-fault-found": "No fault: everything is healthy",
}


class DiagnosisScreen(Dialog):
    """Commit to a cause. Escape goes back to investigating (b still goes back to a node)."""

    def __init__(self, held: bool) -> None:
        super().__init__()
        self.held = held

    def compose(self) -> ComposeResult:
        intro = (
            "The tree has reached a conclusion. What is the cause? It is revealed once you commit."
            if self.held
            else "Commit to a diagnosis now? The walk stops here and the debrief opens."
        )
        with Vertical():
            yield Label("Your diagnosis", classes="dialog-title")
            yield Static(intro, classes="dialog-body")
            yield OptionList(
                *[Option(f"{i}. {CAUSE_LABELS.get(c, c)}  ({c})", id=c) for i, c in enumerate(CAUSES, 1)],
                id="causes",
            )
            yield Input(placeholder="Why? (optional, goes to the report)", id="why")

    def on_mount(self) -> None:
        self.query_one("#causes", OptionList).focus()

    def on_key(self, event: Any) -> None:
        if event.character and event.character.isdigit() and self.focused is self.query_one("#causes"):
            index = int(event.character) - 1
            if 0 <= index < len(CAUSES):
                event.stop()
                self.query_one("#causes", OptionList).highlighted = index

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss((event.option.id, self.query_one("#why", Input).value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        options = self.query_one("#causes", OptionList)
        if options.highlighted is not None:
            self.dismiss((CAUSES[options.highlighted], event.value))


class HintScreen(Dialog):
    BINDINGS = [Binding("escape,enter,h", "dismiss_none", "Close")]

    def __init__(self, text: str, level: int, cost: int, spent: int) -> None:
        super().__init__()
        self.text, self.level, self.cost, self.spent = text, level, cost, spent

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Hint {self.level} of 3 for this step (−{self.cost} points)", classes="dialog-title")
            yield Static(self.text, id="hint-text", classes="dialog-body")
            yield Static(f"Hints so far cost {self.spent} points. Enter closes.", classes="hint-cost")
            with Horizontal(classes="buttons"):
                yield Button("Close", id="close", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)


class TrainingMainScreen(MainScreen):
    """The main screen, with the training keys in its status line and the cause kept hidden."""

    def status_line(self) -> Text:
        s = self.session
        if s.status == DIAGNOSE:
            text = Text()
            text.append(" DIAGNOSE ", style="bold black on magenta")
            text.append("  the tree has concluded: d commits your diagnosis · h hint · b goes back")
            return text
        text = super().status_line()
        text.append("  · h hint · d diagnose")
        return text


class TrainingApp(RunbookApp):
    TITLE = "runbook training"
    BINDINGS = [
        *RunbookApp.BINDINGS,
        Binding("h", "hint", "Hint"),
        Binding("d", "diagnose", "Diagnose"),
    ]

    def __init__(
        self,
        cfg: RunConfig,
        reference: Reference,
        *,
        export_dir: str | Path | None = None,
        report_path: str | Path | None = None,
    ) -> None:
        super().__init__(cfg, export_dir=export_dir, ask_incident=False)
        self.session: TrainingSession = TrainingSession.adopt(self.session, reference)
        self.session.subscribe(self.on_training_event)
        self.report_path = Path(report_path) if report_path else None
        self.debrief: DebriefScreen | None = None
        self.asking = False

    def begin(self, incident: dict[str, str] | None) -> None:
        if incident is not None:
            self.session.options.incident = incident
        self.title = f"runbook training · {self.session.reference.title}"
        self.main = TrainingMainScreen(self.session, start=not self.resumed)
        self.push_screen(self.main)

    def on_training_event(self, event: dict[str, Any]) -> None:
        if event["type"] == "conclusion-held":
            self.call_later(self.action_diagnose)

    # ---- training actions ---------------------------------------------------------------
    def action_hint(self) -> None:
        s = self.session
        if s.committed or s.status == "running":
            return
        h = s.hint()
        if h is None:
            self.notify("No more hints for this step", severity="warning")
            return
        spent = sum(int(x.get("cost") or 0) for x in s.hints_given())
        self.push_screen(HintScreen(h.text, h.level, h.cost, spent))

    def action_diagnose(self) -> None:
        s = self.session
        if s.committed or self.asking or s.status == "running":
            return
        self.asking = True

        def chosen(result: tuple[str, str] | None) -> None:
            self.asking = False
            if result:
                self.commit(*result)

        self.push_screen(DiagnosisScreen(held=s.status == DIAGNOSE), chosen)

    def commit(self, cause: str, why: str = "") -> None:
        self.session.diagnose(cause, why)
        self.show_debrief()

    def show_debrief(self) -> None:
        if self.debrief is None:
            path = self.write_training_report()
            self.debrief = DebriefScreen(read_journal(self.session.journal.path), self.session.playbook, path)
        if self.screen is not self.debrief:
            self.push_screen(self.debrief)

    def write_training_report(self) -> Path:
        from runbook.report import write_atomic
        from runbook.training.report import default_report_path, render_training_report

        path = self.report_path or default_report_path(self.session.journal.path)
        write_atomic(path, render_training_report(read_journal(self.session.journal.path), self.session.playbook))
        self.report_path = path
        return path

    # ---- what stays hidden until the diagnosis --------------------------------------------
    def action_show_conclusion(self) -> None:
        if self.session.committed:
            self.show_debrief()

    def action_preview(self) -> None:
        if not self.session.committed:
            self.notify("The incident report opens after your diagnosis (d)", severity="warning")
            return
        super().action_preview()

    def action_export(self) -> Path:
        if not self.session.committed:
            self.notify("The incident report is exported after your diagnosis (d)", severity="warning")
            return self.export_path()
        return super().action_export()


def run_training(cfg: RunConfig, reference: Reference) -> int:
    """Run a training session; 0 when a diagnosis was committed, 1 otherwise."""
    try:
        app = TrainingApp(cfg, reference)
    except ValueError as exc:
        print(f"runbook: {exc}", file=sys.stderr)
        return 2
    app.run()
    if not app.closed:
        app.closed = True
        if app.session.status != "new":
            app.session.finish()
        app.session.journal.close()
    print(f"journal: {app.session.journal.path}", file=sys.stderr)
    if app.session.committed:
        from runbook.training.scoring import score, verdict

        s = score(read_journal(app.session.journal.path))
        path = app.write_training_report()
        print(f"score: {s.total}/100 · {verdict(s)}", file=sys.stderr)
        print(f"training report: {path}", file=sys.stderr)
        return 0
    print("no diagnosis was committed", file=sys.stderr)
    return 1
