"""`runbook train --list`, scenario validation with file:line, `scenario from-journal` (redacted)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from runbook.journal import Journal
from runbook.scenario import parse_scenario, shipped_scenarios
from runbook.training import cli as train_cli
from runbook.training.exercises import DIFFICULTIES
from runbook.training.from_journal import journal_to_scenario
from runbook.training.session import check_scenario, training_scenarios
from runbook.yamlsource import SourceError
from tests.conftest import runbook_cmd
from tests.training.leaks import leaks_of

SECRET_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvcHMifQ.c2lnbmF0dXJlLXNlY3JldA"
PRIVATE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "-----END OPENSSH PRIVATE KEY-----"
)


def test_train_list_shows_codename_difficulty_duration_and_nothing_that_answers() -> None:
    result = runbook_cmd("train", "--list")
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    pool = training_scenarios()
    assert len(rows) == len(pool) >= 12
    assert sorted(r[0] for r in rows) == sorted(s.header["codename"] for s in pool)
    assert all(r[1] in DIFFICULTIES and r[2].startswith("~") and r[2].endswith("min") for r in rows)
    for s in pool:  # no title, fault, cause or conclusion: not even a word of them
        for secret in leaks_of(s):
            assert secret not in result.stdout, (s.name, secret)
    assert "demo" not in result.stdout


def test_training_set_has_healthy_two_fault_and_every_difficulty() -> None:
    pool = training_scenarios()
    causes = [s.header["expected_cause"] for s in pool]
    assert causes.count("no-fault-found") >= 2
    two = [s for s in pool if len(s.header.get("faults") or []) == 2]
    assert len(two) >= 2 and all(s.header.get("teaching") for s in two)
    assert {s.header["difficulty"] for s in pool} == set(DIFFICULTIES)
    # difficulty is measured from the expert's walk, not set by hand
    from runbook.training.record import measured_difficulty, symptoms

    symptom = symptoms("502-bad-gateway")
    for s in pool:
        measured = measured_difficulty(s.events, len(s.header.get("faults") or []), symptom)
        assert s.header["difficulty"] == measured["difficulty"], s.name
        assert s.header["expert_steps"] == measured["expert_steps"] and "distractors" in s.header
    # the healthy exercises are different setups, not the same lab twice
    healthy = [
        (s.header["fault"], s.header.get("site", "names-runtime"))
        for s in pool
        if s.header["expected_cause"] == "no-fault-found"
    ]
    assert len(set(healthy)) == len(healthy) >= 3, healthy
    assert len(pool) >= 12
    # a trainee may look anywhere: every investigation node has a recording
    for s in pool:
        swept = {e["node"] for e in s.events if e["type"] == "sweep-result"}
        assert {"backend-health", "gateway-log", "firewall", "load-probe"} <= swept, s.name


def test_every_shipped_scenario_can_train() -> None:
    for s in shipped_scenarios():
        assert check_scenario(s) == [], s.name


def test_broken_scenario_reports_file_and_line(tmp_path: Path) -> None:
    good = shipped_scenarios()[0].path.read_text().splitlines()
    broken = tmp_path / "broken.jsonl"
    lines = [good[0], good[1], "{not json", json.dumps({"no_type": 1}), json.dumps({"type": "step-result"})]
    broken.write_text("\n".join(lines) + "\n")
    result = runbook_cmd("validate", str(broken))
    assert result.returncode == 2
    assert f"{broken}:3: not JSON" in result.stderr
    assert f"{broken}:4: each line is an object with a 'type'" in result.stderr
    assert f"{broken}:5: step-result without 'host'" in result.stderr
    # training refuses it with the same messages
    result = runbook_cmd("train", str(broken))
    assert result.returncode == 2 and f"{broken}:3:" in result.stderr


def test_scenario_with_an_unknown_cause_cannot_train(tmp_path: Path) -> None:
    src = shipped_scenarios()[0].path.read_text().splitlines()
    header = json.loads(src[0])
    header.update(expected_cause="gremlins", expected_node="nowhere")
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join([json.dumps(header), *src[1:]]) + "\n")
    problems = check_scenario(parse_scenario(path))
    assert any(p.startswith(f"{path}:1: expected_cause 'gremlins'") for p in problems)
    assert any(p.startswith(f"{path}:1: expected_node 'nowhere'") for p in problems)


def test_train_lab_refused_without_root(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    code = train_cli.main(train_cli.argparse.Namespace(scenario=None, list=False, lab=True, summary=None))
    assert code == 2
    assert "needs root" in capsys.readouterr().err


def test_train_lab_refused_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(train_cli.sys, "platform", "darwin")
    assert "needs Linux" in (train_cli.lab_refusal() or "")


def _secret_journal(path: Path) -> None:
    """A real journal (from a replayed demo run) with secrets planted where incidents leak them."""
    result = runbook_cmd("run", "502-bad-gateway", "--scenario", "demo", "--headless", "--journal", str(path))
    assert result.returncode == 0, result.stderr
    j = Journal(path)
    j.append("note", node="symptom", text=f"curl -H 'Authorization: Bearer {SECRET_TOKEN}' worked")
    j.append(
        "step-result",
        step_id="s999",
        node="symptom",
        check="env",
        host="app1",
        command="cat /etc/app/env; cat ~/.ssh/id_ed25519",
        stdout=f"DB_PASSWORD=hunter2-very-secret\n{PRIVATE_KEY}\n",
        stderr="",
        exit_status=0,
    )
    j.close()
    # a secret in the vars: the key names it, the value alone carries no hint
    lines = path.read_text().splitlines()
    start = json.loads(lines[0])
    start["vars"]["api_token"] = "plainvalue123"
    start["vars"]["dsn"] = "postgres://app:s3cretpass@db1/app"
    lines[0] = json.dumps(start)
    path.write_text("\n".join(lines) + "\n")


def test_from_journal_redacts_secrets(tmp_path: Path) -> None:
    journal = tmp_path / "incident.jsonl"
    _secret_journal(journal)
    raw = journal.read_text()
    for secret in (SECRET_TOKEN, "hunter2-very-secret", "b3BlbnNzaC1rZXktdjEA", "plainvalue123", "s3cretpass"):
        assert secret in raw  # planted
    out = tmp_path / "shared.jsonl"
    result = runbook_cmd("scenario", "from-journal", str(journal), "-o", str(out), "--name", "Checkout 502")
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    for secret in (SECRET_TOKEN, "hunter2-very-secret", "b3BlbnNzaC1rZXktdjEA", "plainvalue123", "s3cretpass"):
        assert secret not in text
    assert "Authorization: Bearer [REDACTED]" in text
    assert "[REDACTED]" in text and "BEGIN OPENSSH PRIVATE KEY" in text
    scenario = parse_scenario(out)
    assert scenario.name == "checkout-502"
    assert scenario.header["expected_cause"] == "gateway-misconfigured"
    assert scenario.header["expected_node"] == "cause-gateway-misconfigured"
    assert scenario.header["format"] == 1
    assert runbook_cmd("validate", str(out)).returncode == 0
    # and it still replays to the same conclusion
    replay = runbook_cmd(
        "run", "502-bad-gateway", "--scenario", str(out), "--headless", "--journal", str(tmp_path / "r.jsonl")
    )
    assert replay.returncode == 0, replay.stderr
    assert "gateway-misconfigured" in replay.stderr


def test_from_journal_needs_a_conclusion(tmp_path: Path) -> None:
    journal = tmp_path / "cut.jsonl"
    j = Journal(journal)
    j.append("session-start", playbook="502-bad-gateway", inventory=[], vars={})
    j.append("node-enter", node="symptom")
    j.close()
    with pytest.raises(SourceError, match="no conclusion"):
        journal_to_scenario(journal, tmp_path / "x.jsonl")
    result = runbook_cmd("scenario", "from-journal", str(journal), "-o", str(tmp_path / "x.jsonl"))
    assert result.returncode == 2 and f"{journal}:1:" in result.stderr


def test_train_summary_command_over_a_room(tmp_path: Path) -> None:
    from runbook.playbook import load_playbook
    from runbook.training.report import write_training_report
    from tests.training.conftest import cite, events, investigate, training

    playbook = load_playbook("502-bad-gateway")
    for who, cause in (("ann", "backend-down"), ("bob", "dns-failure")):
        t = training("granite-owl", tmp_path / f"{who}.jsonl", trainee=who)
        investigate(t, ["backend-health"])
        t.diagnose(cause, ["app2"], cite(t, "backend_not_running"))
        write_training_report(events(t), tmp_path / "room" / f"{who}.training.md", playbook)
    result = runbook_cmd("train", "--summary", str(tmp_path / "room"))
    assert result.returncode == 0, result.stderr
    assert "| ann | Granite Owl |" in result.stdout and "| bob | Granite Owl | 0 | wrong (dns-failure)" in result.stdout
    assert "1 of 2 right cause" in result.stdout and "wrong causes named: dns-failure ×1" in result.stdout
    empty = runbook_cmd("train", "--summary", str(tmp_path / "nobody"))
    assert empty.returncode == 0 and "no training reports" in empty.stdout
