"""Shipped scenarios: listed, valid, and each replays to the conclusion it was recorded with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from runbook.scenario import shipped_scenarios
from tests.conftest import runbook_cmd

SCENARIOS = shipped_scenarios()


def test_demo_is_shipped_and_listed() -> None:
    result = runbook_cmd("scenarios")
    assert result.returncode == 0
    names = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert "demo" in names
    assert len(names) == len(SCENARIOS) >= 8


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_replays_to_its_recorded_conclusion(scenario, tmp_path: Path) -> None:
    assert runbook_cmd("validate", str(scenario.path)).returncode == 0
    out = tmp_path / "R.json"
    result = runbook_cmd(
        "run",
        "502-bad-gateway",
        "--scenario",
        scenario.name,
        "--headless",
        "--json",
        str(out),
        "--journal",
        str(tmp_path / "j.jsonl"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    conclusion = json.loads(out.read_text())["conclusion"]
    assert conclusion["cause"] == scenario.expected_cause
    assert conclusion["hosts"] == scenario.header["expected_hosts"]
    assert conclusion["node"] == scenario.header["expected_node"]


def test_headless_demo_writes_json_and_a_clean_report(tmp_path: Path) -> None:
    out_json, out_md = tmp_path / "R.json", tmp_path / "R.md"
    result = runbook_cmd(
        "run",
        "502-bad-gateway",
        "--scenario",
        "demo",
        "--headless",
        "--json",
        str(out_json),
        "--report",
        str(out_md),
        "--journal",
        str(tmp_path / "j.jsonl"),
    )
    assert result.returncode == 0, result.stderr
    assert "▶ symptom" in result.stderr  # progress lines as steps run
    data = json.loads(out_json.read_text())
    assert set(data) >= {"playbook", "started_at", "finished_at", "conclusion", "findings", "steps"}
    assert data["playbook"] == "502-bad-gateway"
    assert data["conclusion"]["cause"] == "gateway-misconfigured" and data["conclusion"]["hosts"] == ["gw1"]
    for step in data["steps"]:
        assert set(step) >= {"node", "host", "command", "exit_status", "started_at", "duration_s", "output_excerpt"}
    for finding in data["findings"]:
        assert set(finding) >= {"id", "host", "severity", "title", "evidence"}

    text = out_md.read_text()
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(text)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    for wanted in ("Summary", "Impact", "Timeline", "Root cause", "Action items"):
        assert any(wanted.lower() in h.lower() for h in headings), headings
    fences = [t for t in tokens if t.type == "fence"]
    assert any("nginx" in t.content for t in fences)  # the gateway's real output is in a code block
    assert "\x1b" not in text
    # every command that ran is in the report
    for step in data["steps"]:
        assert step["command"].split()[0] in text


def test_unknown_scenario_is_a_usage_error() -> None:
    result = runbook_cmd("run", "502-bad-gateway", "--scenario", "nope", "--headless")
    assert result.returncode == 2
    assert "no such scenario" in result.stderr
