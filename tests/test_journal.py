"""The journal survives a killed process; report and resume work on any prefix."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from markdown_it import MarkdownIt

from runbook.journal import Journal, read_journal
from tests.conftest import FIXTURES, runbook_cmd


def test_torn_last_line_is_ignored_and_repaired(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    j = Journal(path)
    j.append("note", node="a", text="first")
    j.close()
    with open(path, "a") as fh:
        fh.write('{"type": "note", "text": "half')  # killed mid-write
    assert [e["text"] for e in read_journal(path)] == ["first"]
    j2 = Journal(path)
    j2.append("note", node="a", text="second")
    j2.close()
    assert [e["text"] for e in read_journal(path)] == ["first", "second"]


def test_each_append_is_on_disk_before_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    j = Journal(path)
    j.append("note", node="a", text="x")
    # another reader sees it at once, without close()
    assert json.loads(path.read_text().splitlines()[0])["text"] == "x"
    j.close()


def test_sigkill_midway_then_report_and_resume(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runbook",
            "run",
            str(FIXTURES / "mini.yaml"),
            "-i",
            str(FIXTURES / "local-inventory.yaml"),
            "--transport",
            "local",
            "--headless",
            "--var",
            "nap_s=30",
            "--journal",
            str(journal),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        events = read_journal(journal) if journal.exists() else []
        if any(e["type"] == "step-start" and e["check"] == "nap" for e in events):
            break
        time.sleep(0.05)
    else:
        proc.kill()
        raise AssertionError("the run never reached the long step")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    events = read_journal(journal)
    assert events[0]["type"] == "session-start"
    assert not any(e["type"] == "conclusion" for e in events)
    assert sum(1 for e in events if e["type"] == "step-result" and e["check"] == "hello") == 2

    # the report renders what was done
    out = tmp_path / "partial.md"
    result = runbook_cmd("report", str(journal), "-o", str(out), env=env)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "echo hello from web1 port 8081" in text
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    assert any(t.type == "heading_open" for t in tokens)

    # resume goes on from the interrupted node (with a short nap this time) and concludes
    lines = journal.read_text().splitlines()
    start = json.loads(lines[0])
    start["run"]["variables"]["nap_s"] = "0"
    journal.write_text("\n".join([json.dumps(start), *lines[1:]]) + "\n")
    result = runbook_cmd("resume", str(journal), "--headless", "--json", str(tmp_path / "r.json"), env=env)
    assert result.returncode == 0, result.stderr
    final = read_journal(journal)
    assert final[-1]["type"] == "session-end" and final[-1]["status"] == "concluded"
    # the interrupted node ran again; the finished one did not
    hellos = [e for e in final if e["type"] == "step-result" and e["check"] == "hello"]
    naps = [e for e in final if e["type"] == "step-result" and e["check"] == "nap"]
    assert len(hellos) == 2 and len(naps) == 2
    res = json.loads((tmp_path / "r.json").read_text())
    assert res["conclusion"]["cause"] == "no-fault-found"
