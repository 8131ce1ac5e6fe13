"""The fold is the one reading of a journal: the reports built from it agree with the session.

The first three tests are the wrong reports of issue 13, on the shipped demo scenario.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from runbook.journal import read_journal
from runbook.report import build_result, render_markdown
from runbook.session import Session
from runbook.wiring import RunConfig, build_session


def demo(tmp_path: Path, name: str = "j.jsonl") -> Session:
    return build_session(RunConfig(playbook="502-bad-gateway", scenario="demo", journal=str(tmp_path / name)))


def keys(findings: list[dict[str, Any]]) -> Counter[tuple[Any, Any, Any]]:
    return Counter((f["node"], f["id"], f["host"]) for f in findings)


def active(s: Session) -> Counter[tuple[Any, Any, Any]]:
    return Counter((f.node, f.id, f.host) for f in s.state.active_findings())


async def test_override_the_deciding_finding_then_run_on(tmp_path: Path) -> None:
    s = demo(tmp_path)
    s.start()
    await s.run_to_end()
    assert s.conclusion is not None
    decisive = s.conclusion["findings"][0]
    s.override(finding=decisive, reason="the engineer knows better")
    await s.run_to_end()
    s.finish()
    result = build_result(read_journal(s.journal.path))
    listed = [f for f in result["findings"] if f.get("status", "active") == "active"]
    assert keys(listed) == active(s)
    assert all(n == 1 for n in keys(listed).values()), keys(listed)
    dismissed = [f for f in result["findings"] if f["id"] == decisive]
    assert dismissed and all(f.get("status") == "dismissed" for f in dismissed)
    await s.close()


async def test_back_and_walk_again_lists_each_finding_once(tmp_path: Path) -> None:
    s = demo(tmp_path)
    s.start()
    await s.run_to_end()
    assert s.conclusion is not None
    dismissed = next(f for f in s.state.active_findings() if f.severity == "critical")
    s.override(finding=dismissed.id, reason="not what it looks like")
    await s.run_to_end()
    s.back(s.path[1])
    await s.run_to_end()
    s.finish()
    events = read_journal(s.journal.path)
    result = build_result(events)
    assert all(n == 1 for n in keys(result["findings"]).values()), keys(result["findings"])
    listed = [f for f in result["findings"] if f.get("status", "active") == "active"]
    assert keys(listed) == active(s)
    # the report never shows the dismissed finding as critical
    report = render_markdown(events)
    rows = [line for line in report.splitlines() if line.startswith("| ") and dismissed.title in line]
    assert rows and not any(line.startswith("| critical |") for line in rows), rows
    await s.close()


async def test_a_fallback_is_reported_with_the_command_that_ran(tmp_path: Path) -> None:
    s = demo(tmp_path)
    s.start()
    await s.run_to_end()
    s.finish()
    result = build_result(read_journal(s.journal.path))
    fell_back = [st for st in result["steps"] if st["check"] == "service_status"]
    assert fell_back
    for step in fell_back:
        assert step["command"].startswith("pgrep -a -x app"), step["command"]
        assert step["exit_status"] == 0  # pgrep's own, not systemctl's
    report = render_markdown(read_journal(s.journal.path))
    assert "pgrep -a -x app" in report
    await s.close()


def test_every_shipped_and_test_journal_loads_and_renders() -> None:
    from runbook.events import Event, UnknownEvent
    from runbook.walk import fold_json

    root = Path(__file__).resolve().parent.parent
    journals = sorted((root / "runbook" / "scenarios").glob("*.jsonl")) + sorted(root.glob("tests/**/*.jsonl"))
    assert len(journals) >= 9
    for path in journals:
        raw = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        events = [Event.from_json(r) for r in raw]
        assert not [e for e in events if isinstance(e, UnknownEvent)], path
        walk = fold_json(raw)
        assert walk.start is not None, path
        for r, e in zip(raw, events, strict=True):
            written = e.to_json()
            assert {k: v for k, v in written.items() if k in r} == {k: v for k, v in r.items() if k != "v"}, path
        report = render_markdown(raw)
        assert "## Findings" in report, path
        assert build_result(raw)["playbook"] == walk.start.playbook, path
