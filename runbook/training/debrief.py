"""The debrief as data: the tree with the trainee's path beside the expert's, row by row.

Shared by the debrief screen (runbook.tui.training_debrief) and the Markdown report.
"""

from __future__ import annotations

from dataclasses import dataclass

from runbook.playbook.model import Playbook
from runbook.training.reference import edges
from runbook.training.scoring import Score


@dataclass
class Row:
    node: str
    title: str
    depth: int
    kind: str
    #: the trainee's step numbers at this node ("" when never entered)
    trainee: str
    #: the expert's step number ("" when not on the expert path)
    expert: str
    wrong_turn: bool
    skipped: bool
    #: the expected conclusion (revealed in the debrief)
    expected: bool
    #: the node the trainee's walk had reached when the diagnosis was committed
    diagnosed_at: bool
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
    expert = {n: i for i, n in enumerate(score.expert_path, 1)}
    missed: dict[str, int] = {}
    for f in score.missed:
        missed[f["node"]] = missed.get(f["node"], 0) + 1
    at = score.trainee_path[-1] if score.trainee_path else None
    out = []
    for nid, depth in tree_order(playbook):
        node = playbook.nodes[nid]
        steps = [str(i) for i, n in enumerate(score.trainee_visits, 1) if n == nid]
        out.append(
            Row(
                node=nid,
                title=node.title,
                depth=depth,
                kind=node.kind,
                trainee=",".join(steps),
                expert=str(expert[nid]) if nid in expert else "",
                wrong_turn=nid in score.wrong_turns,
                skipped=nid in score.skipped,
                expected=nid == (score.expert_path[-1] if score.expert_path else None),
                diagnosed_at=nid == at and score.diagnosis is not None,
                missed=missed.get(nid, 0),
            )
        )
    return out


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds // 60:.0f} min {seconds % 60:.0f} s"
