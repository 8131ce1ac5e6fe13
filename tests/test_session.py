"""Session intents against real local commands: cancel, skip, back, override, notes, mutating steps."""

from __future__ import annotations

import asyncio
from pathlib import Path

from runbook.events import Event, HostStateChanged, NodeEntered, SessionStarted, StepFinished, StepOutput
from runbook.journal import read_journal
from runbook.session import Session
from runbook.wiring import RunConfig, build_session
from tests.conftest import FIXTURES


def session(tmp_path: Path, playbook: str = "mini.yaml", **variables: str) -> Session:
    cfg = RunConfig(
        playbook=str(FIXTURES / playbook),
        inventory=str(FIXTURES / "local-inventory.yaml"),
        transport="local",
        journal=str(tmp_path / "j.jsonl"),
        variables=dict(variables),
    )
    return build_session(cfg)


def kinds(s: Session) -> list[str]:
    return [e["type"] for e in read_journal(s.journal.path)]


async def test_cancel_records_cancelled_steps_and_stays_on_the_node(tmp_path: Path) -> None:
    s = session(tmp_path, nap_s="30")
    s.start()
    await s.run_current()  # first -> wait
    assert s.current == "wait"
    task = asyncio.create_task(s.run_current())
    await asyncio.sleep(0.5)
    assert s.cancel()
    assert await asyncio.wait_for(task, 5) == "cancelled"
    assert s.current == "wait" and s.status == "ready"
    results = [e for e in read_journal(s.journal.path) if e["type"] == "step-result" and e["check"] == "nap"]
    assert [r["error"]["kind"] for r in results] == ["cancelled", "cancelled"]
    await s.close()


async def test_skip_back_and_notes(tmp_path: Path) -> None:
    s = session(tmp_path, nap_s="0")
    s.start()
    s.note("users in EU see 502 since 03:12")
    await s.run_current()
    s.skip("we know they are rested")
    assert s.current == "ask" and s.status == "question"
    await s.answer("yes")
    assert s.conclusion and s.conclusion["cause"] == "gateway-misconfigured"
    s.back("ask")
    assert s.conclusion is None and s.current == "ask"
    await s.answer("no")
    assert s.conclusion and s.conclusion["cause"] == "no-fault-found"
    events = read_journal(s.journal.path)
    assert {"note", "skip", "back", "answer"} <= {e["type"] for e in events}
    assert next(e for e in events if e["type"] == "note")["node"] == "first"
    await s.close()


async def test_override_dismisses_a_finding_and_rebranches(tmp_path: Path) -> None:
    s = session(tmp_path, nap_s="0", greeting="hi")  # 'hello' rule will not match, no 'quiet' either
    s.start()
    await s.run_current()
    assert s.current == "wait"
    s.override(goto="end-bad", reason="I know the deploy broke it")
    assert s.conclusion and s.conclusion["node"] == "end-bad"
    overrides = [e for e in read_journal(s.journal.path) if e["type"] == "override"]
    assert overrides[0]["verdict"] == "branch" and overrides[0]["reason"] == "I know the deploy broke it"
    await s.close()


async def test_mutating_step_never_runs_without_a_yes(tmp_path: Path) -> None:
    marker = tmp_path / "touched"
    s = session(tmp_path, "mutating.yaml", marker=str(marker))
    s.start()
    await s.run_current()  # no way to ask: refused
    assert not marker.exists()
    refused = [e for e in read_journal(s.journal.path) if e["type"] == "mutating-refused"]
    assert refused and refused[0]["commands"] == [f"touch {marker}"]
    await s.close()

    asked: list[list[str]] = []

    async def confirm(steps):
        asked.append([st.command for st in steps])
        return True

    s2 = session(tmp_path / "2", "mutating.yaml", marker=str(marker))
    s2.confirm_mutating = confirm
    s2.start()
    await s2.run_current()
    assert asked == [[f"touch {marker}"]] and marker.exists()
    await s2.close()


async def test_read_only_refuses_even_when_confirmed(tmp_path: Path) -> None:
    marker = tmp_path / "touched"
    cfg = RunConfig(
        playbook=str(FIXTURES / "mutating.yaml"),
        inventory=str(FIXTURES / "local-inventory.yaml"),
        transport="local",
        journal=str(tmp_path / "j.jsonl"),
        variables={"marker": str(marker)},
        read_only=True,
    )

    async def yes(steps):
        return True

    s = build_session(cfg, confirm_mutating=yes)
    s.start()
    await s.run_current()
    assert not marker.exists()
    result = next(e for e in read_journal(s.journal.path) if e["type"] == "step-result")
    assert result["error"]["kind"] == "refused" and "read-only" in result["error"]["message"]
    await s.close()


def test_fanout_summary_counts_hosts_of_the_role() -> None:
    from runbook.engine import Finding, Observation
    from runbook.playbook import load_playbook
    from runbook.session import fanout_summaries

    node = load_playbook(FIXTURES / "mini.yaml").nodes["first"]
    observations = [
        Observation(step_id=f"s{i}", node="first", check="hello", host=f"web{i}", command="x") for i in range(1, 13)
    ]
    findings = [
        Finding(id="quiet", node="first", severity="warning", title="t", host=h, check="hello")
        for h in ("web3", "web7")
    ]
    (summary,) = fanout_summaries(node, observations, findings)
    assert summary["text"] == "2 of 12 backend hosts: web3, web7 - quiet"
    assert summary["of"] == 12 and summary["hosts"] == ["web3", "web7"]
    # info findings and single-host checks are not summarised
    info = [Finding(id="said_hello", node="first", severity="info", title="t", host="web1", check="hello")]
    assert fanout_summaries(node, observations, info) == []
    assert fanout_summaries(node, observations[:1], findings[:1]) == []


def test_a_role_nobody_has_is_warned_about(tmp_path: Path) -> None:
    inv = tmp_path / "inv.yaml"
    inv.write_text("hosts:\n  db1: {address: 127.0.0.1, roles: [database]}\n")
    cfg = RunConfig(
        playbook=str(FIXTURES / "mini.yaml"), inventory=str(inv), transport="local", journal=str(tmp_path / "j.jsonl")
    )
    s = build_session(cfg)
    s.start()
    warnings = [e for e in read_journal(s.journal.path) if e["type"] == "inventory-warning"]
    assert [w["role"] for w in warnings] == ["backend"]
    s.journal.close()


async def test_a_failing_listener_is_a_journaled_warning(tmp_path: Path) -> None:
    s = session(tmp_path, nap_s="0")

    def broken(event: Event) -> None:
        if isinstance(event, NodeEntered):
            raise RuntimeError("widget gone")

    s.subscribe(broken)
    s.start()
    await s.run_current()
    warnings = [e for e in read_journal(s.journal.path) if e["type"] == "warning"]
    assert warnings and all("widget gone" in w["message"] and w["source"] == "listener" for w in warnings)
    assert s.current == "wait"  # the walk went on
    await s.close()


async def test_listeners_receive_typed_events_and_the_journal_keeps_their_json(tmp_path: Path) -> None:
    s = session(tmp_path, nap_s="0")
    got: list[Event] = []
    s.subscribe(got.append)
    s.start()
    await s.run_current()
    assert got and all(isinstance(e, Event) for e in got)
    assert isinstance(got[0], SessionStarted)
    assert any(isinstance(e, StepOutput) and "hello from" in e.text for e in got)
    assert {e.result.host for e in got if isinstance(e, StepFinished)} == {"web1", "web2"}
    # what was journaled reached the listeners as the same events, in the same order
    journaled = [e.to_json() for e in got if not isinstance(e, (StepOutput, HostStateChanged))]
    assert journaled == read_journal(s.journal.path)
    await s.close()
