"""Scoring: a pure function of the training journal (session events + training events).

Training events (besides the session's own):
- training-start  the Reference (reference.py): expected cause/node/hosts, expert path and
                  time, the expert's findings, codename and briefing, the trainee's name
- hint            node, level, cost, text
- diagnosis       cause, hosts, evidence [{id, host, node}], why, node (where the trainee stood)

The trainee moves with `branch` events (reason "trainee: ..."); the engine never branches.
No diagnosis, no score: a walk that was never committed scores nothing.

Points (100 at most, never below 0):
- cause 40      the expected cause
- hosts 15      the hosts at fault (share of the right set, less for each wrong host)
- evidence 15   the share of cited findings that really support the cause (0 when none cited)
- steps 15      the expert's node runs / the trainee's   } only for the right cause shown by
- time 15       the expert's simulated time / the trainee's } evidence that supports it
- penalties     3 per dead end (a node off the expert's and the shortest path that found
                nothing for the cause), 2 per check that could not matter (a node run again,
                or run off the expert path once the decisive evidence was on screen),
                each hint's cost
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from runbook.playbook.model import Playbook
from runbook.training.evidence import NO_FAULT, supports
from runbook.training.reference import Reference
from runbook.training.simclock import simulated_time
from runbook.walk import fold_json

POINTS = {"cause": 40, "hosts": 15, "evidence": 15, "steps": 15, "time": 15}
DEAD_END_COST = 3
POINTLESS_COST = 2


@dataclass
class Score:
    scenario: str
    codename: str
    expected_cause: str | None
    expected_hosts: list[str]
    diagnosis: str | None
    hosts: list[str]
    correct: bool
    hosts_right: bool
    #: cited findings ({id, host, node, supports})
    cited: list[dict[str, Any]]
    unsupported: list[dict[str, Any]]
    why: str
    trainee_visits: list[str]
    trainee_path: list[str]
    #: the nodes whose checks the trainee ran, in order (repeats included)
    runs: list[str]
    expert_path: list[str]
    expert_runs: list[str]
    shortest_path: list[str]
    steps: int
    expert_steps: int
    time_s: float
    expert_time_s: float
    dead_ends: list[str]
    pointless: list[str]
    hints: list[dict[str, Any]]
    hint_cost: int
    evidence_total: int
    evidence_seen: int
    missed: list[dict[str, Any]]
    scored: bool
    points: dict[str, int] = field(default_factory=dict)
    total: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def reference_of(events: list[dict[str, Any]]) -> Reference:
    start = next((e for e in events if e.get("type") == "training-start"), None)
    if start is None:
        raise ValueError("not a training journal: no training-start event")
    return Reference.from_event(start)


def node_runs(events: list[dict[str, Any]]) -> list[str]:
    """The node of each run: the results after one entry into a node are one run."""
    out: list[str] = []
    fresh = False
    for e in events:
        if e.get("type") == "node-enter":
            fresh = True
        elif e.get("type") == "step-result" and fresh:
            out.append(str(e.get("node")))
            fresh = False
    return out


def _ratio(good: float, got: float) -> float:
    return 1.0 if got <= good else good / got


def score(events: list[dict[str, Any]], playbook: Playbook | None = None) -> Score:
    """Score a training journal (any prefix; without a diagnosis nothing is scored)."""
    ref = reference_of(events)
    if playbook is None:
        from runbook.training.report import playbook_of

        playbook = playbook_of(events)
    diag_at = next((i for i, e in enumerate(events) if e.get("type") == "diagnosis"), None)
    walk = events if diag_at is None else events[:diag_at]
    # what the walk holds is read from the fold (runbook.walk), like every other view
    folded = fold_json(walk)
    d = fold_json(events).diagnosis
    diagnosis = d.to_json() if d is not None else None

    results = [r.result.to_json() for r in folded.steps if r.result is not None]
    runs = node_runs(walk)
    hints = [{"node": h.node, "level": h.level, "cost": h.cost, "text": h.text} for h in folded.hints]
    hint_cost = sum(h.cost for h in folded.hints)
    findings = [f.to_event() for f in (*folded.findings, *folded.set_aside)]
    seen = {(f.get("id"), f.get("host")) for f in findings}
    evidence = ref.evidence()
    missed = [f for f in evidence if (f["id"], f.get("host")) not in seen]

    cause = diagnosis.get("cause") if diagnosis else None
    hosts = sorted(diagnosis.get("hosts") or []) if diagnosis else []
    expected_hosts = sorted(ref.expected_hosts)
    correct = cause is not None and cause == ref.expected_cause
    cited = []
    for c in (diagnosis.get("evidence") or []) if diagnosis else []:
        found = next((f for f in findings if f.get("id") == c.get("id") and f.get("host") == c.get("host")), {})
        ok = bool(cause and playbook and supports(playbook, cause, str(c.get("id")), found.get("severity")))
        cited.append({**c, "title": found.get("title", ""), "evidence": found.get("evidence", ""), "supports": ok})
    unsupported = [c for c in cited if not c["supports"]]

    # dead ends and checks that could not matter
    on_path = ref.on_path
    decisive = {(f["id"], f.get("host")) for f in ref.expert_findings if f["id"] in set(ref.cited)}
    dead_ends: list[str] = []
    pointless: list[str] = []
    done: set[str] = set()
    uncovered: set[tuple[Any, Any]] = set()
    by_node: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        by_node.setdefault(str(f.get("node")), []).append(f)
    for node in runs:
        if node in done or (decisive and decisive <= uncovered and node not in on_path):
            pointless.append(node)
        elif node not in on_path:
            useful = [
                f
                for f in by_node.get(node, [])
                if playbook and ref.expected_cause and supports(playbook, ref.expected_cause, str(f.get("id")))
            ]
            if not useful:
                dead_ends.append(node)
        done.add(node)
        uncovered |= {(f.get("id"), f.get("host")) for f in by_node.get(node, [])}

    time_s = simulated_time(results, hints, len(runs))
    expert_steps = max(1, len(ref.expert_runs))
    scored = diagnosis is not None
    if scored:
        right_hosts = set(hosts) & set(expected_hosts)
        wrong_hosts = set(hosts) - set(expected_hosts)
        if not expected_hosts:
            host_share = 0.0 if wrong_hosts else 1.0
        else:
            host_share = max(0.0, (len(right_hosts) - len(wrong_hosts)) / len(expected_hosts))
        supported = [c for c in cited if c["supports"]]
        # speed counts only for a diagnosis shown by evidence: a quick guess earns nothing for being quick
        earned = 1.0 if correct and supported else 0.0
        points = {
            "cause": POINTS["cause"] if correct else 0,
            "hosts": round(POINTS["hosts"] * host_share) if correct or cause == NO_FAULT else 0,
            "evidence": round(POINTS["evidence"] * len(supported) / len(cited)) if cited and correct else 0,
            "steps": round(earned * POINTS["steps"] * _ratio(expert_steps, max(1, len(runs)))),
            "time": round(earned * POINTS["time"] * _ratio(max(ref.expert_time_s, 1.0), max(time_s, 1.0))),
            "dead_ends": -DEAD_END_COST * len(dead_ends),
            "pointless": -POINTLESS_COST * len(pointless),
            "hints": -hint_cost,
        }
        total = max(0, min(100, sum(points.values())))
    else:
        points, total = {}, 0
    return Score(
        scenario=ref.scenario,
        codename=ref.codename,
        expected_cause=ref.expected_cause,
        expected_hosts=expected_hosts,
        diagnosis=cause,
        hosts=hosts,
        correct=correct,
        hosts_right=scored and hosts == expected_hosts,
        cited=cited,
        unsupported=unsupported,
        why=str((diagnosis or {}).get("why") or ""),
        trainee_visits=list(folded.visits),
        trainee_path=list(folded.path),
        runs=runs,
        expert_path=ref.expert_path,
        expert_runs=ref.expert_runs,
        shortest_path=ref.shortest_path,
        steps=len(runs),
        expert_steps=expert_steps,
        time_s=time_s,
        expert_time_s=ref.expert_time_s,
        dead_ends=dead_ends,
        pointless=pointless,
        hints=hints,
        hint_cost=hint_cost,
        evidence_total=len(evidence),
        evidence_seen=len(evidence) - len(missed),
        missed=missed,
        scored=scored,
        points=points,
        total=total,
    )


def verdict(s: Score) -> str:
    if s.diagnosis is None:
        return "No diagnosis was committed: nothing is scored."
    if not s.correct:
        return f"Wrong cause: {s.diagnosis}, the incident was {s.expected_cause}."
    if not s.hosts_right:
        return "Right cause, but not the right hosts."
    if s.unsupported:
        return "Right cause and hosts, but some cited evidence does not support it."
    if s.total >= 90:
        return "Right cause, right hosts, and a clean walk."
    return "Right cause and hosts."
