"""Can this journal be resumed, and from where? Checks made before anything is appended to it.

- its end must be readable (appending after a corrupt last line would bury it for good);
- a session that already ended is not resumed again (no second session-end);
- the node it stopped at must still exist in the playbook (the playbook may have been edited
  since); if not, it says so and offers the last node on the path that still exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook.events import NodeEntered, WentBack
from runbook.journal import Journal, JournalScan
from runbook.safety import say


class NotResumable(Exception):
    """A message for the engineer (exit 2)."""


@dataclass
class MissingNode:
    node: str
    fallback: str | None  # the last node on the path that the playbook still has


def ended(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The session-end event, if the session ended and nothing was walked after it."""
    for event in reversed(events):
        if event.get("type") == "session-end":
            return event
        if event.get("type") == "node-enter":
            return None
    return None


def check_tail(path: str | Path, scan: JournalScan) -> None:
    if not scan.tail_ok:
        raise NotResumable(
            f"{path}: the end of the journal could not be read (see the skipped line above);"
            " refusing to append to it. `runbook report` still renders what could be read."
        )


def missing_node(events: list[dict[str, Any]], node_ids: set[str]) -> MissingNode | None:
    """The node the journal stopped at, when the playbook no longer has it."""
    path: list[str] = []
    for event in events:
        kind, node = event.get("type"), event.get("node")
        if kind == "node-enter" and isinstance(node, str):
            path.append(node)
        elif kind == "back" and event.get("to") in path:
            del path[path.index(event["to"]) :]
    if not path or path[-1] in node_ids:
        return None
    fallback = next((n for n in reversed(path) if n in node_ids), None)
    return MissingNode(path[-1], fallback)


def missing_message(path: str | Path, playbook: str, missing: MissingNode) -> str:
    where = f"{path}: the session stopped at node {missing.node!r}, which playbook {playbook} no longer has"
    if missing.fallback is None:
        return where + "; no node on its path still exists, so it cannot be resumed (start a new run)"
    return (
        where + f" (was it edited since?). The last node on the path that still exists is"
        f" {missing.fallback!r}: run `runbook resume {path} --from-last-existing-node` to go on from there."
    )


def rewind(path: str | Path, node_id: str, node: Any) -> None:
    """Record going back to `node` (a playbook Node) and entering it again, so the walk
    continues from there; the journal keeps everything that happened before."""
    journal = Journal(path)
    try:
        journal.write(WentBack(to=node_id))
        journal.write(
            NodeEntered(
                node=node_id,
                title=node.title,
                kind=node.kind,
                why=node.why.strip(),
                reason="resumed here: the node the session stopped at is no longer in the playbook",
            )
        )
    finally:
        journal.close()


class AlreadyEnded(Exception):
    def __init__(self, message: str, status: str):
        super().__init__(message)
        self.status = status


@dataclass
class Resumable:
    events: list[dict[str, Any]]
    warnings: list[str]


def resumable(path: str | Path, *, from_last_existing: bool = False) -> Resumable:
    """The events to resume from, after every check above; NotResumable or AlreadyEnded if not."""
    from runbook.journal import scan_journal
    from runbook.playbook import load_playbook
    from runbook.wiring import config_from_journal

    try:
        scan = scan_journal(path)
    except OSError as exc:
        raise NotResumable(f"cannot read {path}: {exc.strerror or exc}") from exc
    for warning in scan.warnings:
        say(warning)
    check_tail(path, scan)
    if scan.path_lost:
        raise NotResumable(
            f"{scan.path_lost[0]}: cannot resume, the path through the playbook is unknown from there on"
            f" (`runbook report {path}` still renders what could be read)"
        )
    end = ended(scan.events)
    if end is not None:
        status = str(end.get("status") or "aborted")
        raise AlreadyEnded(
            f"{path} already ended ({status}); nothing to resume (`runbook report {path}` renders it)", status
        )
    start = next((e for e in scan.events if e.get("type") == "session-start"), None)
    if start is not None and not any(isinstance(start.get(k), str) and start[k] for k in ("playbook_path", "playbook")):
        raise NotResumable(f"{path}: its session-start names no playbook; nothing to resume")
    try:
        cfg = config_from_journal(scan.events, str(path))
    except ValueError as exc:
        raise NotResumable(str(exc)) from exc
    playbook = load_playbook(cfg.playbook)
    missing = missing_node(scan.events, set(playbook.nodes))
    if missing is not None:
        if not from_last_existing or missing.fallback is None:
            raise NotResumable(missing_message(path, cfg.playbook, missing))
        rewind(path, missing.fallback, playbook.nodes[missing.fallback])
        gone = f"runbook: {missing.node!r} is gone from the playbook; going on from {missing.fallback!r}"
        say(gone)
        scan = scan_journal(path)
    return Resumable(scan.events, scan.warnings)
