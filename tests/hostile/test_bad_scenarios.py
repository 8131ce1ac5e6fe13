"""Scenario files that are broken: clean `file:line` errors (exit 2), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook.scenario import SCENARIO_DIR, parse_scenario
from runbook.yamlsource import SourceError
from tests.conftest import runbook_cmd

HEADER = json.dumps({"type": "scenario", "format": 1, "name": "x", "playbook": "502-bad-gateway"})


def _start(inventory: object) -> str:
    return json.dumps({"type": "session-start", "playbook": "502-bad-gateway", "inventory": inventory})


CASES: dict[str, tuple[bytes, str]] = {
    "invalid-utf8": (f"{HEADER}\n".encode() + b'{"type": "note", "text": "caf\xe9"}\n', ":2: not UTF-8 text"),
    "nested-brackets": (f"{HEADER}\n".encode() + b"[" * 100_000 + b"\n", ":2: not JSON"),
    "host-without-name": (
        f"{HEADER}\n{_start([{'address': '198.18.0.2', 'roles': ['backend']}])}\n".encode(),
        ":2: inventory[0]: missing required key 'name'",
    ),
    "port-not-a-number": (
        f"{HEADER}\n{_start([{'name': 'a', 'address': '198.18.0.2', 'port': 'x'}])}\n".encode(),
        ":2: inventory[0]: port must be a number from 1 to 65535, not 'x'",
    ),
    "inventory-not-a-list": (
        f"{HEADER}\n{_start({'a': 1})}\n".encode(),
        ":2: session-start 'inventory' must be a list",
    ),
    "type-not-a-string": (f'{HEADER}\n{{"type": 5}}\n'.encode(), ":2: each line is an object with a 'type'"),
}


@pytest.mark.parametrize(("data", "message"), CASES.values(), ids=CASES.keys())
def test_parse_scenario_gives_file_line_errors(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(data)
    with pytest.raises(SourceError) as err:
        parse_scenario(path)
    assert any(p.startswith(str(path)) and message in p for p in err.value.problems), err.value.problems


def test_missing_scenario_file(tmp_path: Path) -> None:
    path = tmp_path / "gone.jsonl"
    with pytest.raises(SourceError, match=r"gone\.jsonl:1: cannot read"):
        parse_scenario(path)


@pytest.mark.parametrize("case", [*CASES, "missing"])
def test_cli_on_bad_scenarios_exits_2_without_traceback(tmp_path: Path, case: str) -> None:
    path = tmp_path / f"{case}.jsonl"
    if case != "missing":
        path.write_bytes(CASES[case][0])
    for args in (["validate", str(path)], ["run", "502-bad-gateway", "--scenario", str(path), "--headless"]):
        res = runbook_cmd(*args, env={"XDG_DATA_HOME": str(tmp_path / "xdg")}, timeout=60)
        assert res.returncode == 2, (args, res.stderr)
        assert "Traceback" not in res.stderr and "pydantic" not in res.stderr.lower(), res.stderr


def test_shipped_scenarios_still_parse() -> None:
    for path in SCENARIO_DIR.glob("*.jsonl"):
        assert parse_scenario(path).events
