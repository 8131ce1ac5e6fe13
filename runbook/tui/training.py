"""Training mode: the trainee chooses every move, commits a diagnosis, and gets a debrief.

The session is an ordinary Session with a TrainingGate passed in (runbook.training.session):
the engine never branches, so after each step the trainee picks the next node to look at
(any node; conclusions are not on the list) or commits a diagnosis (a cause, the hosts at
fault, the findings that show it, and why). Only then is anything about the incident's
cause shown, in the debrief.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, SelectionList, Static
from textual.widgets.option_list import Option

from runbook.journal import read_journal
from runbook.playbook.model import CAUSES
from runbook.training.reference import Reference
from runbook.training.session import DECIDE, Training, build_training
from runbook.training.simclock import clock
from runbook.tui.app import RunbookApp
from runbook.tui.screens.main import ACTION_HELP, ACTIONS, MainScreen
from runbook.tui.screens.modals import Dialog, HelpScreen
from runbook.tui.training_debrief import DebriefScreen
from runbook.tui.widgets.tree import PlaybookTree
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

#: main-screen keys that would let the engine walk for the trainee, or unsee evidence
DISABLED = {"auto", "skip", "override", "back", "rerun"}
TRAINING_ACTIONS = [
    ("g", "choose", "Next step", "choose the next node to investigate (any node)"),
    ("h", "hint", "Hint", "a hint (costs points and simulated time; each tells something new)"),
    ("d", "diagnose", "Diagnose", "commit your diagnosis: cause, hosts at fault, evidence, why"),
]


class NextField(OptionList):
    """An option list where Enter moves on to the next field instead of committing."""

    BINDINGS = [Binding("enter", "next_field", "Next field", show=False)]

    def action_next_field(self) -> None:
        self.screen.focus_next()


class NextFieldSelection(SelectionList[str]):
    BINDINGS = [Binding("enter", "next_field", "Next field", show=False)]

    def action_next_field(self) -> None:
        self.screen.focus_next()


class TrainingDialog(Dialog):
    """A dialog whose keys never reach the screen behind it (nor the app's one-letter keys)."""

    def on_key(self, event: events.Key) -> None:
        # the focused widget and this dialog keep their bindings; the app's (h, d, p, q...) do not
        # see a key typed here
        for node in (self.focused or self).ancestors_with_self:
            if node is self.app:
                break
            if node._bindings.key_to_bindings.get(event.key):
                return
        if event.key not in ("tab", "shift+tab", "ctrl+c"):
            event.stop()


class NameScreen(TrainingDialog):
    """Who trains: asked before the page, so the report and the class summary can name them."""

    BINDINGS = [Binding("escape", "dismiss_none", "Quit")]

    def __init__(self, codename: str, briefing: str, difficulty: str) -> None:
        super().__init__()
        self.codename, self.briefing, self.difficulty = codename, briefing, difficulty

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Training exercise {self.codename} ({self.difficulty})", classes="dialog-title")
            yield Static(Text.assemble(("You are paged:\n", "bold"), (self.briefing, "yellow")), classes="dialog-body")
            yield Static(
                "You choose every step; each check costs simulated time. Commit a diagnosis (d) when sure.",
                classes="dialog-body",
            )
            yield Input(placeholder="Your name (Enter starts)", id="trainee")

    def on_mount(self) -> None:
        self.query_one("#trainee", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if name:
            self.dismiss(name)
        else:
            self.notify("Your name, please: it goes on the training report", severity="warning")


class ChooseNodeScreen(TrainingDialog):
    """Where to look next: every investigation node, flat; Enter moves to "why", Enter again goes."""

    def __init__(self, training: Training) -> None:
        super().__init__()
        self.training = training

    def compose(self) -> ComposeResult:
        options = []
        for c in self.training.choices():
            mark = f"  (run {c.runs}×)" if c.runs else ""
            here = "  ← here" if c.current else ""
            options.append(Option(Text(f"{c.title}  [{c.node}]{mark}{here}"), id=c.node))
        with Vertical():
            yield Label("Where do you look next?", classes="dialog-title")
            yield Static(
                "Pick a step (Enter), say why (Enter goes). d commits a diagnosis instead.", classes="dialog-body"
            )
            yield NextField(*options, id="nodes")
            yield Input(placeholder="Why this step? (Enter goes there)", id="why")

    def on_mount(self) -> None:
        self.query_one("#nodes", NextField).focus()

    def on_key(self, event: events.Key) -> None:
        if event.key == "d" and self.focused is self.query_one("#nodes"):
            event.stop()
            self.dismiss(("diagnose", ""))
            return
        super().on_key(event)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        nodes = self.query_one("#nodes", NextField)
        if nodes.highlighted is None:
            nodes.focus()
            return
        option = nodes.get_option_at_index(nodes.highlighted)
        self.dismiss((option.id, event.value))


class DiagnosisScreen(TrainingDialog):
    """Cause, hosts at fault, evidence cited (only findings uncovered), why. Enter moves field to field."""

    DEFAULT_CSS = """
    DiagnosisScreen SelectionList { height: auto; max-height: 8; border: round $primary-darken-2; }
    DiagnosisScreen SelectionList:focus { border: round $accent; }
    DiagnosisScreen #causes { max-height: 9; }
    """

    def __init__(self, training: Training) -> None:
        super().__init__()
        self.training = training
        self.findings = [f for f in training.uncovered()]

    def compose(self) -> ComposeResult:
        hosts = [h for h in self.training.session.inventory.hosts]
        with Vertical():
            yield Label("Your diagnosis", classes="dialog-title")
            yield Static(
                "Cause (Enter: next field) · hosts at fault and evidence (space toggles, Enter: next) · why "
                "(Enter commits). The cause is revealed once you commit.",
                classes="dialog-body",
            )
            yield NextField(
                *[Option(f"{i}. {CAUSE_LABELS.get(c, c)}  ({c})", id=c) for i, c in enumerate(CAUSES, 1)],
                id="causes",
            )
            yield NextFieldSelection(*[(h, h) for h in hosts], id="hosts")
            yield NextFieldSelection(
                *[
                    (Text(f"{f.severity}: {f.title}" + (f" [{f.host}]" if f.host else "")), f"{f.id}@{f.host or ''}")
                    for f in self.findings
                ],
                id="evidence",
            )
            yield Input(placeholder="Why? (Enter commits)", id="why")

    def on_mount(self) -> None:
        self.query_one("#hosts").border_title = "Hosts at fault"
        self.query_one("#evidence").border_title = "Evidence you cite (findings you uncovered)"
        self.query_one("#causes", NextField).focus()

    def on_key(self, event: events.Key) -> None:
        causes = self.query_one("#causes", NextField)
        if event.character and event.character.isdigit() and self.focused is causes:
            index = int(event.character) - 1
            if 0 <= index < len(CAUSES):
                event.stop()
                causes.highlighted = index
                return
        super().on_key(event)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        causes = self.query_one("#causes", NextField)
        if causes.highlighted is None:
            causes.focus()
            return
        hosts = list(self.query_one("#hosts", NextFieldSelection).selected)
        evidence = []
        for key in self.query_one("#evidence", NextFieldSelection).selected:
            fid, _, host = key.partition("@")
            evidence.append((fid, host or None))
        self.dismiss((CAUSES[causes.highlighted], hosts, evidence, event.value))


class HintScreen(TrainingDialog):
    BINDINGS = [Binding("escape,enter", "dismiss_none", "Close")]

    def __init__(self, text: str, level: int, cost: int, spent: int) -> None:
        super().__init__()
        self.text, self.level, self.cost, self.spent = text, level, cost, spent

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Hint {self.level} of 3 (−{self.cost} points, +2 min)", classes="dialog-title")
            yield Static(self.text, id="hint-text", classes="dialog-body")
            yield Static(f"Hints so far cost {self.spent} points. Enter closes.", classes="hint-cost")
            with Horizontal(classes="buttons"):
                yield Button("Close", id="close", variant="primary")

    def on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            self.dismiss(None)
            return
        super().on_key(event)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)


class TrainingMainScreen(MainScreen):
    """The main screen with the trainee's keys; the engine's own walking keys are off."""

    BINDINGS = [Binding(key, action, label) for key, action, label, _ in TRAINING_ACTIONS]

    def __init__(self, training: Training, *, start: bool) -> None:
        super().__init__(training.session, start=start)
        self.training = training
        self.asked_run = -1

    def on_mount(self) -> None:
        # the tree flat, investigation nodes only: nothing says which conclusion hangs where
        tree = self.query_one(PlaybookTree)
        tree.clear()
        tree.items = {}
        tree.states = {}
        for choice in self.training.choices():
            tree.items[choice.node] = tree.root.add_leaf(choice.node, data=choice.node)
        tree.root.expand()
        # (Textual then calls MainScreen.on_mount itself: it starts the session)

    def on_playbook_tree_back_requested(self, message: PlaybookTree.BackRequested) -> None:
        if not self.busy and not self.training.committed:
            self.app.call_later(self.app.run_action, "choose")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in DISABLED:
            return False
        if action in ("choose", "diagnose", "hint") and (self.busy or self.training.committed):
            return None
        return super().check_action(action, parameters)

    def action_run(self) -> None:
        s = self.session
        if s.status == DECIDE:
            self.notify("This step was run: choose the next one (g) or commit a diagnosis (d)", severity="warning")
            return
        super().action_run()

    def action_choose(self) -> None:
        self.app.call_later(self.app.run_action, "choose")

    def action_hint(self) -> None:
        self.app.call_later(self.app.run_action, "hint")

    def action_diagnose(self) -> None:
        self.app.call_later(self.app.run_action, "diagnose")

    def status_line(self) -> Text:
        s = self.session
        spent = self.training.spent_s()
        text = Text()
        if s.status == DECIDE:
            text.append(" DECIDE ", style="bold black on magenta")
            text.append("  g chooses the next step · d commits a diagnosis · h hint")
        elif s.status == "ready":
            text.append(" READY ", style="bold reverse")
            text.append(f"  r runs {len(s.plan())} command(s) · g another step · h hint · d diagnose")
        else:
            text = super().status_line()
        text.append(f"  · on call for {clock(spent)}", style="bold")
        return text

    def after_change(self) -> None:
        s = self.session
        if self.app.screen is not self:
            return
        runs = len(s.walk.observations)
        if s.status == DECIDE and self.asked_run != runs:
            self.asked_run = runs
            self.app.call_later(self.app.run_action, "choose")
            return
        super().after_change()


class TrainingApp(RunbookApp):
    TITLE = "runbook training"

    def __init__(
        self,
        cfg: RunConfig,
        reference: Reference,
        *,
        export_dir: str | Path | None = None,
        report_path: str | Path | None = None,
        trainee: str | None = None,
        resume_events: list[dict[str, Any]] | None = None,
    ) -> None:
        # the session is built fresh and resumed only once the training's gate is on it: resumed
        # bare, the engine would branch on its own from the node the journal stopped at
        super().__init__(cfg, export_dir=export_dir, ask_incident=False)
        self.training = Training(self.session, reference)
        if cfg.scenario:
            from runbook.training.session import serve_sweep

            serve_sweep(self.session, cfg.scenario, cfg.replay_speed)
        self.session.options.incident = {**cfg.incident}
        if resume_events is not None:
            self.training.restore(resume_events)
            self.session.resume(resume_events)
            self.resumed = True
            trainee = trainee or self.training.trainee or None
        self.trainee = trainee
        self.report_path = Path(report_path) if report_path else None
        self.debrief: DebriefScreen | None = None
        self.asking = False

    @property
    def reference(self) -> Reference:
        return self.training.reference

    def begin(self, incident: dict[str, str] | None) -> None:
        """Called by RunbookApp's mount: ask who trains (the page shown), then the main screen."""
        ref = self.reference
        self.title = f"runbook training · {ref.codename or 'exercise'}"
        if self.trainee:
            self.begin_as(self.trainee)
        else:
            self.push_screen(
                NameScreen(ref.codename or "exercise", ref.briefing or "Users report 502 Bad Gateway.", ref.difficulty),
                self.begin_as,
            )

    def begin_as(self, name: str | None) -> None:
        if not name:
            self.exit(1)
            return
        self.trainee = self.training.trainee = name
        self.session.options.incident = {**self.session.options.incident, "responder": name}
        self.main = TrainingMainScreen(self.training, start=not self.resumed)
        self.push_screen(self.main)

    # ---- training actions ---------------------------------------------------------------
    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        rows = [(k, ACTION_HELP[a]) for k, a, _, _ in ACTIONS if a not in DISABLED]
        rows += [(k, text) for k, _, _, text in TRAINING_ACTIONS]
        rows += [("p", "the incident report (after your diagnosis)"), ("q", "quit"), ("ctrl+p", "command palette")]
        self.push_screen(HelpScreen(rows))

    def action_choose(self) -> None:
        t = self.training
        if t.committed or self.asking or self.session.status == "running":
            return
        self.asking = True

        def chosen(result: tuple[str, str] | None) -> None:
            self.asking = False
            if not result:
                return
            node, why = result
            if node == "diagnose":
                self.call_later(self.action_diagnose)
                return
            try:
                t.choose(node, why)
            except ValueError as exc:
                self.notify(str(exc), severity="error")

        self.push_screen(ChooseNodeScreen(t), chosen)

    def action_hint(self) -> None:
        t = self.training
        if t.committed or self.session.status == "running":
            return
        h = t.hint()
        if h is None:
            self.notify("No more hints for this exercise", severity="warning")
            return
        spent = sum(int(x.get("cost") or 0) for x in t.hints_given())
        self.push_screen(HintScreen(h.text, h.level, h.cost, spent))

    def action_diagnose(self) -> None:
        t = self.training
        if t.committed or self.asking or self.session.status == "running":
            return
        self.asking = True

        def chosen(result: tuple[str, list[str], list[tuple[str, str | None]], str] | None) -> None:
            self.asking = False
            if result:
                self.commit(*result)

        self.push_screen(DiagnosisScreen(t), chosen)

    def commit(self, cause: str, hosts: list[str], evidence: list[tuple[str, str | None]], why: str = "") -> None:
        try:
            self.training.diagnose(cause, hosts, evidence, why)
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return
        self.show_debrief()

    def show_debrief(self) -> None:
        if self.debrief is None:
            path = self.write_training_report()
            self.debrief = DebriefScreen(read_journal(self.session.journal.path), self.session.playbook, path)
        if self.screen is not self.debrief:
            self.push_screen(self.debrief)

    def write_training_report(self) -> Path:
        from runbook.training.report import default_report_path, write_training_report

        path = self.report_path or default_report_path(self.session.journal.path)
        write_training_report(read_journal(self.session.journal.path), path, self.session.playbook)
        self.report_path = path
        return path

    # ---- what stays hidden until the diagnosis --------------------------------------------
    def action_show_conclusion(self) -> None:
        if self.training.committed:
            self.show_debrief()

    def action_preview(self) -> None:
        if not self.training.committed:
            self.notify("The incident report opens after your diagnosis (d)", severity="warning")
            return
        super().action_preview()

    def action_export(self) -> Path:
        if not self.training.committed:
            self.notify("The incident report is exported after your diagnosis (d)", severity="warning")
            return self.export_path()
        return super().action_export()


def run_training(
    cfg: RunConfig,
    reference: Reference,
    trainee: str | None = None,
    resume_events: list[dict[str, Any]] | None = None,
) -> int:
    """Run a training session (or resume one); 0 when a diagnosis was committed, 1 otherwise."""
    try:
        app = TrainingApp(cfg, reference, trainee=trainee, resume_events=resume_events)
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
    if app.training.committed:
        from runbook.training.scoring import score, verdict

        s = score(read_journal(app.session.journal.path), app.session.playbook)
        path = app.write_training_report()
        print(f"score: {s.total}/100 · {verdict(s)}", file=sys.stderr)
        print(f"training report: {path}", file=sys.stderr)
        return 0
    print("no diagnosis was committed: no score", file=sys.stderr)
    return 1


__all__ = ["TrainingApp", "build_training", "run_training"]
