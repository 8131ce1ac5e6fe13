"""The hint policy: three levels per node, each more telling and more costly, never the cause.

1. why this step matters (the node's `why`);
2. what the recorded incident found here (its warnings and criticals), or that the expert
   never came here and where to go back to;
3. where the expert went next (or that the evidence so far is enough to commit).

A hint is recorded as a `hint` event {node, level, cost, text}; scoring only reads the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from runbook.playbook.model import Playbook
from runbook.training.reference import EVIDENCE_SEVERITIES, Reference, is_terminal

#: points each level costs
HINT_COSTS = {1: 3, 2: 6, 3: 10}
MAX_LEVEL = max(HINT_COSTS)


@dataclass
class Hint:
    node: str
    level: int
    cost: int
    text: str

    def to_event(self) -> dict[str, object]:
        return {"node": self.node, "level": self.level, "cost": self.cost, "text": self.text}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def next_level(hints_so_far: list[dict[str, object]], node_id: str) -> int | None:
    """The level the next hint at this node would be, or None when all were given."""
    given = [int(str(h.get("level") or 0)) for h in hints_so_far if h.get("node") == node_id]
    level = max(given, default=0) + 1
    return level if level <= MAX_LEVEL else None


def make_hint(ref: Reference, playbook: Playbook, node_id: str, level: int, path: list[str]) -> Hint:
    """The hint of `level` for the trainee standing at `node_id` having walked `path`."""
    node = playbook.nodes[node_id]
    if level == 1:
        why = _one_line(node.why) or f"{node.title}: look at what each command shows before moving on."
        text = f"Why this step: {why}"
    elif level == 2:
        text = _recorded_findings(ref, node_id, path)
    else:
        nxt = ref.next_after(node_id)
        if node_id not in ref.on_path:
            text = _way_back(ref, path)
        elif nxt is None or is_terminal(playbook.nodes.get(nxt, node)):
            text = "Where next: the expert concluded right after this step. What you have seen is enough: commit."
        else:
            title = playbook.nodes[nxt].title if nxt in playbook.nodes else nxt
            text = f"Where next: from here the expert went to {nxt} ({title})."
    return Hint(node=node_id, level=level, cost=HINT_COSTS[level], text=text)


def _recorded_findings(ref: Reference, node_id: str, path: list[str]) -> str:
    if node_id not in ref.on_path:
        return "In the recorded incident the expert never came here. " + _way_back(ref, path)
    found = [f for f in ref.findings_at(node_id) if f["severity"] in EVIDENCE_SEVERITIES]
    if not found:
        if not ref.expert_findings and ref.lab:
            return "This fault has no recording to compare with: read each host's output for errors."
        return "In the recorded incident this step found nothing wrong: the trouble is elsewhere."
    lines = [f"- {f['severity']}" + (f" on {f['host']}" if f.get("host") else "") + f": {f['title']}" for f in found]
    return "In the recorded incident this step found:\n" + "\n".join(lines)


def _way_back(ref: Reference, path: list[str]) -> str:
    good = [n for n in path if n in ref.on_path]
    if good:
        return f"Go back (b) to {good[-1]} and look again at what it showed."
    return f"Start again from {ref.shortest_path[0] if ref.shortest_path else 'the start'}."
