"""Training tests: journals in a private data dir; replayed shipped scenarios."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from runbook.journal import read_journal
from runbook.playbook import load_playbook
from runbook.training.session import Training, build_training, pick_scenario, reference_for, scenario_config
from tests.tui.conftest import settle, wait_for  # noqa: F401 - shared with the TUI tests


@pytest.fixture(autouse=True)
def _private_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


def training(name: str, journal: Path, trainee: str = "ann") -> Training:
    scenario = pick_scenario(name)
    playbook = load_playbook(str(scenario.header["playbook"]))
    t = build_training(scenario_config(scenario, str(journal)), reference_for(scenario, playbook), trainee)
    t.session.start()
    return t


def investigate(t: Training, nodes: list[str]) -> None:
    """Run the current node, then each node named, in order (the trainee's choices)."""

    async def go() -> None:
        await t.session.run_current()
        for node in nodes:
            t.choose(node)
            await t.session.run_current()

    asyncio.run(go())


def cite(t: Training, *ids: str) -> list[tuple[str, str | None]]:
    return [(f.id, f.host) for f in t.uncovered() if f.id in ids]


def events(t: Training) -> list[dict[str, Any]]:
    return read_journal(t.session.journal.path)
