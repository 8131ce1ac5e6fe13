"""The current step: the question it answers, why it matters, and the exact command per host."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from runbook.engine import Finding, PlannedStep
from runbook.playbook.model import Node
from runbook.safety import clean

STATUS_STYLES = {
    "ok": ("✓", "green"),
    "failed": ("✗", "yellow"),
    "error": ("✖", "red"),
    "timeout": ("⧗", "red"),
    "refused": ("✋", "magenta"),
    "cancelled": ("■", "magenta"),
    "running": ("◌", "bold yellow"),
    "planned": ("·", "dim"),
}


class StepPanel(VerticalScroll):
    """Shows one node; commands are plain text lines, so they can be selected and copied."""

    DEFAULT_CSS = """
    StepPanel { height: auto; max-height: 45%; padding: 0 1; }
    StepPanel > #step-title { text-style: bold; }
    StepPanel > #step-why { color: $text-muted; }
    StepPanel > #step-commands { margin-top: 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="step-title")
        yield Static(id="step-why")
        yield Static(id="step-commands")

    def show(
        self,
        node_id: str,
        node: Node,
        steps: list[PlannedStep],
        statuses: dict[str, tuple[str, str]],
        status: str,
        extra: str = "",
    ) -> None:
        title = Text()
        title.append(f"{node_id}  ", style="dim")
        title.append(node.title or node_id)
        self.query_one("#step-title", Static).update(title)
        why = " ".join(node.why.split())
        if node.question:
            why = f"{why}\n\n? {node.question.prompt}  " + " / ".join(
                f"[{c.value}] {c.label or c.value}" for c in node.question.choices
            )
        if node.conclusion:
            why = " ".join(node.conclusion.summary.split()) or why
        if node.unresolved:
            why = " ".join(node.unresolved.split())
        self.query_one("#step-why", Static).update(Text(why))
        body = Text()
        for step in steps:
            word, detail = statuses.get(step.key, ("planned", ""))
            icon, style = STATUS_STYLES.get(word, ("·", ""))
            body.append(f"{icon} ", style=style)
            body.append(step.host.name, style="bold")
            body.append(f" · {step.check.id}")
            if step.mutating:
                body.append("  MUTATING", style="bold magenta")
            if step.follow:
                body.append("  [f] follow", style="cyan")
            if detail:
                body.append(f"  {detail}", style=style)
            body.append("\n")
            body.append(f"  $ {step.command}\n", style="bold" if word == "running" else "")
            if step.error:
                body.append(f"  {step.error}\n", style="red")
        if not steps and not node.question and not node.conclusion and not node.unresolved:
            body.append("A decision on what was found so far: no command runs here.\n", style="dim")
        if extra:
            body.append(extra, style="dim")
        self.query_one("#step-commands", Static).update(body)

    def show_result(
        self,
        node_id: str,
        node: Node,
        rows: list[tuple[str, str, str, str]],
        findings: list[Finding],
        why: str,
        hint: str,
    ) -> None:
        """A step's result, kept on screen until the engineer moves on: each command's status,
        the findings it produced, and why the walk goes where it goes."""
        title = Text()
        title.append("Result  ", style="bold reverse")
        title.append(f" {node_id}  ", style="dim")
        title.append(node.title or node_id)
        self.query_one("#step-title", Static).update(title)
        self.query_one("#step-why", Static).update(Text(why, style="bold"))
        body = Text()
        for f in findings:
            style = {"critical": "bold red", "warning": "yellow"}.get(f.severity, "dim")
            body.append(f"● {f.severity:<8} ", style=style)
            body.append(f"{f.host or '-'}: ", style="bold")
            body.append(f"{clean(f.title)}\n")
        if rows and not findings:
            body.append("Nothing wrong was found by this step.\n", style="green")
        if rows:
            body.append("\n")
        for host, check, word, detail in rows:
            icon, style = STATUS_STYLES.get(word, ("·", ""))
            body.append(f"{icon} ", style=style)
            body.append(host, style="bold")
            body.append(f" · {check}  ")
            body.append(f"{detail}\n", style=style)
        if not rows and not findings:
            body.append("A decision on what was found so far: no command ran here.\n", style="dim")
        body.append(f"\n{hint}", style="dim")
        self.query_one("#step-commands", Static).update(body)


def commands_text(steps: list[PlannedStep]) -> str:
    """The commands of a step as a person would paste them into a shell."""
    return "\n".join(f"# {s.host.name} ({s.check.id})\n{s.command}" for s in steps)


def status_of(event: dict[str, Any]) -> tuple[str, str]:
    from runbook.tui.model import result_summary

    return result_summary(event)
