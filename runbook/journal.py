"""Append-only JSONL journal of session events; crash-safe, the single source of truth.

One JSON object per line, flushed and fsync'd per event. A killed process loses at most the
line being written: `read_journal` ignores a torn last line, so resume and report work on any
prefix of a journal.

The events themselves (one frozen dataclass per `type`, with a schema version) are in
`runbook.events`; docs/journal-schema.md is generated from them.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platformdirs import user_data_dir

if TYPE_CHECKING:
    from runbook.events import Event


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def default_journal_dir() -> Path:
    return Path(user_data_dir("runbook", appauthor=False)) / "journals"


def new_journal_path(playbook_id: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    directory = default_journal_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stamp}-{playbook_id}.jsonl"
    n = 1
    while path.exists():
        n += 1
        path = directory / f"{stamp}-{playbook_id}-{n}.jsonl"
    return path


class Journal:
    """Writer: each `append` is one line, flushed and fsync'd before it returns."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._repair_tail()
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the session

    def _repair_tail(self) -> None:
        """A torn last line (killed mid-write) is cut so the next event starts on its own line."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb+") as fh:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) == b"\n":
                return
            fh.seek(0)
            data = fh.read()
            cut = data.rfind(b"\n") + 1
            fh.truncate(cut)
            fh.flush()
            os.fsync(fh.fileno())

    def append(self, event_type: str, **fields: Any) -> dict[str, Any]:
        event = {"type": event_type, "ts": fields.pop("ts", None) or utcnow(), **fields}
        self._write_line(event)
        return event

    def write(self, event: Event) -> Event:
        """Append a typed event (stamped now unless it has a time); the event as written."""
        if not event.ts:
            event = dataclasses.replace(event, ts=utcnow())
        self._write_line(event.to_json())
        return event

    def _write_line(self, event: dict[str, Any]) -> None:
        line = json.dumps(event, ensure_ascii=False, default=str)
        self._fh.write(line + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()


def iter_journal(path: str | Path) -> Iterator[dict[str, Any]]:
    """Events of a journal; a torn or corrupt line (a crash mid-write) ends the reading."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.endswith("\n"):
                return  # torn last line
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                return
            if isinstance(event, dict) and "type" in event:
                yield event


def read_journal(path: str | Path) -> list[dict[str, Any]]:
    return list(iter_journal(path))


def latest_journal() -> Path | None:
    directory = default_journal_dir()
    if not directory.is_dir():
        return None
    files = sorted(directory.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    return files[-1] if files else None
