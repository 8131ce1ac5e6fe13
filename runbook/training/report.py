"""The training report for the trainer: Markdown, sanitised and redacted like the incident report."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import jinja2

from runbook.playbook import Playbook, load_playbook
from runbook.report.markdown import md_cell, md_code, md_code_cell, md_fence, md_text
from runbook.safety import clean
from runbook.training.debrief import lessons, rows
from runbook.training.scoring import Score, reference_of, score, verdict
from runbook.training.simclock import clock
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


def trainee_of(events: list[dict[str, Any]]) -> str:
    for e in events:
        if e.get("type") in ("diagnosis", "training-start") and e.get("trainee"):
            return str(e["trainee"])
    start = next((e for e in events if e.get("type") == "session-start"), {})
    return str((start.get("incident") or {}).get("responder") or "")


def build_view(events: list[dict[str, Any]], playbook: Playbook | None = None) -> dict[str, Any]:
    playbook = playbook or playbook_of(events)
    s: Score = score(events, playbook)
    ref = reference_of(events)
    start = next((e for e in events if e.get("type") == "session-start"), {})
    expected: dict[str, Any] = {"node": ref.expected_node, "cause": ref.expected_cause, "hosts": ref.expected_hosts}
    if playbook and ref.expected_node in playbook.nodes:
        c = playbook.nodes[ref.expected_node].conclusion
        if c:
            expected.update(title=c.title, summary=" ".join(c.summary.split()))
    diagnosis = next((e for e in events if e.get("type") == "diagnosis"), None)
    view = {
        "scenario": ref.scenario,
        "codename": ref.codename or ref.scenario,
        "difficulty": ref.difficulty,
        "briefing": ref.briefing,
        "title": ref.title,
        "description": ref.description,
        "lab": ref.lab,
        "playbook": start.get("playbook_title") or ref.playbook,
        "trainee": trainee_of(events),
        "started_at": start.get("ts", ""),
        "sim_time": clock(s.time_s),
        "expert_time": clock(s.expert_time_s),
        "verdict": verdict(s),
        "score": s.to_dict(),
        "points": s.points,
        "total": s.total,
        "expected": expected,
        "diagnosis": diagnosis,
        "lessons": asdict(lessons(events, playbook, s)) if playbook else None,
        "rows": [r.__dict__ for r in rows(playbook, s)] if playbook else [],
        "notes": [e for e in events if e.get("type") == "note"],
        # why the trainee went where they went, as they wrote it
        "reasons": [
            {"to": e.get("to"), "why": str(e.get("reason"))[len("trainee: ") :]}
            for e in events
            if e.get("type") == "branch" and str(e.get("reason") or "").startswith("trainee: ")
        ],
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


def summary_record(events: list[dict[str, Any]], playbook: Playbook | None = None) -> dict[str, Any]:
    """What the class summary reads: one trainee on one exercise."""
    playbook = playbook or playbook_of(events)
    s = score(events, playbook)
    return {
        "trainee": trainee_of(events),
        "scenario": s.scenario,
        "codename": s.codename,
        "scored": s.scored,
        "total": s.total,
        "correct": s.correct,
        "hosts_right": s.hosts_right,
        "diagnosis": s.diagnosis,
        "expected_cause": s.expected_cause,
        "dead_ends": s.dead_ends,
        "pointless": s.pointless,
        "hints": len(s.hints),
        "time_s": s.time_s,
        "steps": s.steps,
    }


def write_training_report(events: list[dict[str, Any]], path: str | Path, playbook: Playbook | None = None) -> None:
    """The Markdown report, and beside it the JSON record `runbook train --summary` reads."""
    from runbook.report import write_atomic

    path = Path(path)
    write_atomic(path, render_training_report(events, playbook))
    record = json.dumps(summary_record(events, playbook), indent=2, ensure_ascii=False) + "\n"
    write_atomic(path.with_suffix(".json"), record)


def default_report_path(journal: str | Path) -> Path:
    journal = Path(journal)
    return journal.with_name(f"{journal.stem}.training.md")
