"""Simulated on-call time: what each check and each hint would cost a person at 3 a.m.

Running a check is logging in, typing it and reading what came back; a hint is a call to
a colleague. The recorded duration of the command is added on top.
"""

from __future__ import annotations

from typing import Any

#: seconds per node run (deciding, logging in), per command (typing, reading), per hint
NODE_S = 60.0
COMMAND_S = 30.0
HINT_S = 120.0


def simulated_time(step_results: list[dict[str, Any]], hints: list[dict[str, Any]], runs: int | None = None) -> float:
    """`runs`: how many times a node was run (default: each change of node in the results)."""
    if runs is None:
        runs = sum(1 for i, e in enumerate(step_results) if i == 0 or step_results[i - 1].get("node") != e.get("node"))
    commands = sum(COMMAND_S + float(e.get("duration_s") or 0.0) for e in step_results)
    return round(NODE_S * runs + commands + HINT_S * len(hints), 1)


def clock(seconds: float) -> str:
    """'12 min' / '1 h 05 min' for the status line and the debrief."""
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
