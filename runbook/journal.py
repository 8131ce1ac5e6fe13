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
from dataclasses import dataclass, field
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


def private_dir(directory: Path) -> None:
    """Create `directory` (and missing parents) 0700 whatever the umask; journals hold raw output."""
    missing = []
    d = directory
    while not d.exists() and d != d.parent:
        missing.append(d)
        d = d.parent
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for d in missing:  # mkdir's mode is masked by the umask: set it outright
        os.chmod(d, 0o700)


def new_journal_path(playbook_id: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    directory = default_journal_dir()
    private_dir(directory)
    os.chmod(directory, 0o700)  # ours alone, even if an older runbook made it 0755
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
        private_dir(self.path.parent)
        self._repair_tail()
        # 0600 whatever the umask: the journal keeps remote output unredacted (resume, replay)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)
        self._fh = open(fd, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the session

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


@dataclass
class JournalScan:
    """What reading a journal found: its events, the lines it had to skip, and whether its end
    was readable (a journal whose last complete line is corrupt must not be appended to)."""

    events: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tail_ok: bool = True
    #: skipped lines that leave the path through the playbook unknown (a resume must refuse)
    path_lost: list[str] = field(default_factory=list)


def _event_of(line: str) -> tuple[dict[str, Any] | None, str]:
    try:
        event = json.loads(line)
    except (ValueError, RecursionError) as exc:  # RecursionError: 100k nested brackets
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        return None, f"not JSON ({reason})"
    if not isinstance(event, dict):
        return None, f"a JSON {type(event).__name__}, not an event object"
    if not isinstance(event.get("type"), str) or not event["type"]:
        return None, "an object without a string 'type'"
    if event["type"] == "node-enter" and (not isinstance(event.get("node"), str) or not event["node"]):
        # every fold and the engine look the node up by name: one without a name has no place in the walk
        return None, "a node-enter event without a node name"
    return event, ""


def scan_journal(path: str | Path) -> JournalScan:
    """Read every event of a journal. A corrupt line in the middle is skipped with a warning
    (`file:line: ...`) and reading goes on; a torn last line (killed mid-write, no newline) is
    dropped silently. OSError (a missing or unreadable file) is the caller's to report."""
    scan = JournalScan()
    bad_at_end = False
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            if not line.endswith("\n"):
                break  # torn last line: Journal cuts it before appending
            line = line.strip()
            if not line:
                continue
            event, problem = _event_of(line)
            if event is None:
                scan.warnings.append(f"{path}:{number}: skipped a corrupt journal line: {problem}")
                if problem.startswith("a node-enter"):
                    scan.path_lost.append(f"{path}:{number}: {problem}")
                bad_at_end = True
                continue
            bad_at_end = False
            scan.events.append(event)
    scan.tail_ok = not bad_at_end
    return scan


def iter_journal(path: str | Path) -> Iterator[dict[str, Any]]:
    """Events of a journal; corrupt lines are skipped (see `scan_journal` for the warnings)."""
    yield from scan_journal(path).events


def read_journal(path: str | Path) -> list[dict[str, Any]]:
    return scan_journal(path).events


def latest_journal() -> Path | None:
    directory = default_journal_dir()
    if not directory.is_dir():
        return None
    files = sorted(directory.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    return files[-1] if files else None
