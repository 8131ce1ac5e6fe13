"""Helpers for the TUI tests: apps on replayed or local fixtures, journals in tmp dirs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runbook.journal import read_journal
from runbook.wiring import RunConfig

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LAB_SCENARIO = FIXTURES / "lab-502.jsonl"
LAB_PLAYBOOK = FIXTURES.parents[2] / "playbooks" / "502-bad-gateway.yaml"  # hash checked in test_snapshots
LOCAL_PLAYBOOK = FIXTURES / "local.yaml"
LOCAL_INVENTORY = FIXTURES / "local-inventory.yaml"
LOCAL_REPLAY = FIXTURES / "local-replay.jsonl"


def lab_config(journal: Path, **kw: Any) -> RunConfig:
    return RunConfig(playbook=str(LAB_PLAYBOOK), scenario=str(LAB_SCENARIO), journal=str(journal), **kw)


def local_config(journal: Path, **kw: Any) -> RunConfig:
    return RunConfig(
        playbook=str(LOCAL_PLAYBOOK),
        inventory=str(LOCAL_INVENTORY),
        transport="local",
        journal=str(journal),
        **kw,
    )


def local_replay_config(journal: Path, **kw: Any) -> RunConfig:
    return RunConfig(playbook=str(LOCAL_PLAYBOOK), scenario=str(LOCAL_REPLAY), journal=str(journal), **kw)


async def settle(pilot: Any, app: Any, rounds: int = 3) -> None:
    """Let workers finish and the screen catch up."""
    for _ in range(rounds):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


async def wait_for(pilot: Any, predicate: Any, timeout: float = 10.0) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)


def events_of(app: Any, kind: str) -> list[dict[str, Any]]:
    return [e for e in read_journal(app.session.journal.path) if e["type"] == kind]


@pytest.fixture(autouse=True)
def _private_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
