"""Scoring: a pure function of the training journal (session events + training events).

Training events (besides the session's own):
- training-start     the Reference (see reference.py): scenario, expected cause/node/hosts,
                     expert_path, shortest_path, expert_findings, cited, lab
- hint               node, level, cost, text
- conclusion-held    node: the tree reached a conclusion; it stays hidden until a diagnosis
- diagnosis          cause, node (where the trainee stood), held (the tree had concluded)

Points (100 at most, never below 0):
- diagnosis   50 when the cause is the expected one, else 0
- efficiency  up to 30: the shortest path's steps / the steps the trainee took (not fewer)
- evidence    up to 20: the share of the expert's evidence (warnings, criticals) the trainee saw
- penalties   4 per wrong turn (a node off the expert and shortest paths), 2 per backtrack,
              each hint's cost
Time (start to diagnosis) is reported, not scored: a trainee should not rush a diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runbook.training.reference import Reference
from runbook.walk import fold_json

POINTS_CAUSE = 50
POINTS_EFFICIENCY = 30
POINTS_EVIDENCE = 20
WRONG_TURN_COST = 4
BACKTRACK_COST = 2


@dataclass
class Score:
    scenario: str
    expected_cause: str | None
    diagnosis: str | None
    correct: bool
    #: every node the trainee entered, in order (backtracked ones included)
    trainee_visits: list[str]
    #: the path the trainee ended on
    trainee_path: list[str]
    expert_path: list[str]
    shortest_path: list[str]
    #: investigation steps: node entries before the diagnosis, conclusions excluded
    steps: int
    shortest_steps: int
    wrong_turns: list[str]
    backtracks: int
    skipped: list[str]
    overrides: int
    hints: list[dict[str, Any]]
    hint_cost: int
    evidence_total: int
    evidence_seen: int
    missed: list[dict[str, Any]]
    duration_s: float | None
    held: bool
    points: dict[str, int] = field(default_factory=dict)
    total: int = 0

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def _ts(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def reference_of(events: list[dict[str, Any]]) -> Reference:
    start = next((e for e in events if e.get("type") == "training-start"), None)
    if start is None:
        raise ValueError("not a training journal: no training-start event")
    return Reference.from_event(start)


def score(events: list[dict[str, Any]]) -> Score:
    """Score a training journal (any prefix: a walk without a diagnosis scores no cause points)."""
    ref = reference_of(events)
    diag_at = next((i for i, e in enumerate(events) if e.get("type") == "diagnosis"), None)
    walk = events if diag_at is None else events[:diag_at]
    diagnosis = events[diag_at] if diag_at is not None else None

    folded = fold_json(walk)
    visits = list(folded.visits)
    path = list(folded.path)
    terminal = {ref.expected_node} | {c.node for c in folded.conclusions}
    steps = len([n for n in visits if n not in terminal])
    shortest_steps = max(1, len(ref.shortest_path) - 1)
    on_path = ref.on_path
    wrong = list(dict.fromkeys(n for n in visits if n not in on_path and n not in terminal))
    backtracks = len(folded.backs)
    skipped = [k.node for k in folded.skips]
    overrides = len(folded.overrides)
    given = fold_json(events).hints
    hints: list[dict[str, Any]] = [{"node": h.node, "level": h.level, "cost": h.cost, "text": h.text} for h in given]
    hint_cost = sum(h.cost for h in given)

    # what the trainee saw: every finding of the walk, on the path or set aside since
    seen = {(f.id, f.host) for f in (*folded.findings, *folded.set_aside)}
    evidence = ref.evidence()
    missed = [f for f in evidence if (f["id"], f.get("host")) not in seen]

    cause = diagnosis.get("cause") if diagnosis else None
    correct = cause is not None and cause == ref.expected_cause
    start = _ts(next((e.get("ts") for e in events if e.get("type") == "session-start"), None))
    end = _ts((diagnosis or (events[-1] if events else {})).get("ts"))
    duration = (end - start).total_seconds() if start and end else None

    points = {
        "cause": POINTS_CAUSE if correct else 0,
        "efficiency": round(POINTS_EFFICIENCY * min(1.0, shortest_steps / max(steps, 1))) if diagnosis else 0,
        "evidence": round(POINTS_EVIDENCE * (len(evidence) - len(missed)) / len(evidence))
        if evidence
        else POINTS_EVIDENCE,
        "wrong_turns": -WRONG_TURN_COST * len(wrong),
        "backtracks": -BACKTRACK_COST * backtracks,
        "hints": -hint_cost,
    }
    total = max(0, min(100, sum(points.values())))
    return Score(
        scenario=ref.scenario,
        expected_cause=ref.expected_cause,
        diagnosis=cause,
        correct=correct,
        trainee_visits=visits,
        trainee_path=path,
        expert_path=ref.expert_path,
        shortest_path=ref.shortest_path,
        steps=steps,
        shortest_steps=shortest_steps,
        wrong_turns=wrong,
        backtracks=backtracks,
        skipped=skipped,
        overrides=overrides,
        hints=hints,
        hint_cost=hint_cost,
        evidence_total=len(evidence),
        evidence_seen=len(evidence) - len(missed),
        missed=missed,
        duration_s=duration,
        held=bool(diagnosis and diagnosis.get("held")),
        points=points,
        total=total,
    )


def verdict(s: Score) -> str:
    if s.diagnosis is None:
        return "No diagnosis was committed."
    if not s.correct:
        return f"Wrong cause: {s.diagnosis}, the incident was {s.expected_cause}."
    if s.total >= 90:
        return "Right cause, and a clean walk."
    return "Right cause."
