"""The debrief: the trainee's walk beside the expert's on the tree, the score, missed evidence."""

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
from runbook.safety import clean
from runbook.training.debrief import Row, fmt_duration, rows
from runbook.training.scoring import Score, score, verdict


def tree_table(table_rows: list[Row]) -> Table:
    """The tree, one node a line, with the trainee's and the expert's step numbers beside it."""
    t = Table(box=None, expand=True, pad_edge=False, show_edge=False)
    t.add_column("Node", ratio=1, no_wrap=True, overflow="ellipsis")
    t.add_column("You", justify="right", width=7)
    t.add_column("Expert", justify="right", width=6)
    t.add_column("", width=14, no_wrap=True)
    for r in table_rows:
        style = ""
        if r.wrong_turn:
            style = "bold red"
        elif r.trainee and r.expert:
            style = "green"
        elif r.expert:
            style = "yellow"
        elif not r.trainee:
            style = "dim"
        indent = ("  " * (r.depth - 1) + "└ ") if r.depth else ""
        label = Text(indent, style="dim") + Text(r.node, style=style)
        notes = []
        if r.expected:
            notes.append("■ answer")
        if r.wrong_turn:
            notes.append("✗ wrong turn")
        if r.skipped:
            notes.append("» skipped")
        if r.missed:
            notes.append(f"! {r.missed} missed")
        t.add_row(label, r.trainee, r.expert, Text(" ".join(notes), style=style))
    return t


def summary_markdown(s: Score, report: Path | None) -> str:
    p = s.points
    lines = [
        f"# {s.total} / 100",
        "",
        f"**{verdict(s)}**",
        "",
        f"- Your diagnosis: `{s.diagnosis or '-'}`",
        f"- The cause: `{s.expected_cause}`",
        f"- Time to diagnosis: {fmt_duration(s.duration_s)}",
        "",
        "| Part | Points |",
        "|---|---:|",
        f"| Right cause | {p['cause']} / 50 |",
        f"| Efficiency ({s.steps} steps, shortest {s.shortest_steps}) | {p['efficiency']} / 30 |",
        f"| Evidence seen ({s.evidence_seen} of {s.evidence_total}) | {p['evidence']} / 20 |",
        f"| Wrong turns ({len(s.wrong_turns)}) | {p['wrong_turns']} |",
        f"| Backtracks ({s.backtracks}) | {p['backtracks']} |",
        f"| Hints ({len(s.hints)}) | {p['hints']} |",
        "",
        "## Evidence you missed",
        "",
    ]
    for f in s.missed:
        where = f" on `{f['host']}`" if f.get("host") else ""
        lines.append(f"- **{f['severity']}** at `{f['node']}`{where}: {clean(f['title'])}")
        if f.get("evidence"):
            last = clean(f["evidence"]).strip().splitlines()[-1][:160].replace("`", "'")
            lines.append(f"  `{last}`")
    if not s.missed:
        lines.append("- none: you saw every finding on the expert's path")
    if s.hints:
        lines += ["", "## Hints used", ""]
        lines += [f"- level {h['level']} at `{h['node']}`: −{h['cost']} points" for h in s.hints]
    if report:
        lines += ["", f"Training report: `{report}`"]
    return "\n".join(lines)


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
        self.score = score(events)
        self.rows = rows(playbook, self.score)
        self.report = report

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="debrief-body"):
            with VerticalScroll(id="debrief-tree"):
                yield Static(tree_table(self.rows), id="debrief-table")
            with VerticalScroll(id="debrief-summary"):
                yield Markdown(summary_markdown(self.score, self.report), id="debrief-md")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "debrief"
        self.query_one("#debrief-tree").border_title = "Your walk beside the expert's"
        self.query_one("#debrief-summary").border_title = "Score"
        self.query_one("#debrief-summary").focus()
