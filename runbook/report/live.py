"""The report of a journal that is still growing (the TUI's preview and export).

Cleaning every string of every event (control characters, secrets) is most of what a report
costs, and a live session renders its report again and again while its journal only grows. So
each event is cleaned once, when it is first read; the report itself is still the fold of the
whole journal (report.view -> runbook.walk), byte for byte what `runbook report` writes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from runbook.journal import read_journal
from runbook.report.markdown import render_markdown
from runbook.report.view import scrub_events


class LiveReport:
    """Thread-safe: a worker may catch up in the background while another renders."""

    def __init__(self, path: str | Path, template_path: str | Path | None = None) -> None:
        self.path = Path(path)
        self.template_path = template_path
        self._raw_count = 0
        self._events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def catch_up(self) -> list[dict[str, Any]]:
        """Clean the events appended since the last call; all of them, cleaned, in order."""
        with self._lock:
            raw = read_journal(self.path)
            if len(raw) < self._raw_count:  # not the journal it was (replaced): start over
                self._raw_count, self._events = 0, []
            self._events.extend(scrub_events(raw[self._raw_count :]))
            self._raw_count = len(raw)
            return list(self._events)

    def markdown(self, extra: Iterable[dict[str, Any]] = ()) -> str:
        """The report now; `extra` events (not journaled yet) are appended after the journal's."""
        events = self.catch_up() + scrub_events(list(extra))
        return render_markdown(events, self.template_path, scrubbed=True)
