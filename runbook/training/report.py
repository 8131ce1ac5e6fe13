"""The training report for the trainer: Markdown, sanitised and redacted like the incident report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from runbook.playbook import Playbook, load_playbook
from runbook.report.markdown import md_cell, md_code, md_code_cell, md_fence, md_text
from runbook.safety import clean
from runbook.training.debrief import fmt_duration, rows
from runbook.training.scoring import Score, reference_of, score, verdict
from runbook.walk import fold_json
from runbook.yamlsource import SourceError

TEMPLATE = "training.md.j2"


def _clean(value: Any) -> Any:
    """Every string in a view goes through sanitize + redact before it reaches the template."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def playbook_of(events: list[dict[str, Any]]) -> Playbook | None:
    start = next((e for e in events if e.get("type") == "session-start"), {})
    for ref in (start.get("playbook_path"), start.get("playbook")):
        if ref:
            try:
                return load_playbook(str(ref))
            except (SourceError, OSError, ValueError):
                continue
    return None


def build_view(events: list[dict[str, Any]], playbook: Playbook | None = None) -> dict[str, Any]:
    s: Score = score(events)
    ref = reference_of(events)
    playbook = playbook or playbook_of(events)
    start = next((e for e in events if e.get("type") == "session-start"), {})
    folded = fold_json(events).conclusion  # the one the walk ended on (an override may undo one)
    conclusion = folded.to_json() if folded else None
    expected: dict[str, Any] = {"node": ref.expected_node, "cause": ref.expected_cause, "hosts": ref.expected_hosts}
    if playbook and ref.expected_node in playbook.nodes:
        c = playbook.nodes[ref.expected_node].conclusion
        if c:
            expected.update(title=c.title, summary=" ".join(c.summary.split()))
    diagnosis = next((e for e in events if e.get("type") == "diagnosis"), None)
    view = {
        "scenario": ref.scenario,
        "title": ref.title,
        "description": ref.description,
        "lab": ref.lab,
        "playbook": start.get("playbook_title") or ref.playbook,
        "trainee": (start.get("incident") or {}).get("responder") or "",
        "started_at": start.get("ts", ""),
        "duration": fmt_duration(s.duration_s),
        "verdict": verdict(s),
        "score": s.to_dict(),
        "points": s.points,
        "total": s.total,
        "expected": expected,
        "diagnosis": diagnosis,
        "tree_conclusion": conclusion,
        "rows": [r.__dict__ for r in rows(playbook, s)] if playbook else [],
        "notes": [e for e in events if e.get("type") == "note"],
    }
    return _clean(view)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("runbook.training", "templates"),
        autoescape=False,  # Markdown: the md filters escape
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md_text, cell=md_cell, code=md_code, code_cell=md_code_cell, fence=md_fence)
    return env


def render_training_report(events: list[dict[str, Any]], playbook: Playbook | None = None) -> str:
    view = build_view(events, playbook)
    return _environment().get_template(TEMPLATE).render(**view).rstrip("\n") + "\n"


def default_report_path(journal: str | Path) -> Path:
    journal = Path(journal)
    return journal.with_name(f"{journal.stem}.training.md")
