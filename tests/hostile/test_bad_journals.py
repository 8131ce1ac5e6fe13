"""Journals that are corrupt, truncated, hostile or out of date: clean errors, nothing lost."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from runbook.journal import Journal, read_journal, scan_journal
from tests.conftest import FIXTURES, runbook_cmd


def _run_mini(tmp_path: Path, name: str = "run.jsonl", *extra: str) -> Path:
    journal = tmp_path / name
    res = runbook_cmd(
        "run", str(FIXTURES / "mini.yaml"), "-i", str(FIXTURES / "local-inventory.yaml"),
        "--transport", "local", "--headless", "--journal", str(journal), *extra,
        env={"XDG_DATA_HOME": str(tmp_path / "xdg")},
    )  # fmt: skip
    assert res.returncode in (0, 1), res.stderr
    return journal


def _cut_before_end(journal: Path) -> list[str]:
    """The journal as if killed before it concluded: everything up to the first `wait` node."""
    lines = journal.read_text().splitlines(keepends=True)
    upto = next(i for i, ln in enumerate(lines) if '"node-enter"' in ln and '"wait"' in ln)
    journal.write_text("".join(lines[:upto]))
    return lines[:upto]


def _no_traceback(res: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode in (0, 1, 2), (res.returncode, res.stderr)


# --- item 13: a corrupt line in the middle ------------------------------------------------------


def test_corrupt_middle_line_is_skipped_with_a_warning_and_reading_goes_on(tmp_path: Path) -> None:
    journal = _run_mini(tmp_path)
    good = read_journal(journal)
    lines = journal.read_text().splitlines(keepends=True)
    lines.insert(3, '{"type": "note", "text": "torn\n')  # a bad line in the middle
    journal.write_text("".join(lines))
    scan = scan_journal(journal)
    assert len(scan.events) == len(good)  # nothing after the bad line is lost
    assert scan.warnings == [f"{journal}:4: skipped a corrupt journal line: not JSON (Unterminated string starting at)"]
    assert scan.tail_ok


def test_resume_past_a_corrupt_middle_line_sees_every_event_and_records_the_warning(tmp_path: Path) -> None:
    journal = _run_mini(tmp_path)
    kept = _cut_before_end(journal)
    corrupt = [*kept[:2], "\x00\x00garbage\n", *kept[2:]]
    journal.write_text("".join(corrupt))
    res = runbook_cmd("resume", str(journal), "--headless", env={"XDG_DATA_HOME": str(tmp_path / "xdg")})
    _no_traceback(res)
    assert res.returncode == 0, res.stderr
    assert f"{journal}:3: skipped a corrupt journal line" in res.stderr
    events = read_journal(journal)
    # the resumed walk saw the first node's results (it went on at `wait`, not from the start)
    assert [e["node"] for e in events if e["type"] == "node-enter"][:2] == ["first", "wait"]
    assert sum(e["type"] == "session-start" for e in events) == 1
    warnings = [e for e in events if e["type"] == "warning"]
    assert len(warnings) == 1 and "skipped a corrupt journal line" in warnings[0]["message"]
    assert [e["type"] for e in events].count("session-end") == 1


def test_resume_refuses_to_append_after_an_unreadable_tail(tmp_path: Path) -> None:
    journal = _run_mini(tmp_path)
    kept = _cut_before_end(journal)
    journal.write_text("".join([*kept, "{not json at all}\n"]))
    before = journal.read_bytes()
    res = runbook_cmd("resume", str(journal), "--headless", env={"XDG_DATA_HOME": str(tmp_path / "xdg")})
    _no_traceback(res)
    assert res.returncode == 2
    assert "refusing to append" in res.stderr
    assert journal.read_bytes() == before


def test_resume_of_an_ended_session_adds_no_second_end(tmp_path: Path) -> None:
    journal = _run_mini(tmp_path)
    before = journal.read_bytes()
    assert [e["type"] for e in read_journal(journal)].count("session-end") == 1
    res = runbook_cmd("resume", str(journal), "--headless", env={"XDG_DATA_HOME": str(tmp_path / "xdg")})
    _no_traceback(res)
    assert res.returncode == 0 and "already ended (concluded)" in res.stderr
    assert journal.read_bytes() == before


# --- item 12: out-of-date and malformed journals ------------------------------------------------


def test_resume_when_the_node_is_gone_says_so_and_offers_the_last_existing_one(tmp_path: Path) -> None:
    journal = _run_mini(tmp_path)
    kept = _cut_before_end(journal)
    # the session stopped at `wait`; then the playbook was edited and `wait` renamed to `pause`
    edited = tmp_path / "mini.yaml"
    edited.write_text((FIXTURES / "mini.yaml").read_text().replace("wait", "pause"))
    lines = [ln.replace(str(FIXTURES / "mini.yaml"), str(edited)) for ln in kept]
    stopped_at_wait = json.dumps({"type": "node-enter", "ts": "2026-01-01T00:00:00Z", "node": "wait", "title": "w"})
    journal.write_text("".join([*lines, stopped_at_wait + "\n"]))
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    res = runbook_cmd("resume", str(journal), "--headless", env=env)
    _no_traceback(res)
    assert res.returncode == 2
    assert "stopped at node 'wait', which playbook" in res.stderr and "no longer has" in res.stderr
    assert "'first'" in res.stderr and "--from-last-existing-node" in res.stderr
    res = runbook_cmd("resume", str(journal), "--headless", "--from-last-existing-node", env=env)
    _no_traceback(res)
    assert res.returncode == 0, res.stderr
    entered = [e["node"] for e in read_journal(journal) if e["type"] == "node-enter"]
    assert entered[:3] == ["first", "wait", "first"] and "pause" in entered


BAD_JOURNALS = {
    "empty": "",
    "bare-events": '{"type": "session-start"}\n{"type": "node-enter"}\n{"type": "step-result"}\n',
    "bare-then-valid-type-wrong-fields": '{"type": "session-start", "playbook": 5}\n{"type": "finding", "id": []}\n',
    "bad-step-ids": (
        '{"type": "session-start", "playbook": "mini"}\n'
        '{"type": "step-start", "step_id": null}\n{"type": "step-result", "step_id": {"a": 1}}\n'
        '{"type": "step-start", "step_id": "s99999999999999999999999"}\n'
    ),
    "deeply-nested": "[" * 100_000 + "\n" + '{"type": "note", "text": ' + "[" * 50_000 + "]" * 50_000 + "}\n",
    "not-objects": '[]\n"x"\n17\nnull\n{"type": 3}\n',
    "truncated": '{"type": "session-start", "playbook": "mi',
    "binary": "\udcff\x00\x01\x02 \n",
}


@pytest.mark.parametrize("text", BAD_JOURNALS.values(), ids=BAD_JOURNALS.keys())
@pytest.mark.parametrize("command", ["report", "resume"])
def test_malformed_journals_give_clean_errors(tmp_path: Path, text: str, command: str) -> None:
    journal = tmp_path / "bad.jsonl"
    journal.write_bytes(text.encode("utf-8", "surrogateescape"))
    args = [command, str(journal)] + (["--headless"] if command == "resume" else [])
    res = runbook_cmd(*args, env={"XDG_DATA_HOME": str(tmp_path / "xdg")}, timeout=60)
    _no_traceback(res)


@pytest.mark.parametrize("command", ["report", "resume"])
def test_missing_journal_is_a_clean_error(tmp_path: Path, command: str) -> None:
    args = [command, str(tmp_path / "nope.jsonl")] + (["--headless"] if command == "resume" else [])
    res = runbook_cmd(*args, env={"XDG_DATA_HOME": str(tmp_path / "xdg")})
    _no_traceback(res)
    assert res.returncode == 2 and "nope.jsonl" in res.stderr
    assert "cannot read" in res.stderr or "no journal at" in res.stderr, res.stderr


# --- item 8: journals are private ---------------------------------------------------------------


def test_journal_dir_0700_and_file_0600_whatever_the_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    from runbook.journal import new_journal_path

    old = os.umask(0o000)
    try:
        path = new_journal_path("mini")
        Journal(path).close()
        other = tmp_path / "given" / "deeper" / "j.jsonl"
        Journal(other).close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(other.stat().st_mode) == 0o600
    assert stat.S_IMODE(other.parent.stat().st_mode) == 0o700  # created by us: private
    assert stat.S_IMODE((tmp_path / "given").stat().st_mode) == 0o700


def test_an_existing_journal_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text("")
    path.chmod(0o644)
    Journal(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
