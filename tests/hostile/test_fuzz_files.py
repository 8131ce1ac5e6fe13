"""Fuzzing every file runbook reads (issue 12 item 14): playbooks, inventories, scenarios and
journals, mutated from real ones. In-process: only the documented error (SourceError) may come
out. Through the command line: exit 0, 1 or 2, no traceback, within a time and memory bound.
Bounded: a fixed number of examples per target, no database, so CI time is predictable."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runbook.inventory import load_inventory
from runbook.journal import scan_journal
from runbook.playbook import load_playbook
from runbook.scenario import SCENARIO_DIR, parse_scenario
from runbook.yamlsource import SourceError
from tests.conftest import FIXTURES

#: per command-line run
CLI_SECONDS = 60
CLI_MEMORY = 2 * 1024**3

SEEDS = {
    "playbook": (FIXTURES / "mini.yaml").read_text(),
    "inventory": (FIXTURES / "local-inventory.yaml").read_text()
    + "  web3: {address: 198.18.0.3, port: 2222, roles: [backend, gateway], vars: {a: &x [1, 2]}, user: u}\n"
    + "groups: {g: [web1, *x]}\n",
    "scenario": "\n".join((SCENARIO_DIR / "demo.jsonl").read_text().splitlines()[:12]) + "\n",
}
SEEDS["journal"] = "".join(ln + "\n" for ln in SEEDS["scenario"].splitlines()[1:])

# pieces that break parsers: YAML indicators, aliases, JSON structure, controls, big numbers
TOKENS = [
    "&a ", "*a", "*b", "<<: *a", "[", "]", "{", "}", ": ", "- ", "---", "...", "!!python/object:x", "!!binary",
    "'", '"', "\\", "\t", "\x00", "\x1b[2J", "\x9d", "\ufeff", "\udcff", "#", "%YAML 1.1", "?", "|", ">",
    "1e999", "99999999999999999999", "-1", "null", "~", "yes", "on", "{{ 1 // 0 }}", "{x}", "[" * 300,
    '{"type": "node-enter", "node": "gone"}', '{"type": "step-result"}', "\n", "\r\n",
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, seed: str) -> str:
    text = seed
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "delete", "dup-line", "drop-line", "truncate", "replace"]))
        pos = draw(st.integers(0, max(0, len(text))))
        if op == "insert":
            text = text[:pos] + draw(st.sampled_from(TOKENS) | st.text(max_size=8)) + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 40)) :]
        elif op == "truncate":
            text = text[:pos]
        elif op == "replace" and text:
            text = text[:pos] + draw(st.sampled_from(TOKENS)) + text[pos + 1 :]
        else:
            lines = text.splitlines(keepends=True)
            if lines:
                i = draw(st.integers(0, len(lines) - 1))
                lines[i:i + 1] = [lines[i]] * (2 if op == "dup-line" else 0)  # fmt: skip
                text = "".join(lines)
    return text


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    return path


# CI runs a fixed sample (derandomized, so a red run reproduces); a developer's run explores anew
_COMMON = {
    "database": None,
    "derandomize": bool(os.environ.get("CI")),
    "suppress_health_check": [HealthCheck.function_scoped_fixture],
}
FUZZ = settings(max_examples=60, deadline=10_000, **_COMMON)  # type: ignore[arg-type]
CLI = settings(max_examples=8, deadline=None, **_COMMON)  # type: ignore[arg-type]


# --- in process -----------------------------------------------------------------------------


@FUZZ
@given(text=mutated(SEEDS["playbook"]))
def test_fuzz_playbook_loader(tmp_path: Path, text: str) -> None:
    try:
        load_playbook(_write(tmp_path, "p.yaml", text))
    except SourceError as exc:
        assert all(p.startswith(str(tmp_path)) for p in exc.problems), exc.problems


# Mutations include bytes that are not UTF-8: the inventory reader must name the line, not crash.
any_inventory = mutated(SEEDS["inventory"])


@FUZZ
@given(text=any_inventory)
def test_fuzz_inventory_loader(tmp_path: Path, text: str) -> None:
    try:
        load_inventory(str(_write(tmp_path, "i.yaml", text)))
    except SourceError as exc:
        assert exc.problems and all(":" in p for p in exc.problems)


@FUZZ
@given(text=mutated(SEEDS["scenario"]))
def test_fuzz_scenario_parser(tmp_path: Path, text: str) -> None:
    try:
        parse_scenario(_write(tmp_path, "s.jsonl", text))
    except SourceError as exc:
        assert all(p.startswith(str(tmp_path)) for p in exc.problems), exc.problems


@FUZZ
@given(text=mutated(SEEDS["journal"]))
def test_fuzz_journal_reader(tmp_path: Path, text: str) -> None:
    scan = scan_journal(_write(tmp_path, "j.jsonl", text))
    assert all(isinstance(e, dict) and isinstance(e["type"], str) for e in scan.events)
    assert all(w.startswith(str(tmp_path)) for w in scan.warnings)


# --- through the command line ---------------------------------------------------------------


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CLI_MEMORY, CLI_MEMORY))


def _cli(tmp: Path, *args: str) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp / "xdg")}
    res = subprocess.run(
        [sys.executable, "-m", "runbook", *args],
        capture_output=True, text=True, timeout=CLI_SECONDS, env=env, preexec_fn=_limits, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert res.returncode in (0, 1, 2), (args, res.returncode, res.stderr[-2000:])
    assert "Traceback" not in res.stderr, res.stderr[-4000:]


@CLI
@given(text=mutated(SEEDS["playbook"]))
def test_fuzz_cli_validate_playbook(tmp_path: Path, text: str) -> None:
    _cli(tmp_path, "validate", str(_write(tmp_path, "p.yaml", text)))


@CLI
@given(text=any_inventory)
def test_fuzz_cli_run_with_inventory(tmp_path: Path, text: str) -> None:
    inv = _write(tmp_path, "i.yaml", text)
    # read-only, on this machine: a good inventory runs the mini playbook through the local transport
    _cli(tmp_path, "run", str(FIXTURES / "mini.yaml"), "-i", str(inv), "--transport", "local", "--headless",
         "--read-only", "--journal", str(tmp_path / "j.jsonl"))  # fmt: skip


@CLI
@given(text=mutated(SEEDS["scenario"]))
def test_fuzz_cli_scenario(tmp_path: Path, text: str) -> None:
    _cli(tmp_path, "validate", str(_write(tmp_path, "s.jsonl", text)))


@CLI
@given(text=mutated(SEEDS["journal"]), command=st.sampled_from(["report", "resume"]))
def test_fuzz_cli_journal(tmp_path: Path, text: str, command: str) -> None:
    journal = _write(tmp_path, "j.jsonl", text)
    _cli(tmp_path, command, str(journal), *(["--headless"] if command == "resume" else []))
    # whatever the command did, the journal still reads
    scan_journal(journal)


def test_seeds_are_valid() -> None:
    """The mutations start from files that load, so the fuzz explores near real input."""
    assert SEEDS["journal"].startswith("{") and json.loads(SEEDS["journal"].splitlines()[0])["type"]
