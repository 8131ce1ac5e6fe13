"""The installed `runbook` command in a real terminal (tmux): keys in, screen out."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .conftest import LAB_PLAYBOOK, LAB_SCENARIO

TMUX = shutil.which("tmux")
RUNBOOK = shutil.which("runbook")


class Term:
    def __init__(self, socket: str, name: str) -> None:
        self.socket, self.name = socket, name

    def tmux(self, *args: str) -> str:
        assert TMUX
        return subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True, text=True, check=True).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.name, *keys)

    def wait(self, predicate: Callable[[str], bool], what: str, timeout: float = 60) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{self.screen()}")


@pytest.fixture
def term(tmp_path: Path) -> Iterator[tuple[Term, Path]]:
    if TMUX is None:
        pytest.skip("tmux is not installed: the real-terminal test needs it")
    if RUNBOOK is None:
        pytest.skip("the runbook command is not installed (pip install -e .)")
    socket = f"runbook-test-{os.getpid()}"
    name = "rb"
    journal = tmp_path / "incident.jsonl"
    command = (
        f"cd {tmp_path} && XDG_DATA_HOME={tmp_path / 'xdg'} TERM=xterm-256color "
        f"{RUNBOOK} run {LAB_PLAYBOOK} --scenario {LAB_SCENARIO} --journal {journal}; "
        "echo RUNBOOK-EXIT=$?; sleep 60"
    )
    t = Term(socket, name)
    t.tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40", command)
    try:
        yield t, tmp_path
    finally:
        subprocess.run([TMUX, "-L", socket, "kill-server"], capture_output=True)


def test_installed_runbook_reaches_a_conclusion_and_exports(term: tuple[Term, Path]) -> None:
    t, tmp_path = term
    t.wait(lambda s: "Incident title" in s, "the start screen")
    t.keys("Enter")
    t.wait(lambda s: "READY" in s and "symptom" in s, "the main screen")
    for _ in range(40):  # r runs a step, r again goes on from its result
        text = t.screen()
        if "Cause:" in text:
            break
        t.keys("r")
        t.wait(lambda s, before=text: s != before, "the next step", timeout=30)
        time.sleep(0.3)
    text = t.wait(lambda s: "Cause:" in s, "the conclusion screen")
    assert "gateway-misconfigured" in text
    t.keys("C-s")
    report = tmp_path / "incident.md"
    t.wait(lambda s: report.exists() and "Exported" in s, "the export")
    assert "The gateway's configuration points at the wrong upstream" in report.read_text()
    t.keys("q")
    text = t.wait(lambda s: "RUNBOOK-EXIT=" in s, "the command to exit")
    assert "RUNBOOK-EXIT=0" in text
    assert f"report: {report}" in text.replace("\n", "")


def test_installed_runbook_without_a_terminal_stdout_exits_2_with_a_hint(tmp_path: Path) -> None:
    """In a real terminal, but with stdout sent to a file: no escape codes drawn into it, no hang."""
    if TMUX is None:
        pytest.skip("tmux is not installed: the real-terminal test needs it")
    if RUNBOOK is None:
        pytest.skip("the runbook command is not installed (pip install -e .)")
    socket, name = f"runbook-notty-{os.getpid()}", "rb"
    out = tmp_path / "out.txt"
    command = f"cd {tmp_path} && XDG_DATA_HOME={tmp_path / 'xdg'} {RUNBOOK} > {out}; echo RUNBOOK-EXIT=$?; sleep 60"
    t = Term(socket, name)
    t.tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40", command)
    try:
        text = t.wait(lambda s: "RUNBOOK-EXIT=" in s, "the command to exit", timeout=30)
    finally:
        subprocess.run([TMUX, "-L", socket, "kill-server"], capture_output=True)
    assert "RUNBOOK-EXIT=2" in text
    flat = text.replace("\n", "")
    assert "stdout is not a terminal" in flat and "--headless" in flat
    assert out.read_text() == ""  # nothing drawn into the file
