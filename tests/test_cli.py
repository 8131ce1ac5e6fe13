"""The command line as a user meets it: help, typos, no terminal, journals, resume, exports."""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from runbook.cli import build_parser
from runbook.journal_index import latest_unfinished_real, list_journals
from tests.conftest import runbook_cmd


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_subcommand_and_argument_has_help() -> None:
    parser = build_parser()
    subs = _subparsers(parser)
    for name in ("run", "validate", "report", "resume", "train", "lab", "journals", "serve", "scenario"):
        assert name in subs
    choices = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))._choices_actions
    assert all(c.help for c in choices), [c.dest for c in choices if not c.help]
    for name, sub in subs.items():
        missing = [a.dest for a in sub._actions if not isinstance(a, argparse._HelpAction) and not a.help]
        assert not missing, f"runbook {name}: no help for {missing}"


def test_top_level_help_says_bare_runbook_opens_the_demo() -> None:
    out = runbook_cmd("--help").stdout
    assert "Bare `runbook`" in out and "demo" in out
    lab = runbook_cmd("lab", "--help").stdout
    for verb in ("up", "down", "status", "faults", "fault NAME", "record FAULT"):
        assert verb in lab


def test_wrong_playbook_name_suggests_the_closest(data_home: Path) -> None:
    result = runbook_cmd("run", "502-bad-gatway", "--scenario", "demo", "--headless")
    assert result.returncode == 2
    assert "did you mean '502-bad-gateway'?" in result.stderr
    assert ":1:" not in result.stderr and "Traceback" not in result.stderr


def test_wrong_scenario_name_lists_them_and_suggests(data_home: Path) -> None:
    result = runbook_cmd("run", "502-bad-gateway", "--scenario", "dmeo", "--headless")
    assert result.returncode == 2
    assert "did you mean 'demo'?" in result.stderr
    assert "(shipped: " in result.stderr and "demo" in result.stderr  # the shipped ones are listed
    assert ":1:" not in result.stderr


def test_option_typo_shows_that_subcommands_usage() -> None:
    result = runbook_cmd("run", "502-bad-gateway", "--scenario", "demo", "--headlss")
    assert result.returncode == 2
    assert "usage: runbook run" in result.stderr
    assert "did you mean --headless?" in result.stderr
    result = runbook_cmd("report", "j.jsonl", "--fromat", "md")
    assert "usage: runbook report" in result.stderr


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_inventory_with_no_reachable_host_stops_early(tmp_path: Path, data_home: Path) -> None:
    inv = tmp_path / "inv.yaml"
    inv.write_text(
        f"defaults: {{user: root, known_hosts: {tmp_path / 'kh'}}}\n"
        "hosts:\n"
        f"  gw1: {{address: 127.0.0.1, port: {_closed_port()}, roles: [gateway]}}\n"
        f"  app1: {{address: 127.0.0.1, port: {_closed_port()}, roles: [backend],"
        " vars: {service: app, port: 8080, health_path: /health}}\n"
        "vars: {public_url: 'http://127.0.0.1:9/'}\n"
    )
    result = runbook_cmd("run", "502-bad-gateway", "-i", str(inv), "--headless", timeout=60)
    assert result.returncode == 2, result.stderr
    assert "none of the 2 inventory hosts can be reached" in result.stderr
    assert "gw1 (127.0.0.1:" in result.stderr and "app1 (127.0.0.1:" in result.stderr
    assert "connection refused" in result.stderr
    assert "▶" not in result.stderr  # no node was walked
    assert list_journals(data_home / "runbook" / "journals") == []  # and no empty session was left behind


def _journal(path: Path, *, mode: str, ended: bool, training: bool = False) -> None:
    events = [
        {
            "type": "session-start",
            "ts": "2026-11-22T03:00:00.000Z",
            "playbook": "502-bad-gateway",
            "mode": mode,
            "incident": {"title": path.stem},
        },
        {"type": "node-enter", "ts": "2026-11-22T03:00:01.000Z", "node": "symptom"},
    ]
    if training:
        events.insert(1, {"type": "training-start", "ts": "2026-11-22T03:00:00.000Z"})
    if ended:
        events.append({"type": "session-end", "ts": "2026-11-22T03:01:00.000Z", "status": "concluded"})
    path.write_text("".join(json.dumps(e) + "\n" for e in events))


def test_resume_picks_the_latest_unfinished_real_session(tmp_path: Path) -> None:
    import os
    import time

    d = tmp_path / "journals"
    d.mkdir()
    order = [
        ("old-live-unfinished", "live", False, False),
        ("live-unfinished", "live", False, False),
        ("live-ended", "live", True, False),
        ("demo-unfinished", "replay", False, False),
        ("training-unfinished", "live", False, True),
    ]
    for i, (name, mode, ended, training) in enumerate(order):
        p = d / f"{name}.jsonl"
        _journal(p, mode=mode, ended=ended, training=training)
        os.utime(p, (time.time() - 100 + i, time.time() - 100 + i))  # later in the list = newer
    picked = latest_unfinished_real(d)
    assert picked is not None and picked.path.name == "live-unfinished.jsonl"
    listed = list_journals(d)
    assert [j.unfinished for j in listed] == [True, True, True, True, False]  # unfinished first
    assert {j.path.stem: j.kind for j in listed}["training-unfinished"] == "training"
    assert {j.path.stem: j.kind for j in listed}["demo-unfinished"] == "replay"


def test_journals_and_resume_commands(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path)}
    d = tmp_path / "runbook" / "journals"
    d.mkdir(parents=True)
    _journal(d / "demo.jsonl", mode="replay", ended=False)
    _journal(d / "done.jsonl", mode="live", ended=True)
    out = runbook_cmd("journals", env=env)
    assert out.returncode == 0
    rows = out.stdout.splitlines()
    assert rows[0].split()[:3] == ["STARTED", "KIND", "STATUS"]
    assert "unfinished" in rows[1] and "demo.jsonl" in rows[1]  # unfinished first
    assert "concluded" in rows[2] and "done.jsonl" in rows[2]
    # neither a demo nor a finished session is resumed by default
    resume = runbook_cmd("resume", "--headless", env=env)
    assert resume.returncode == 2
    assert "no unfinished session on real hosts" in resume.stderr


@pytest.mark.parametrize("fmt", ["md", "json", "html"])
def test_report_formats(fmt: str, tmp_path: Path, data_home: Path) -> None:
    journal = tmp_path / "j.jsonl"
    run = runbook_cmd("run", "502-bad-gateway", "--scenario", "demo", "--headless", "--journal", str(journal))
    assert run.returncode == 0, run.stderr
    out = runbook_cmd("report", str(journal), "--format", fmt)
    assert out.returncode == 0, out.stderr
    if fmt == "json":
        assert json.loads(out.stdout)["conclusion"]["cause"] == "gateway-misconfigured"
    elif fmt == "html":
        assert out.stdout.startswith("<!doctype html>") and "<h1>" in out.stdout and "<table>" in out.stdout
    else:
        assert out.stdout.startswith("# ")


def test_no_terminal_exits_2_with_a_headless_hint(data_home: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "runbook"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "--headless" in result.stderr and "not a terminal" in result.stderr
    assert "\x1b" not in result.stdout  # nothing drawn into the pipe


def test_serve_hides_the_servers_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    import textual_serve.server

    seen: dict[str, object] = {}

    class Server:
        def __init__(self, command: str, **kw: object) -> None:
            seen.update(kw, command=command)

        def serve(self) -> None:
            seen["served"] = True

    monkeypatch.setattr(textual_serve.server, "Server", Server)
    from runbook.cli import main

    assert main(["serve", "--public-url", "https://room.example/rb/", "--port", "8123"]) == 0
    assert seen["served"] and seen["title"] == "runbook"  # not the command line with its paths
    assert seen["public_url"] == "https://room.example/rb"
    assert seen["port"] == 8123


def test_resume_finds_the_playbook_by_id_when_the_recorded_path_is_gone(tmp_path: Path) -> None:
    """A journal (or a shipped scenario) recorded on another machine names a playbook path that
    is not here: resuming falls back to the playbook's id; a path that exists still wins."""
    from runbook.wiring import config_from_journal

    here = tmp_path / "mine.yaml"
    here.write_text("id: mine\n")
    gone = {"type": "session-start", "playbook": "502-bad-gateway", "playbook_path": "/elsewhere/502.yaml"}
    assert config_from_journal([gone], "j.jsonl").playbook == "502-bad-gateway"
    assert config_from_journal([{**gone, "playbook_path": str(here)}], "j.jsonl").playbook == str(here)
    assert config_from_journal([{**gone, "playbook": ""}], "j.jsonl").playbook == "/elsewhere/502.yaml"
