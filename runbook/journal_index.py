"""The sessions on this machine, from their journals: what `runbook journals` and `resume` read.

Only the head (the session-start line) and the tail (the last event) of each journal are
read, so listing stays fast with many sessions kept.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook.journal import default_journal_dir

#: how much of a journal's end is read to find its last event
TAIL_BYTES = 64 * 1024


@dataclass(frozen=True)
class JournalInfo:
    path: Path
    started_at: str
    playbook: str
    #: live (real hosts), replay (the demo or a scenario), training
    kind: str
    #: unfinished, or how it ended (concluded, unconcluded, aborted)
    status: str
    #: the node of the last node-enter seen in the tail
    node: str
    title: str
    mtime: float

    @property
    def unfinished(self) -> bool:
        return self.status == "unfinished"

    @property
    def real(self) -> bool:
        return self.kind == "live"


def _lines(data: bytes) -> list[dict[str, Any]]:
    out = []
    for raw in data.split(b"\n"):
        try:
            event = json.loads(raw)
        except ValueError:
            continue
        if isinstance(event, dict) and "type" in event:
            out.append(event)
    return out


def describe(path: Path) -> JournalInfo | None:
    """One journal's summary; None when it is not a runbook session journal."""
    try:
        with open(path, "rb") as fh:
            head = _lines(fh.read(TAIL_BYTES))
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - TAIL_BYTES))
            tail = _lines(fh.read())
        mtime = path.stat().st_mtime
    except OSError:
        return None
    start = next((e for e in head if e["type"] == "session-start"), None)
    if start is None:
        return None
    training = (
        any(e["type"] == "training-start" for e in head) or (start.get("incident") or {}).get("severity") == "training"
    )
    kind = "training" if training else ("replay" if start.get("mode") == "replay" else "live")
    end = next((e for e in reversed(tail) if e["type"] == "session-end"), None)
    last_enter: dict[str, Any] = next((e for e in reversed(tail + head) if e["type"] == "node-enter"), {})
    return JournalInfo(
        path=path,
        started_at=str(start.get("ts", "")),
        playbook=str(start.get("playbook", "")),
        kind=kind,
        status=str(end.get("status", "ended")) if end else "unfinished",
        node=str(last_enter.get("node", "")),
        title=str((start.get("incident") or {}).get("title", "")),
        mtime=mtime,
    )


def list_journals(directory: Path | None = None) -> list[JournalInfo]:
    """Every session journal in the directory: unfinished first, then the newest first."""
    directory = directory or default_journal_dir()
    if not directory.is_dir():
        return []
    found = [info for p in directory.glob("*.jsonl") if (info := describe(p)) is not None]
    return sorted(found, key=lambda i: (not i.unfinished, -i.mtime))


def latest_unfinished_real(directory: Path | None = None) -> JournalInfo | None:
    """What `runbook resume` picks: the newest unfinished session on real hosts (never a demo
    or a training run)."""
    return next((i for i in list_journals(directory) if i.unfinished and i.real), None)
