"""The debrief as data: the tree with the trainee's path beside the expert's, row by row.

Shared by the debrief screen (runbook.tui.training_debrief) and the Markdown report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runbook.playbook.model import Playbook
from runbook.safety import clean
from runbook.training.evidence import needed_for, quote, rules_out
from runbook.training.reference import edges
from runbook.training.scoring import Score, reference_of


@dataclass
class Row:
    node: str
    title: str
    depth: int
    kind: str
    #: the trainee's run numbers at this node ("" when never run)
    trainee: str
    #: the expert's run number ("" when not on the expert path)
    expert: str
    dead_end: bool
    pointless: bool
    #: the expected conclusion (revealed in the debrief)
    expected: bool
    #: the conclusion the trainee chose
    chosen: bool
    missed: int


def tree_order(playbook: Playbook) -> list[tuple[str, int]]:
    """(node, depth): the default way reads top to bottom; other branches hang one level in."""
    placed: set[str] = set()
    out: list[tuple[str, int]] = []

    def default(nid: str) -> str | None:
        node = playbook.nodes[nid]
        nxt = next((b.goto for b in node.next if b.when is None), None)
        if node.question and nxt is None:
            nxt = next((c.goto for c in node.question.choices if c.value == node.question.default), None)
        return nxt

    def place(start: str, depth: int) -> None:
        spine: list[str] = []
        nid: str | None = start
        while nid and nid in playbook.nodes and nid not in placed and nid not in spine:
            spine.append(nid)
            nid = default(nid)
        placed.update(spine)
        for nid in spine:
            out.append((nid, depth))
            for t in edges(playbook.nodes[nid]):
                if t in playbook.nodes and t not in placed:
                    place(t, depth + 1)

    place(playbook.start, 0)
    out += [(nid, 0) for nid in playbook.nodes if nid not in placed]
    return out


def rows(playbook: Playbook, score: Score) -> list[Row]:
    expert = {n: i for i, n in enumerate(score.expert_runs, 1)}
    missed: dict[str, int] = {}
    for f in score.missed:
        missed[f["node"]] = missed.get(f["node"], 0) + 1
    chosen = score.trainee_path[-1] if score.scored and score.trainee_path else None
    expected = score.expert_path[-1] if score.expert_path else None
    out = []
    for nid, depth in tree_order(playbook):
        node = playbook.nodes[nid]
        runs = [str(i) for i, n in enumerate(score.runs, 1) if n == nid]
        out.append(
            Row(
                node=nid,
                title=node.title,
                depth=depth,
                kind=node.kind,
                trainee=",".join(runs),
                expert=str(expert[nid]) if nid in expert else "",
                dead_end=nid in score.dead_ends,
                pointless=nid in score.pointless,
                expected=nid == expected,
                chosen=nid == chosen and node.conclusion is not None,
                missed=missed.get(nid, 0),
            )
        )
    return out


@dataclass
class Quoted:
    """A finding with the output lines that show it."""

    id: str
    host: str | None
    node: str
    severity: str
    title: str
    lines: list[str]


@dataclass
class Lessons:
    #: for a wrong cause: what rules the trainee's cause out, and what points at the right one
    against: list[Quoted]
    pointing: list[Quoted]
    #: cited findings that do not support the cause named, and what each does show
    unsupported: list[Quoted]
    #: for a wrong cause: the findings that would have supported it (none was found)
    needed: list[str]
    #: the expert's runs: (node, title, what it found)
    faster: list[tuple[str, str, str]]
    why: str
    teaching: str


def _quoted(f: dict[str, Any]) -> Quoted:
    return Quoted(
        id=str(f.get("id")),
        host=f.get("host"),
        node=str(f.get("node")),
        severity=str(f.get("severity") or ""),
        title=clean(str(f.get("title") or "")),
        lines=quote(f.get("evidence")),
    )


def lessons(events: list[dict[str, Any]], playbook: Playbook, score: Score) -> Lessons:
    ref = reference_of(events)
    outputs = {e.get("step_id"): e for e in events if e.get("type") == "step-result"}
    walk_findings = []
    for e in events:
        if e.get("type") != "finding":
            continue
        if not str(e.get("evidence") or "").strip() and e.get("step_id") in outputs:
            # a finding without its own evidence text: the output of the step that produced it
            r = outputs[e["step_id"]]
            e = {**e, "evidence": (r.get("stdout") or "") + (r.get("stderr") or "")}
        walk_findings.append(e)
    known = {(f.get("id"), f.get("host")): f for f in ref.expert_findings + walk_findings}
    against: list[Quoted] = []
    pointing: list[Quoted] = []
    if score.scored and not score.correct and score.diagnosis:
        against = [_quoted(f) for f in known.values() if rules_out(playbook, score.diagnosis, f, score.hosts)][:4]
        cited = set(ref.cited)
        key = [f for f in ref.expert_findings if f["id"] in cited] or ref.evidence()
        pointing = [_quoted(f) for f in key][:3]
    unsupported = [_quoted({**known.get((c["id"], c.get("host")), {}), **c}) for c in score.unsupported]
    faster = []
    for nid in ref.expert_runs:
        found = [f for f in ref.expert_findings if f["node"] == nid and f["severity"] != "info"]
        what = "; ".join(clean(str(f["title"])) for f in found) or "nothing wrong here"
        faster.append((nid, playbook.nodes[nid].title if nid in playbook.nodes else nid, what))
    needed = needed_for(playbook, score.diagnosis) if score.scored and not score.correct and score.diagnosis else []
    return Lessons(against, pointing, unsupported, needed, faster, score.why, ref.teaching)
