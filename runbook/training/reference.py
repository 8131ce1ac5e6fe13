"""The expert's reference for an exercise: the recorded path, the shortest path, the evidence.

Everything here is computed once when a training session starts and written into the
journal's `training-start` event, so scoring never needs the scenario or the playbook again.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from runbook.playbook.model import Node, Playbook
from runbook.walk import fold_json

#: findings of these severities count as evidence a trainee should have seen
EVIDENCE_SEVERITIES = ("critical", "warning")


def edges(node: Node) -> list[str]:
    """The nodes a node may lead to: its branches and its question's choices, in order."""
    out: list[str] = []
    for goto in [b.goto for b in node.next] + [c.goto for c in (node.question.choices if node.question else [])]:
        if goto and goto not in out:
            out.append(goto)
    return out


def is_terminal(node: Node) -> bool:
    return node.conclusion is not None or node.unresolved is not None


def shortest_path(playbook: Playbook, goal: str | None, cause: str | None = None) -> list[str]:
    """Breadth-first from the start to `goal`, or to the nearest conclusion naming `cause`."""

    def reached(nid: str) -> bool:
        if goal and goal in playbook.nodes:
            return nid == goal
        node = playbook.nodes[nid]
        return cause is not None and node.conclusion is not None and node.conclusion.cause == cause

    parent: dict[str, str | None] = {playbook.start: None}
    queue = deque([playbook.start])
    while queue:
        nid = queue.popleft()
        if reached(nid):
            path = [nid]
            while (prev := parent[path[-1]]) is not None:
                path.append(prev)
            return path[::-1]
        for nxt in edges(playbook.nodes[nid]):
            if nxt in playbook.nodes and nxt not in parent:
                parent[nxt] = nid
                queue.append(nxt)
    return []


def walked_path(events: list[dict[str, Any]]) -> list[str]:
    """The path a journal ends on (what `back` and overrides set aside is not on it)."""
    return list(fold_json(events).path)


def visited(events: list[dict[str, Any]]) -> list[str]:
    """Every node entry in order, including those later set aside (backtracked)."""
    return list(fold_json(events).visits)


@dataclass
class Reference:
    scenario: str
    title: str
    description: str
    playbook: str
    expected_cause: str | None
    expected_node: str | None
    expected_hosts: list[str]
    #: the node path of the recorded incident, start to conclusion
    expert_path: list[str]
    #: the shortest way through the playbook graph from the start to the right conclusion
    shortest_path: list[str]
    #: findings the recording produced on its path: {node, id, host, severity, title, evidence}
    expert_findings: list[dict[str, Any]] = field(default_factory=list)
    #: findings the recorded conclusion cited (the key evidence)
    cited: list[str] = field(default_factory=list)
    #: live fire on the lab (the recording, if any, is a shipped scenario of the same fault)
    lab: bool = False
    #: the nodes whose checks the expert ran, in order, and the simulated time that took
    expert_runs: list[str] = field(default_factory=list)
    expert_time_s: float = 0.0
    #: what the trainee sees before the diagnosis (never the title, fault or cause)
    codename: str = ""
    briefing: str = ""
    difficulty: str = ""
    #: two-fault incidents: what the first fault hides, told in the debrief
    teaching: str = ""
    hidden_faults: list[dict[str, Any]] = field(default_factory=list)

    def to_event(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Reference:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in event.items() if k in known})

    @property
    def on_path(self) -> set[str]:
        return set(self.expert_path) | set(self.shortest_path)

    def next_after(self, node_id: str) -> str | None:
        for path in (self.expert_path, self.shortest_path):
            if node_id in path and path.index(node_id) + 1 < len(path):
                return path[path.index(node_id) + 1]
        return None

    def findings_at(self, node_id: str) -> list[dict[str, Any]]:
        return [f for f in self.expert_findings if f["node"] == node_id]

    def evidence(self) -> list[dict[str, Any]]:
        """The findings a trainee should have seen: warnings and criticals on the expert path."""
        return [f for f in self.expert_findings if f["severity"] in EVIDENCE_SEVERITIES]


def build_reference(
    playbook: Playbook,
    *,
    name: str,
    header: dict[str, Any],
    events: list[dict[str, Any]] | None = None,
    lab: bool = False,
) -> Reference:
    """The reference from a scenario's header and recorded events (none for an unrecorded lab fault)."""
    events = events or []
    walk = fold_json(events)
    path = list(walk.path)
    conclusion = walk.conclusion.as_dict() if walk.conclusion else None
    expected_node = header.get("expected_node") or (conclusion or {}).get("node")
    expected_cause = header.get("expected_cause") or (conclusion or {}).get("cause")
    if expected_node and expected_node not in playbook.nodes:
        expected_node = None
    # the findings the walk ends with (set-aside ones are not on the path's record), each once
    unique = {
        (f.node, f.id, f.host): {
            "node": f.node,
            "id": f.id,
            "host": f.host,
            "severity": f.severity,
            "title": f.title,
            "evidence": f.evidence,
        }
        for f in walk.findings
    }
    shortest = shortest_path(playbook, expected_node, expected_cause)
    from runbook.training.simclock import simulated_time

    on_path = set(path)
    results = [o.to_event() for o in walk.observations if o.node in on_path]
    faults = list(header.get("faults") or [])
    return Reference(
        scenario=name,
        title=str(header.get("title") or name),
        description=str(header.get("description") or ""),
        playbook=playbook.id,
        expected_cause=expected_cause,
        expected_node=expected_node or (shortest[-1] if shortest else None),
        expected_hosts=list(header.get("expected_hosts") or (conclusion or {}).get("hosts") or []),
        expert_path=path or shortest,
        shortest_path=shortest,
        expert_findings=list(unique.values()),
        cited=list((conclusion or {}).get("findings") or []),
        lab=lab,
        expert_runs=list(dict.fromkeys(str(e["node"]) for e in results)),
        expert_time_s=simulated_time(results, []),
        codename=str(header.get("codename") or ""),
        briefing=str(header.get("briefing") or ""),
        difficulty=str(header.get("difficulty") or ""),
        teaching=str(header.get("teaching") or ""),
        hidden_faults=faults[1:],
    )
