"""Snapshots of the main states at a fixed size (pytest-textual-snapshot).

Update after an intended change with: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest

from runbook.tui.states import STATES, frozen

SIZE = (120, 36)


@pytest.mark.parametrize(
    "state", ["start", "running", "finding", "question", "conclusion", "report", "result", "finding-detail"]
)
def test_state_snapshot(state: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    make, drive = STATES[state]
    with frozen():
        app = make()
        assert snap_compare(app, terminal_size=SIZE, run_before=drive)


def test_narrow_terminal_snapshot(snap_compare) -> None:  # type: ignore[no-untyped-def]
    make, drive = STATES["finding"]
    with frozen():
        assert snap_compare(make(), terminal_size=(80, 24), run_before=drive)


@pytest.mark.parametrize("state", ["result", "finding-detail", "conclusion"])
def test_80x24_snapshot(state: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    """The step result, the finding detail and the footer after the conclusion fit 80x24."""
    make, drive = STATES[state]
    with frozen():
        assert snap_compare(make(), terminal_size=(80, 24), run_before=drive)
