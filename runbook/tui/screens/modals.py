"""Modal dialogs: host key, mutating step, question, override, back, confirm, help."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from runbook.engine import Finding, Observation, PlannedStep
from runbook.safety import clean

#: keys pressed this soon after a dialog closed were typed into it, not meant for the screen behind
TYPE_AHEAD_S = 0.1


def typed_ahead(app: Any) -> bool:
    return time.monotonic() - float(getattr(app, "dialog_closed_at", 0.0)) < TYPE_AHEAD_S


class Dialog(ModalScreen[Any]):
    """A centred box with a title; subclasses fill it."""

    BINDINGS = [Binding("escape", "dismiss_none", "Close")]
    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical {
        width: 90; max-width: 95%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    Dialog .dialog-title { text-style: bold; margin-bottom: 1; }
    Dialog .dialog-body { height: auto; max-height: 20; }
    Dialog .buttons { height: auto; margin-top: 1; align-horizontal: right; }
    Dialog .buttons Button { margin-left: 1; }
    Dialog OptionList { height: auto; max-height: 14; }
    Dialog Input { margin-top: 1; }
    """
    title_text = ""

    def on_mount(self) -> None:
        # The dialog's own footer covers the main screen's: the keys shown are the ones that act
        # now (a modal's bindings stop at the modal, so the app's and the main screen's are left out).
        # Textual calls this for every subclass too, after the subclass's own on_mount.
        self.mount(Footer(show_command_palette=False, compact=True))

    def dismiss(self, result: Any = None) -> Any:
        self.app.dialog_closed_at = time.monotonic()  # type: ignore[attr-defined]
        return super().dismiss(result)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class HostKeyScreen(Dialog):
    """An unknown host key: show the fingerprint; trust once, trust and record, or abort."""

    BINDINGS = [
        Binding("o", "choose('trust-once')", "Trust once"),
        Binding("r", "choose('trust-recorded')", "Trust and record"),
        Binding("escape,a", "choose('abort')", "Abort"),
    ]

    def __init__(self, host: str, address: str, fingerprint: str) -> None:
        super().__init__()
        self.host, self.address, self.fingerprint = host, address, fingerprint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Unknown host key: {self.host}", classes="dialog-title")
            yield Static(
                Text.assemble(
                    f"{self.host} ({self.address}) presented a key that known_hosts does not hold.\n\n",
                    ("Fingerprint: ", "bold"),
                    (self.fingerprint, "bold yellow"),
                    "\n\nCompare it with the key you expect (ssh-keyscan from a trusted place, or "
                    "your inventory of host keys) before trusting it.",
                ),
                classes="dialog-body",
            )
            with Horizontal(classes="buttons"):
                yield Button("Trust once (o)", id="trust-once")
                yield Button("Trust and record (r)", id="trust-recorded", variant="warning")
                yield Button("Abort (a)", id="abort", variant="error")

    def on_mount(self) -> None:
        self.query_one("#abort", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_choose(self, decision: str) -> None:
        self.dismiss(decision)


class YesNoDialog(Dialog):
    """A dialog answered yes or no; "no" has the focus, so Enter never runs anything by accident."""

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class MutatingScreen(YesNoDialog):
    """A step that changes a host: the exact commands and hosts; nothing runs without a yes."""

    BINDINGS = [Binding("y", "answer(True)", "Run it"), Binding("escape,n", "answer(False)", "Do not run")]

    def __init__(self, steps: list[PlannedStep]) -> None:
        super().__init__()
        self.steps = steps

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("These commands change the hosts they run on:\n\n")
        for s in self.steps:
            text.append(f"{s.host.name}", style="bold")
            text.append(f" · {s.check.id}\n")
            text.append(f"  $ {s.command}\n", style="bold magenta")
        text.append("\nRun them? (the journal records your decision)")
        with Vertical():
            yield Label("Mutating step", classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(text, id="commands")
            with Horizontal(classes="buttons"):
                yield Button("Do not run (n)", id="no", variant="primary")
                yield Button("Run it (y)", id="yes", variant="error")


class ChoiceList(OptionList):
    """An option list whose Enter is in the dialog's footer (OptionList hides it)."""

    BINDINGS = [Binding("enter", "select", "Choose")]


class QuestionScreen(Dialog):
    """A question node: pick an answer (number keys or arrows and Enter)."""

    def __init__(self, prompt: str, choices: list[tuple[str, str]], default: str, why: str = "") -> None:
        super().__init__()
        self.prompt, self.choices, self.default, self.why = prompt, choices, default, why

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.prompt, classes="dialog-title")
            if self.why:
                yield Static(Text(self.why, style="dim"), classes="dialog-body")
            yield ChoiceList(
                *[
                    Option(f"{i}. {label}" + ("  (default)" if value == self.default else ""), id=value)
                    for i, (value, label) in enumerate(self.choices, 1)
                ],
                id="choices",
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = next((i for i, (v, _) in enumerate(self.choices) if v == self.default), 0)
        options.focus()

    def on_key(self, event: Any) -> None:
        if event.character and event.character.isdigit():
            index = int(event.character) - 1
            if 0 <= index < len(self.choices):
                event.stop()
                self.dismiss(self.choices[index][0])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class ChooseScreen(Dialog):
    """Pick one of a list, optionally with a reason: back to a node, override a verdict."""

    def __init__(
        self, title: str, options: list[tuple[str, str]], *, reason: str | None = None, help: str = ""
    ) -> None:
        super().__init__()
        self.title_text, self.options, self.reason, self.help = title, options, reason, help

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="dialog-title")
            if self.help:
                yield Static(Text(self.help, style="dim"))
            yield ChoiceList(*[Option(label, id=key) for key, label in self.options], id="options")
            if self.reason is not None:
                yield Input(value=self.reason, placeholder="Why? (recorded in the journal and the report)", id="reason")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if self.reason is None:
            self.dismiss((event.option.id, ""))
        else:
            self.query_one("#reason", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            options.focus()
            return
        option = options.get_option_at_index(options.highlighted)
        self.dismiss((option.id, event.value.strip()))


class ConfirmScreen(YesNoDialog):
    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("escape,n", "answer(False)", "No")]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text, self.body = title, body

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.body)
            with Horizontal(classes="buttons"):
                yield Button("No (n)", id="no", variant="primary")
                yield Button("Yes (y)", id="yes", variant="error")


class HelpScreen(Dialog):
    BINDINGS = [Binding("escape,question_mark,q,f1", "dismiss_none", "Close")]
    DEFAULT_CSS = """
    HelpScreen > Vertical { width: 90; }
    HelpScreen .dialog-body { max-height: 32; }
    """

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold", no_wrap=True, justify="right")
        keys.add_column()
        for key, what in self.rows:
            keys.add_row(key, what)
        tips = Text(
            "\nTree: arrows move, Enter on a visited node goes back to it. "
            "After r, the step's result stays on screen (Enter or r goes on); Output shows the step named "
            "in the step panel, a header per command; l wraps long lines. Enter on a finding shows its evidence. "
            "ctrl+p opens the command palette with every action. "
            "The journal is written as you go: quitting never loses anything (runbook resume).",
            style="dim",
        )
        with Vertical():
            yield Label("Keys", classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(Group(keys, tips))


def finding_options(findings: list[Finding]) -> list[tuple[str, str]]:
    out, seen = [], set()
    for f in findings:
        if f.id in seen:
            continue
        seen.add(f.id)
        out.append((f"finding:{f.id}", f"Dismiss finding [{f.severity}] {f.title} ({f.node})"))
    return out


class FindingScreen(Dialog):
    """One finding in full: its evidence, the command it came from, and that command's output
    with the evidence lines marked."""

    BINDINGS = [Binding("escape,enter,q", "dismiss_none", "Close")]
    DEFAULT_CSS = """
    FindingScreen > Vertical { width: 110; }
    FindingScreen .dialog-body { max-height: 40; }
    """

    def __init__(self, finding: Finding, observation: Observation | None) -> None:
        super().__init__()
        self.finding, self.observation = finding, observation

    def body(self) -> Text:
        f, obs = self.finding, self.observation
        style = {"critical": "bold red", "warning": "yellow"}.get(f.severity, "dim")
        text = Text()
        text.append(f"{f.severity}", style=style)
        text.append(f"  {f.host or '-'}  ·  node {f.node}  ·  check {f.check or '-'}  ·  {f.id}\n\n", style="dim")
        text.append("Evidence\n", style="bold")
        evidence = [line for line in clean(f.evidence or "").splitlines() if line.strip()]
        for line in evidence or ["(no evidence line recorded)"]:
            text.append(f"  {line}\n")
        if obs is None:
            text.append("\nThe step it came from is not in this session's results.\n", style="dim")
            return text
        text.append("\nCommand", style="bold")
        text.append(f"  ({obs.host}, step {obs.step_id})\n", style="dim")
        text.append(f"  $ {clean(obs.command)}\n")
        status = (
            f"{obs.error['kind']}: {clean(obs.error['message'])}"
            if obs.error
            else "timed out"
            if obs.timed_out
            else f"exit {obs.exit_status}"
        )
        text.append(f"  {status} · {obs.duration_s:.2f} s\n", style="dim")
        output = clean(obs.stdout + (("\n" + obs.stderr) if obs.stderr else ""))
        lines = output.splitlines()
        marks = {line.strip() for line in evidence}
        text.append(f"\nOutput ({len(lines)} lines; ▶ marks the evidence)\n", style="bold")
        for line in lines[:400]:
            hit = line.strip() in marks or any(m and m in line for m in marks)
            text.append("▶ " if hit else "  ", style="bold yellow")
            text.append(f"{line}\n", style="bold" if hit else "")
        if len(lines) > 400:
            text.append(f"  … {len(lines) - 400} more lines in the report's appendix\n", style="dim")
        return text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.finding.title, classes="dialog-title")
            with VerticalScroll(classes="dialog-body", id="finding-body"):
                yield Static(self.body(), id="finding-text")
            yield Static(Text("Enter or Escape closes", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#finding-body").focus()
