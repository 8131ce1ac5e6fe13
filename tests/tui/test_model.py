"""The plain modules behind the screen: tree layout, node states, result words, follow."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

from runbook.engine import PlannedStep
from runbook.follow import follow
from runbook.inventory import Host
from runbook.playbook import load_playbook
from runbook.playbook.model import CheckSpec
from runbook.transports.local import LocalTransport
from runbook.tui.model import layout, node_state, result_summary
from runbook.wiring import build_session

from .conftest import LAB_PLAYBOOK, LOCAL_PLAYBOOK, lab_config, local_config

ROOT = Path(__file__).resolve().parents[2]
IMPORTS_TEXTUAL = re.compile(r"^\s*(from|import)\s+(textual|rich)(\.|\s|$)", re.MULTILINE)


def test_layout_keeps_the_default_path_flat_and_hangs_other_branches() -> None:
    rows = dict(layout(load_playbook(str(LAB_PLAYBOOK))))
    assert rows["symptom"] is None and rows["gateway-log"] is None and rows["diagnose"] is None
    assert rows["cause-backend-down"] == "backend-health"
    assert rows["load-probe"] == "symptom"  # symptom first: a gateway that answers well is probed at once
    assert rows["cause-network-blocked"] == "firewall-verdict"  # its first way in: the measured verdict
    assert set(rows) == set(load_playbook(str(LAB_PLAYBOOK)).nodes)


def test_layout_of_a_question_node() -> None:
    rows = layout(load_playbook(str(LOCAL_PLAYBOOK)))
    assert rows[0] == ("look", None)
    assert ("ask", "look") in rows and ("not-fixed", "fix") in rows


async def test_node_states_follow_the_session(tmp_path: Path) -> None:
    session = build_session(lab_config(tmp_path / "j.jsonl"))
    session.start()
    assert node_state(session, "symptom") == "current"
    assert node_state(session, "gateway-log") == "pending"
    await session.run_current()  # symptom: the gateway answers 502
    assert node_state(session, "symptom") == "finding"
    session.skip("not now")
    assert node_state(session, "backend-health") == "skipped"
    await session.run_current()  # the gateway's log: connections to the old port refused
    assert node_state(session, "gateway-log") == "finding"
    session.back("backend-health")
    assert node_state(session, "backend-health") == "current"
    assert node_state(session, "gateway-log") == "pending"
    await session.close()


def test_result_summary_words() -> None:
    assert result_summary({"exit_status": 0, "duration_s": 0.012}) == ("ok", "exit 0 · 12 ms")
    assert result_summary({"exit_status": 3, "duration_s": 1.5})[0] == "failed"
    assert result_summary({"timed_out": True, "duration_s": 4})[0] == "timeout"
    assert result_summary({"error": {"kind": "cancelled", "message": "x"}})[0] == "cancelled"
    assert result_summary({"error": {"kind": "unreachable", "message": "no route"}}) == (
        "error",
        "unreachable: no route",
    )


async def test_follow_streams_until_stopped(tmp_path: Path) -> None:
    log = tmp_path / "error.log"
    log.write_text("")
    check = CheckSpec(id="log", on="local", shell="true", follow="tail -n 0 -F x")
    step = PlannedStep(
        key="n/log/local",
        node="n",
        check=check,
        host=Host(name="local", address="localhost"),
        command="true",
        kind="shell",
        follow=f"tail -n 0 -F {log}",
    )
    seen: list[str] = []
    stop = asyncio.Event()
    task = asyncio.ensure_future(follow(step, LocalTransport(), stop, lambda _s, text: seen.append(text)))
    await asyncio.sleep(0.5)
    with log.open("a") as fh:
        fh.write("connect() failed (111: Connection refused)\n\x1b[31mred\x1b[0m\n")
    for _ in range(100):
        if "red" in "".join(seen):
            break
        await asyncio.sleep(0.05)
    stop.set()
    result = await task
    assert "Connection refused" in "".join(seen)
    assert "\x1b" not in "".join(seen)
    assert result.lines == 2 and "red" in result.tail[-1]
    assert "2 new log lines" in result.summary()


def test_nothing_outside_the_tui_imports_textual() -> None:
    code = (
        "import sys, runbook.cli, runbook.session, runbook.headless, runbook.report, runbook.engine;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "runbook").rglob("*.py")
        if "tui" not in p.parts and IMPORTS_TEXTUAL.search(p.read_text())
    ]
    assert offenders == []


def test_local_fixture_is_a_valid_playbook(tmp_path: Path) -> None:
    session = build_session(local_config(tmp_path / "j.jsonl"))
    assert [s.mutating for s in session.engine.plan("fix", session.state)] == [True]
