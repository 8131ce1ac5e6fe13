"""The debrief: the trainee's walk beside the expert's on the tree, and the training report
(why the cause was right or not, quoting the output lines, a faster path, the trainee's why)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown, Static

from runbook.playbook import Playbook
from runbook.training.debrief import Row, rows
from runbook.training.report import render_training_report
from runbook.training.scoring import score


def tree_table(table_rows: list[Row]) -> Table:
    """The tree, one node a line, with the trainee's and the expert's run numbers beside it."""
    t = Table(box=None, expand=True, pad_edge=False, show_edge=False)
    t.add_column("Node", ratio=1, no_wrap=True, overflow="ellipsis")
    t.add_column("You", justify="right", width=7)
    t.add_column("Expert", justify="right", width=6)
    t.add_column("", width=16, no_wrap=True)
    for r in table_rows:
        style = ""
        if r.dead_end or r.pointless:
            style = "bold red"
        elif r.trainee and r.expert:
            style = "green"
        elif r.expert or r.expected:
            style = "yellow"
        elif not r.trainee and not r.chosen:
            style = "dim"
        indent = ("  " * (r.depth - 1) + "└ ") if r.depth else ""
        label = Text(indent, style="dim") + Text(r.node, style=style)
        notes = []
        if r.expected:
            notes.append("■ answer")
        if r.chosen and not r.expected:
            notes.append("✗ yours")
        if r.dead_end:
            notes.append("✗ dead end")
        if r.pointless:
            notes.append("∅ no use")
        if r.missed:
            notes.append(f"! {r.missed} missed")
        t.add_row(label, r.trainee, r.expert, Text(" ".join(notes), style=style))
    return t


class DebriefScreen(Screen[None]):
    BINDINGS = [
        Binding("p", "app.preview", "Incident report"),
        Binding("escape", "app.pop_screen", "Main screen"),
        Binding("q", "app.quit", "Quit"),
    ]
    DEFAULT_CSS = """
    DebriefScreen #debrief-body { height: 1fr; }
    DebriefScreen #debrief-tree { width: 1fr; min-width: 50; border: round $primary; padding: 0 1; }
    DebriefScreen #debrief-summary { width: 1fr; border: round $primary; padding: 0 1; }
    """

    def __init__(self, events: list[dict[str, Any]], playbook: Playbook, report: Path | None) -> None:
        super().__init__()
        self.score = score(events, playbook)
        self.rows = rows(playbook, self.score)
        self.markdown = render_training_report(events, playbook)
        if report:
            self.markdown += f"\nTraining report: `{report}`\n"
        self.report = report

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="debrief-body"):
            with VerticalScroll(id="debrief-tree"):
                yield Static(tree_table(self.rows), id="debrief-table")
            with VerticalScroll(id="debrief-summary"):
                yield Markdown(self.markdown, id="debrief-md")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "debrief"
        self.query_one("#debrief-tree").border_title = "Your walk beside the expert's"
        self.query_one("#debrief-summary").border_title = f"{self.score.total} / 100"
        self.query_one("#debrief-summary").focus()
