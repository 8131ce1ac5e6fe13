"""Snapshots of the main states at a fixed size (pytest-textual-snapshot).

Update after an intended change with: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import hashlib

import pytest

from .states import LAB_PLAYBOOK, LAB_PLAYBOOK_HASH, STATES, frozen

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


def test_dialog_footer_snapshot(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """With a dialog open the footer shows the dialog's keys (Choose, Close), not Run or Skip."""
    make, drive = STATES["back-dialog"]
    with frozen():
        assert snap_compare(make(), terminal_size=SIZE, run_before=drive)


def test_the_playbook_is_the_one_the_snapshots_were_recorded_with() -> None:
    """The lab scenario and the snapshots replay the real playbook: when it changes, they
    must be re-recorded (and this hash updated), or the snapshots fail without saying why."""
    recorded = LAB_PLAYBOOK_HASH.read_text().split()[0]
    now = hashlib.sha256(LAB_PLAYBOOK.read_bytes()).hexdigest()
    assert now == recorded, (
        f"{LAB_PLAYBOOK} changed since the TUI snapshots were recorded ({recorded[:12]} -> {now[:12]}): "
        "look at `pytest tests/tui/test_snapshots.py`, re-record with --snapshot-update if the change is "
        "intended (re-record tests/tui/fixtures/lab-502.jsonl too if its steps changed), then write the new "
        f"hash: sha256sum {LAB_PLAYBOOK.name} | cut -d' ' -f1 > {LAB_PLAYBOOK_HASH}"
    )
