"""Property tests of the one reducer (bounded): the fold of a journal is the live session's
state at every prefix, and the JSON result and the report agree with it."""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runbook.events import Event, HostStateChanged, StepOutput
from runbook.journal import read_journal
from runbook.report import build_result, render_markdown
from runbook.scenario import shipped_scenarios
from runbook.session import Session
from runbook.walk import FindingStatus, WalkState, fold_json
from runbook.wiring import RunConfig, build_session

SCENARIOS = [s.name for s in shipped_scenarios()]


def check_views(events: list[dict[str, Any]]) -> None:
    """The JSON lists each finding once, marks the inactive ones, and the report agrees."""
    walk = fold_json(events)
    result = build_result(events)
    # a finding is one rule firing on one step's result (a foreach check may fire per item)
    listed = Counter((f["node"], f["id"], f["host"], f["step_id"]) for f in result["findings"])
    assert all(n == 1 for n in listed.values()), listed
    active = Counter((f["node"], f["id"], f["host"]) for f in result["findings"] if f["status"] == "active")
    assert active == Counter((f.node, f.id, f.host) for f in walk.active_findings())
    assert not [
        f
        for f in walk.finding_records()
        if f[1] == FindingStatus.SET_ASIDE and (f[0].node, f[0].id, f[0].host) in active
    ]
    for f in result["findings"]:
        # on the path, a dismissed finding says so (off it, it is set aside either way)
        if (f["node"], f["id"]) in walk.dismissed and f["status"] != FindingStatus.SET_ASIDE:
            assert f["status"] == FindingStatus.DISMISSED
    report = render_markdown(events)
    table = report.split("## Supporting information", 1)[1].split("\n## ", 1)[0]  # the findings table
    rows = [r for r in table.splitlines() if r.startswith("| ") and not r.startswith("| Severity")]
    assert len(rows) == len(result["findings"])
    assert sum(1 for r in rows if re.match(r"\| (dismissed|set aside)", r)) == sum(
        1 for f in result["findings"] if f["status"] != "active"
    )
    assert (result["conclusion"] or {}).get("cause") == (walk.conclusion.cause if walk.conclusion else None)


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_prefix_of_a_shipped_scenario(name: str, tmp_path: Path) -> None:
    scenario = next(s for s in shipped_scenarios() if s.name == name)
    events = scenario.events
    for i in range(1, len(events) + 1):
        walk = fold_json(events[:i])
        assert walk.path == tuple(e["node"] for e in events[:i] if e["type"] == "node-enter")
        assert len(walk.findings) == sum(1 for e in events[:i] if e["type"] == "finding")
    # the views are costly (every string is redacted): a sample of prefixes, and the whole
    for i in [*range(1, len(events), 7), len(events)]:
        check_views(events[:i])
    # resuming any prefix is the fold of that prefix, plus what resume itself journals
    for i in range(2, len(events) + 1, 5):
        journal = tmp_path / f"{i}.jsonl"
        journal.write_text("".join(__import__("json").dumps(e) + "\n" for e in events[:i]))
        cfg = RunConfig(playbook="502-bad-gateway", scenario=name, journal=str(journal))
        s = build_session(cfg, resume_events=read_journal(journal))
        assert s.walk == fold_json(read_journal(journal)), i
        s.journal.close()


class Recorder:
    """The live session's state after each journaled event."""

    def __init__(self, session: Session):
        self.session = session
        self.states: list[WalkState] = []
        session.subscribe(self)

    def __call__(self, event: Event) -> None:
        if not isinstance(event, (StepOutput, HostStateChanged)):  # announced, not journaled
            self.states.append(self.session.walk)


ACTIONS = st.lists(
    st.one_of(
        st.just(("run",)),
        st.just(("skip",)),
        st.tuples(st.just("back"), st.integers(0, 12)),
        st.tuples(st.just("dismiss"), st.integers(0, 20)),
        st.tuples(st.just("goto"), st.integers(0, 40)),
        st.tuples(st.just("note"), st.text(min_size=0, max_size=12)),
        st.tuples(st.just("draft"), st.text(min_size=0, max_size=12)),
    ),
    min_size=1,
    max_size=14,
)


async def walk_randomly(s: Session, actions: list[tuple[Any, ...]]) -> None:
    s.start()
    nodes = list(s.playbook.nodes)
    for action in actions:
        kind = action[0]
        if kind == "run":
            await s.run_to_end(max_nodes=3)
        elif kind == "skip":
            s.skip("random walk")
        elif kind == "back" and s.path:
            s.back(s.path[action[1] % len(s.path)])
        elif kind == "dismiss":
            found = s.state.active_findings()
            if found:
                s.override(finding=found[action[1] % len(found)].id, reason="random walk")
        elif kind == "goto":
            s.override(goto=nodes[action[1] % len(nodes)], reason="random walk")
        elif kind == "note":
            s.note(action[1])
        elif kind == "draft":
            s.note_draft(action[1])
    s.finish()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=ACTIONS, scenario=st.sampled_from(["demo", "firewall", "healthy"]))
def test_random_walks_fold_to_the_live_state(actions: list[tuple[Any, ...]], scenario: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = RunConfig(playbook="502-bad-gateway", scenario=scenario, journal=str(Path(tmp) / "j.jsonl"))
        s = build_session(cfg)
        recorder = Recorder(s)
        asyncio.run(walk_randomly(s, actions))
        events = read_journal(s.journal.path)
        s.journal.close()
        assert len(events) == len(recorder.states)
        for i in range(1, len(events) + 1):
            assert fold_json(events[:i]) == recorder.states[i - 1], (i, events[i - 1]["type"])
        # the session's own view is the fold
        final = fold_json(events)
        assert (s.status, s.current, s.path) == (final.status, final.current, list(final.path))
        for i in range(1, len(events), max(1, len(events) // 3)):
            check_views(events[:i])
        check_views(events)
