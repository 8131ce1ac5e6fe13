"""'No such X' messages that list what exists and suggest the closest name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def unknown_name(kind: str, ref: str, known: Iterable[str]) -> str:
    """`no such playbook '502-bad-gatway'; did you mean '502-bad-gateway'? (shipped: ...)`"""
    names = sorted(set(known))
    close = difflib.get_close_matches(ref, names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(names) if names else "none"
    return f"runbook: no such {kind} {ref!r}{hint} (shipped: {listed})"
