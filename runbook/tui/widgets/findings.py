"""Findings so far: severity, host, title and the evidence line that produced them."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from rich.text import Text
from textual.widgets import DataTable

from runbook.engine import Finding
from runbook.safety import clean
from runbook.tui.model import severity_rank

SEVERITY_STYLES = {"critical": "bold red", "warning": "yellow", "info": "dim"}


class FindingsTable(DataTable[Text | str]):
    DEFAULT_CSS = """
    FindingsTable { height: 1fr; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.shown: list[tuple[str, str, str | None, bool]] = []
        self.rows_shown: list[Finding] = []

    def finding_at(self, row: int) -> Finding | None:
        return self.rows_shown[row] if 0 <= row < len(self.rows_shown) else None

    def on_mount(self) -> None:
        self.add_columns("sev", "host", "finding", "evidence", "node")

    def show(self, findings: Sequence[Finding], dismissed: AbstractSet[tuple[str, str]]) -> None:
        rows = sorted(findings, key=lambda f: (severity_rank(f.severity), f.node))
        key = [(f.node, f.id, f.host, (f.node, f.id) in dismissed) for f in rows]
        if key == self.shown:
            return
        self.shown = key
        self.rows_shown = rows
        self.clear()
        for f in rows:
            gone = (f.node, f.id) in dismissed
            style = "strike dim" if gone else SEVERITY_STYLES.get(f.severity, "")
            evidence = " ⏎ ".join(line.strip() for line in clean(f.evidence or "").splitlines() if line.strip())
            self.add_row(
                Text("overridden" if gone else f.severity, style=style),
                f.host or "-",
                Text(clean(f.title), style="strike" if gone else ""),
                Text(evidence[:160] + ("…" if len(evidence) > 160 else ""), style="dim"),
                Text(f.node, style="dim"),
            )
        self.border_title = f"Findings ({sum(1 for f in rows if (f.node, f.id) not in dismissed)})"
