"""What the screen shows, computed from the session: tree layout, node states, labels.

A plain module (no textual, no rich) so the logic is tested without a terminal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runbook.playbook.model import Node, Playbook
    from runbook.session import Session

#: node states, in the words the tree legend uses
STATES = ("pending", "current", "running", "finding", "clear", "skipped", "overridden", "concluded", "unconcluded")

ICONS = {
    "pending": "○",
    "current": "▶",
    "running": "◌",
    "finding": "●",
    "clear": "✓",
    "skipped": "»",
    "overridden": "✎",
    "concluded": "■",
    "unconcluded": "?",
}


def default_target(node: Node) -> str | None:
    """Where a node goes when nothing special is found (its last, unconditional branch)."""
    if node.question:
        return next((c.goto for c in node.question.choices if c.value == node.question.default), None) or next(
            (b.goto for b in node.next if b.when is None), None
        )
    return next((b.goto for b in node.next if b.when is None), None)


def targets(node: Node) -> list[str]:
    out: list[str] = []
    weighed = [c.goto for c in node.weigh.candidates] + [node.weigh.otherwise] if node.weigh else []
    for goto in (
        [b.goto for b in node.next]
        + weighed
        + [c.goto for c in (node.question.choices if node.question else []) if c.goto]
    ):
        if goto and goto not in out:
            out.append(goto)
    return out


def layout(playbook: Playbook) -> list[tuple[str, str | None]]:
    """(node, parent) in display order: the default path reads top to bottom at one level;
    other branches hang under the node that takes them. Unreachable nodes come last."""
    placed: set[str] = set()
    out: list[tuple[str, str | None]] = []

    def chain(start: str) -> list[str]:
        nodes: list[str] = []
        nid: str | None = start
        while nid and nid in playbook.nodes and nid not in placed and nid not in nodes:
            nodes.append(nid)
            nid = default_target(playbook.nodes[nid])
        return nodes

    def place(start: str, parent: str | None) -> None:
        spine = chain(start)
        placed.update(spine)
        for nid in spine:
            out.append((nid, parent))
            for t in targets(playbook.nodes[nid]):
                if t not in placed and t in playbook.nodes:
                    place(t, nid)

    place(playbook.start, None)
    for nid in playbook.nodes:
        if nid not in placed:
            placed.add(nid)
            out.append((nid, None))
    return out


def node_state(session: Session, node_id: str) -> str:
    """A node's state in the tree; skipped and overridden come from the folded walk."""
    if node_id == session.current:
        if session.status == "running":
            return "running"
        if session.status == "concluded":
            return "concluded"
        if session.status in ("unconcluded", "inconclusive"):
            return "unconcluded"
        return "current"
    if node_id not in session.path:
        return "pending"
    if node_id in session.walk.overridden:
        return "overridden"
    if node_id in session.walk.skipped:
        return "skipped"
    serious = [f for f in session.walk.active_findings() if f.node == node_id and f.severity != "info"]
    return "finding" if serious else "clear"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{seconds // 60:.0f} m {seconds % 60:.0f} s"


def result_summary(event: dict[str, Any]) -> tuple[str, str]:
    """(status word, short text) of a step-result event: ok, failed, error, timeout, refused, cancelled."""
    err = event.get("error")
    took = fmt_duration(event.get("duration_s"))
    if err:
        kind = err.get("kind", "error")
        word = kind if kind in ("cancelled", "refused") else "error"
        return word, f"{kind}: {err.get('message', '')}"
    if event.get("timed_out"):
        return "timeout", f"timed out after {took}"
    code = event.get("exit_status")
    http = (event.get("data") or {}).get("http_code")
    extra = f", HTTP {http}" if http else ""
    return ("ok" if code == 0 else "failed"), f"exit {code}{extra} · {took}"


def severity_rank(severity: str) -> int:
    return {"critical": 0, "warning": 1, "info": 2}.get(severity, 3)


def branch_why(to: str | None, reason: str, cited: list[Any]) -> str:
    """Why the walk went where it went, in one line: "→ gateway-config because log_refused on app1"."""
    if to is None:
        return f"■ the walk stops here: {reason}"
    if reason.startswith(("skipped", "override", "answered")):
        return f"→ {to} ({reason})"
    if cited:
        seen: list[str] = []
        for f in cited:
            text = f"{f.id} on {f.host}" if f.host else f.id
            if text not in seen:
                seen.append(text)
        why = f"→ {to} because {', '.join(seen)}"
        if reason and not reason.startswith("because"):
            why += f": {reason}"
        return why
    if reason == "no earlier branch applied":
        return f"→ {to}: nothing found here decides the cause yet, so the walk goes on to the next check"
    return f"→ {to} {reason}" if reason.startswith("because") else f"→ {to}: {reason}"
