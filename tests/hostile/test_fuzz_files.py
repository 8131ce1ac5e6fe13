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

import pytest
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


# --- shapes the random mutations did not reach (issue 24 item 9) -----------------------------


def _chain(length: int, close_cycle: bool = False) -> str:
    lines = ["id: chain", "title: A long chain", "start: n0", "nodes:"]
    for i in range(length):
        goto = "n0" if close_cycle and i == length - 1 else f"n{i + 1}"
        lines += [f"  n{i}:", f"    title: node {i}", "    next:", f"      - goto: {goto}"]
    lines += [f"  n{length}:", "    needs: []", "    conclusion: {cause: no-fault-found, title: ok}"]
    return "\n".join(lines) + "\n"


def test_a_1500_node_chain_loads_and_its_cycle_is_named(tmp_path: Path) -> None:
    # the graph checks walk iteratively: no RecursionError however long the chain
    playbook = load_playbook(_write(tmp_path, "chain.yaml", _chain(1500)))
    assert len(playbook.nodes) == 1501
    _cli(tmp_path, "validate", str(tmp_path / "chain.yaml"))
    cycle = _write(tmp_path, "cycle.yaml", _chain(1500, close_cycle=True))
    try:
        load_playbook(cycle)
    except SourceError as exc:
        assert any(p.startswith(f"{cycle}:") and "cycle: n0 -> n1 -> n2" in p for p in exc.problems), exc.problems
    else:
        raise AssertionError("a 1500-node cycle loaded")


def _journal_without_node_name(tmp: Path, node: object, last: bool) -> tuple[Path, int]:
    """A real journal of the mini playbook, cut while walking, whose second node-enter has `node`
    (None: the key is missing); returns the path and that event's line number."""
    journal = tmp / "run.jsonl"
    _cli(tmp, "run", str(FIXTURES / "mini.yaml"), "-i", str(FIXTURES / "local-inventory.yaml"),
         "--transport", "local", "--headless", "--read-only", "--journal", str(journal))  # fmt: skip
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    enters = [i for i, e in enumerate(events) if e["type"] == "node-enter"]
    events = events[: enters[1] + (1 if last else 3)]
    if node is None:
        del events[enters[1]]["node"]
    else:
        events[enters[1]]["node"] = node
    bad = tmp / "bad.jsonl"
    bad.write_text("".join(json.dumps(e) + "\n" for e in events))
    return bad, enters[1] + 1


@pytest.mark.parametrize(("node", "last"), [(None, True), (None, False), ("", True), ("", False), (5, False)])
def test_a_node_enter_without_a_node_is_named_by_file_and_line(tmp_path: Path, node: object, last: bool) -> None:
    journal, line = _journal_without_node_name(tmp_path, node, last)
    where = f"{journal}:{line}:"
    before = journal.read_bytes()
    for command in (["resume", str(journal), "--headless"], ["report", str(journal), "-o", str(tmp_path / "r.md")]):
        env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
        res = subprocess.run([sys.executable, "-m", "runbook", *command], capture_output=True, text=True,
                             timeout=CLI_SECONDS, env=env, stdin=subprocess.DEVNULL)  # fmt: skip
        assert "Traceback" not in res.stderr, res.stderr
        assert where in res.stderr and "node-enter event without a node name" in res.stderr, res.stderr
        assert res.returncode == (2 if command[0] == "resume" else 0), res.stderr
    assert journal.read_bytes() == before  # a refused resume appends nothing
    assert (tmp_path / "r.md").read_text().startswith("#")


def test_a_scenario_step_with_a_string_duration_is_named_by_file_and_line(tmp_path: Path) -> None:
    lines = (SCENARIO_DIR / "demo.jsonl").read_text().splitlines()
    number = next(i for i, line in enumerate(lines, 1) if json.loads(line)["type"] == "step-result")
    event = json.loads(lines[number - 1])
    event["duration_s"] = "slow"
    lines[number - 1] = json.dumps(event)
    scenario = _write(tmp_path, "slow.jsonl", "\n".join(lines) + "\n")
    try:
        parse_scenario(scenario)
    except SourceError as exc:
        assert exc.problems == [
            f'{scenario}:{number}: step-result duration_s must be a number of seconds or null, not "slow"'
        ]
    else:
        raise AssertionError("a string duration was accepted")
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    res = subprocess.run(
        [sys.executable, "-m", "runbook", "run", "502-bad-gateway", "--scenario", str(scenario), "--headless"],
        capture_output=True, text=True, timeout=CLI_SECONDS, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert f"{scenario}:{number}: step-result duration_s" in res.stderr
