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
    # an http check on a host reports the curl that ran there, with curl's own exit status
    inside = [st for st in result["steps"] if st["check"] == "health_inside"]
    assert inside and all(st["command"].startswith("curl -sS -m 4 -w ") for st in inside)
    assert all(st["exit_status"] == 0 for st in inside)
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
            # "v" is the journal's format version, stamped when a line is written
            assert {k: v for k, v in written.items() if k in r and k != "v"} == {
                k: v for k, v in r.items() if k != "v"
            }, path
        report = render_markdown(raw)
        assert "## Supporting information" in report, path  # the findings table
        assert build_result(raw)["playbook"] == walk.start.playbook, path


OLD = Path(__file__).resolve().parent / "fixtures" / "journals" / "main-08c439c-demo-walk.jsonl"


def test_a_journal_written_before_typed_events_folds_as_main_read_it(tmp_path: Path) -> None:
    """Written by main at 08c439c (notes, overrides, back, a draft, skip, host key): the fold
    gives what that version's own replay gave (its path, status, conclusion, evidence)."""
    from runbook.walk import fold_json

    events = read_journal(OLD)
    assert not any("v" in e for e in events)
    walk = fold_json(events)
    assert list(walk.path) == [
        "symptom", "backend-health", "gateway-log", "gateway-config", "upstream-dns", "upstream-reach",
        "firewall", "direct-vs-gateway", "diagnose", "gateway-log", "gateway-config", "upstream-dns",
        "upstream-reach", "firewall", "direct-vs-gateway", "diagnose", "cause-gateway-misconfigured",
    ]  # fmt: skip
    assert walk.status == "concluded" and walk.conclusion and walk.conclusion.cause == "gateway-misconfigured"
    assert len(walk.active_findings()) == 16 and walk.dismissed == {("gateway-config", "config_target_unknown")}
    assert walk.draft is not None and walk.draft.text == "half a thought"
    # resume reads it too, and the report command renders it
    journal = tmp_path / "old.jsonl"
    journal.write_bytes(OLD.read_bytes())
    s = build_session(
        RunConfig(playbook="502-bad-gateway", scenario="demo", journal=str(journal)), resume_events=events
    )
    assert s.walk == walk and s.current == "cause-gateway-misconfigured"
    s.journal.close()


def test_runbook_report_renders_every_journal(tmp_path: Path) -> None:
    from tests.conftest import runbook_cmd

    root = Path(__file__).resolve().parent.parent
    journals = sorted((root / "runbook" / "scenarios").glob("*.jsonl")) + sorted(root.glob("tests/**/*.jsonl"))
    for path in journals:
        out = tmp_path / f"{path.stem}.md"
        done = runbook_cmd("report", str(path), "-o", str(out))
        assert done.returncode == 0, (path, done.stderr)
        assert "## Supporting information" in out.read_text(), path
