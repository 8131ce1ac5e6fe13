"""`runbook train --lab`: a hidden fault on the live lab, trained on real hosts over SSH."""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

import pytest

from runbook.journal import read_journal
from runbook.lab.lab import Lab
from runbook.training.cli import live_fire
from runbook.training.scoring import score
from runbook.training.session import build_training

pytestmark = [pytest.mark.lab, pytest.mark.skipif(os.geteuid() != 0, reason="needs root (the live lab)")]


def test_live_fire_walk_on_the_lab(lab: Lab, tmp_path: Path) -> None:
    # `lab` (tests/conftest.py): live_fire finds it up, and the session takes it down after
    journal = tmp_path / "j.jsonl"
    # seed 3 picks dns-down (recorded as an exercise: the reference is its expert walk)
    with live_fire(random.Random(3), str(journal)) as (cfg, reference):
        assert reference.lab and reference.expected_cause
        t = build_training(cfg, reference, "live trainee")
        session = t.session

        async def walk() -> None:
            session.start()
            await session.run_current()
            for node in reference.expert_runs[1:] or ["backend-health", "gateway-log"]:
                t.choose(node)
                await session.run_current()

        asyncio.run(walk())
        # the gate held every branch: the engine never moved, nothing concluded over SSH
        assert session.status == "decide" and session.conclusion is None
        assert not any(e["type"] == "branch" and "trainee" not in e["reason"] for e in read_journal(journal))
        t.diagnose(reference.expected_cause, reference.expected_hosts, [], "seen live")
        assert session.conclusion and session.conclusion["cause"] == reference.expected_cause
        session.finish()
        asyncio.run(session.close())
    events = read_journal(journal)
    start = next(e for e in events if e["type"] == "session-start")
    assert start["mode"] == "live" and start["transport"] == "asyncssh"
    assert any(e["type"] == "step-result" and e["host"] == "app1" and not e.get("error") for e in events)
    s = score(events)
    assert s.correct and s.hosts_right
