"""Training tests: journals in a private data dir; replayed shipped scenarios."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from runbook.journal import read_journal
from runbook.playbook import load_playbook
from runbook.training.session import (
    TrainingSession,
    build_training_session,
    pick_scenario,
    reference_for,
    scenario_config,
)
from tests.tui.conftest import settle, wait_for  # noqa: F401 - shared with the TUI tests


@pytest.fixture(autouse=True)
def _private_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


def training_session(name: str, journal: Path) -> TrainingSession:
    scenario = pick_scenario(name)
    playbook = load_playbook(str(scenario.header["playbook"]))
    return build_training_session(scenario_config(scenario, str(journal)), reference_for(scenario, playbook))


def walk(session: TrainingSession, *, until: str | None = None, max_nodes: int = 40) -> None:
    """Run nodes until the tree holds its conclusion (or the walk reaches `until`)."""

    async def go() -> None:
        for _ in range(max_nodes):
            if session.status != "ready" or session.current == until:
                return
            await session.run_current()

    asyncio.run(go())


def events(session: TrainingSession) -> list[dict[str, Any]]:
    return read_journal(session.journal.path)
