"""The conclusion: cause, evidence, remediation, prevention, and the way to the report."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown

from runbook.engine import Finding


def conclusion_markdown(
    conclusion: dict[str, Any] | None,
    unresolved: str | None,
    findings: list[Finding],
    journal: str,
    exported: str | None,
    missing: list[dict[str, Any]] | None = None,
    security: list[str] | None = None,
) -> str:
    lines: list[str] = [f"> **{alert}**\n" for alert in security or []]
    if missing is not None:
        lines += ["# Inconclusive", "", unresolved or "What a conclusion needs could not be seen.", ""]
        lines += ["## What could not be seen", ""]
        for m in missing:
            lines.append(f"- `{m.get('need')}` on `{m.get('host') or '-'}`: {m.get('reason')}: {m.get('message')}")
            if m.get("fix"):
                lines.append(f"  **Fix:** {m['fix']}")
        lines += ["", "## Findings so far", ""]
        lines += [f"- **{f.severity}**: {f.title}" for f in findings if f.severity != "info"] or ["- none"]
    elif conclusion:
        lines += [f"# {conclusion['title']}", "", f"**Cause:** `{conclusion['cause']}`"]
        if conclusion.get("hosts"):
            lines += ["", "**Hosts:** " + ", ".join(f"`{h}`" for h in conclusion["hosts"])]
        if conclusion.get("summary"):
            lines += ["", conclusion["summary"]]
        runner = conclusion.get("runner_up")
        if isinstance(runner, dict):
            lines += ["", f"**Runner-up:** `{runner.get('cause')}`, which {runner.get('why_lost')}."]
        cited = [f for f in findings if f.id in set(conclusion.get("findings") or [])]
        lines += ["", "## Evidence", ""]
        for f in cited or [f for f in findings if f.severity != "info"][:8]:
            where = f" on `{f.host}`" if f.host else ""
            lines.append(f"- **{f.severity}**{where}: {f.title}")
            if f.evidence:
                evidence = f.evidence.strip().splitlines()[-1][:200].replace("`", "'")
                lines.append(f"  `{evidence}`")
        if not cited and not findings:
            lines.append("- no finding was recorded")
        for section, key in (("Remediation", "remediation"), ("Prevention", "prevention")):
            items = conclusion.get(key) or []
            if items:
                lines += ["", f"## {section}", ""] + [f"{i}. {item}" for i, item in enumerate(items, 1)]
    else:
        lines += ["# No conclusion", "", unresolved or "The walk stopped before a conclusion."]
        lines += ["", "## Findings so far", ""]
        lines += [f"- **{f.severity}**: {f.title}" for f in findings if f.severity != "info"] or ["- none"]
    lines += ["", "## The report", ""]
    lines.append("Press **p** to preview the incident report, **ctrl+s** to export it, **b** to go back to a")
    lines.append("visited node and branch again, **escape** for the main screen.")
    lines += ["", f"Journal: `{journal}`"]
    if exported:
        lines += ["", f"Report exported to: `{exported}`"]
    return "\n".join(lines)


class ConclusionScreen(Screen[None]):
    # Help and Quit first and short labels: the footer fits 80 columns
    BINDINGS = [
        Binding("question_mark", "app.help", "Help"),
        Binding("q", "app.quit", "Quit"),
        Binding("escape", "app.pop_screen", "Tree"),
        Binding("p", "app.preview", "Report"),
        Binding("ctrl+s", "app.export", "Export"),
        Binding("b", "back", "Go back"),
    ]

    def __init__(self, markdown: str) -> None:
        super().__init__()
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="conclusion-scroll"):
            yield Markdown(self.markdown, id="conclusion")
        yield Footer(show_command_palette=False, compact=True)

    def on_mount(self) -> None:
        self.sub_title = "conclusion"
        self.query_one("#conclusion-scroll").focus()

    def update(self, markdown: str) -> None:
        self.markdown = markdown
        self.query_one("#conclusion", Markdown).update(markdown)

    def action_back(self) -> None:
        self.app.pop_screen()
        self.app.call_later(self.app.run_action, "screen.back")
