"""`runbook train --lab`: a hidden fault on the live lab, trained on real hosts over SSH."""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

import pytest

from runbook.journal import read_journal
from runbook.training.cli import live_fire
from runbook.training.scoring import score
from runbook.training.session import build_training_session

pytestmark = [pytest.mark.lab, pytest.mark.skipif(os.geteuid() != 0, reason="needs root (the live lab)")]


def test_live_fire_walk_on_the_lab(tmp_path: Path) -> None:
    from runbook.lab.lab import requirements_problem

    if problem := requirements_problem():
        pytest.skip(f"live lab unavailable: {problem}")
    journal = tmp_path / "j.jsonl"
    # seed 3 picks dns-down: a fault with no shipped recording (the reference is the shortest path)
    with live_fire(random.Random(3), str(journal)) as (cfg, reference):
        assert reference.lab and reference.expected_cause
        session = build_training_session(cfg, reference)

        async def walk() -> None:
            session.start()
            for _ in range(30):
                if session.status != "ready":
                    break
                await session.run_current()

        asyncio.run(walk())
        # the tree found the hidden fault over SSH, and kept it hidden until the diagnosis
        assert session.status == "diagnose", session.unresolved_reason
        assert session.conclusion is None
        session.diagnose(reference.expected_cause)
        assert session.conclusion and session.conclusion["cause"] == reference.expected_cause
        session.finish()
        asyncio.run(session.close())
    events = read_journal(journal)
    start = next(e for e in events if e["type"] == "session-start")
    assert start["mode"] == "live" and start["transport"] == "asyncssh"
    assert any(e["type"] == "step-result" and e["host"] == "app1" and not e.get("error") for e in events)
    assert score(events).correct
