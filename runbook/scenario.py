"""Scenarios: recorded sessions served by the replay transport (the demo, the training set).

A scenario file is JSONL: a header line {"type": "scenario", "format": 1, "name", "title",
"description", "fault", "expected_cause", "playbook", "recorded_at"} followed by the events of
the journal it was recorded from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runbook.errors import SourceError

if TYPE_CHECKING:
    from runbook.inventory import Inventory

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
FORMAT = 1


@dataclass
class Scenario:
    name: str
    header: dict[str, Any]
    events: list[dict[str, Any]]
    path: Path

    @property
    def title(self) -> str:
        return str(self.header.get("title") or self.name)

    @property
    def expected_cause(self) -> str | None:
        return self.header.get("expected_cause")

    def inventory(self) -> Inventory:
        from runbook.inventory import Host, Inventory  # pydantic: loaded when a session is built

        start = next((e for e in self.events if e["type"] == "session-start"), None)
        if start is None:
            raise SourceError([f"{self.path}:1: the scenario holds no session-start event"])
        hosts = {}
        for h in start.get("inventory", []):
            hosts[h["name"]] = Host(
                name=h["name"],
                address=h["address"],
                port=h.get("port") or 22,
                roles=h.get("roles", []),
                vars=h.get("vars", {}),
                user=h.get("user"),
            )
        return Inventory(hosts=hosts, vars=dict(start.get("vars") or {}), source=str(self.path))


def _inventory_problems(where: str, inventory: Any) -> list[str]:
    """What a session-start's inventory must be for `Scenario.inventory` to build hosts."""
    if inventory is None:
        return []
    if not isinstance(inventory, list):
        return [f"{where}: session-start 'inventory' must be a list of hosts"]
    problems = []
    for i, h in enumerate(inventory):
        at = f"{where}: inventory[{i}]"
        if not isinstance(h, dict):
            problems.append(f"{at}: a host is an object with name and address")
            continue
        if not isinstance(h.get("name"), str) or not h["name"]:
            problems.append(f"{at}: missing required key 'name'")
        if not isinstance(h.get("address"), str) or not h["address"]:
            problems.append(f"{at}: missing required key 'address'")
        port = h.get("port")
        if port is not None and not (isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536):
            problems.append(f"{at}: port must be a number from 1 to 65535, not {port!r}")
        roles = h.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            problems.append(f"{at}: roles must be a list of names")
        if not isinstance(h.get("vars", {}), dict):
            problems.append(f"{at}: vars must be a mapping")
        if h.get("user") is not None and not isinstance(h["user"], str):
            problems.append(f"{at}: user must be a string")
    return problems


def _lines(path: Path) -> list[tuple[int, str]]:
    """(number, text) of each line; SourceError for a missing file or bytes that are not UTF-8."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError([f"{path}:1: cannot read: {exc.strerror or exc}"]) from exc
    out = []
    for number, line in enumerate(raw.split(b"\n"), 1):
        try:
            out.append((number, line.decode("utf-8")))
        except UnicodeDecodeError as exc:
            raise SourceError([f"{path}:{number}: not UTF-8 text: {exc.reason} at column {exc.start + 1}"]) from exc
    return out


#: step-result fields the replay reads as numbers or objects, with what each must be
_RESULT_FIELDS: dict[str, tuple[tuple[type, ...], str]] = {
    "duration_s": ((int, float), "a number of seconds"),
    "exit_status": ((int,), "an integer"),
    "truncated_bytes": ((int,), "an integer"),
    "error": ((dict,), "an object"),
    "data": ((dict,), "an object"),
}


def _result_field_problems(event: dict[str, Any]) -> list[str]:
    """A replayed step hands these on as they are: a wrong type must stop here, not mid-walk."""
    problems = []
    for key, (types, what) in _RESULT_FIELDS.items():
        value = event.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, types)):
            problems.append(f"step-result {key} must be {what} or null, not {json.dumps(value)[:40]}")
    return problems


def parse_scenario(path: Path) -> Scenario:
    problems: list[str] = []
    header: dict[str, Any] | None = None
    events: list[dict[str, Any]] = []
    path = Path(path)
    for lineno, line in _lines(path):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{lineno}: not JSON: {exc.msg}")
            continue
        except RecursionError:
            problems.append(f"{path}:{lineno}: not JSON: nested too deeply")
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            problems.append(f"{path}:{lineno}: each line is an object with a 'type'")
            continue
        if lineno == 1 or (header is None and obj["type"] == "scenario"):
            if obj["type"] != "scenario":
                problems.append(f"{path}:{lineno}: the first line must be the scenario header")
                continue
            header = obj
            if obj.get("format") != FORMAT:
                problems.append(
                    f"{path}:{lineno}: unsupported scenario format {obj.get('format')!r} "
                    f"(this runbook reads format {FORMAT})"
                )
            for key in ("name", "playbook"):
                if not obj.get(key):
                    problems.append(f"{path}:{lineno}: the header needs {key!r}")
            continue
        if obj["type"] == "step-result":
            for key in ("host", "command", "step_id"):
                if key not in obj:
                    problems.append(f"{path}:{lineno}: step-result without {key!r}")
            problems += [f"{path}:{lineno}: {p}" for p in _result_field_problems(obj)]
        if obj["type"] == "session-start":
            problems += _inventory_problems(f"{path}:{lineno}", obj.get("inventory"))
        events.append(obj)
    if header is None:
        problems.append(f"{path}:1: no scenario header")
    if not any(e["type"] == "session-start" for e in events):
        problems.append(f"{path}:1: no session-start event")
    if problems:
        raise SourceError(problems)
    assert header is not None
    return Scenario(name=str(header["name"]), header=header, events=events, path=path)


def shipped_scenarios() -> list[Scenario]:
    out = []
    for path in sorted(SCENARIO_DIR.glob("*.jsonl")):
        try:
            out.append(parse_scenario(path))
        except SourceError:
            continue
    return out


def find_scenario(ref: str) -> Scenario:
    path = Path(ref)
    if path.suffix == ".jsonl" and path.exists():
        return parse_scenario(path)
    candidate = SCENARIO_DIR / f"{ref}.jsonl"
    if candidate.is_file():
        return parse_scenario(candidate)
    # training scenarios are named by codename; the fault they were recorded from still finds one
    by_fault = [s for s in shipped_scenarios() if s.header.get("fault") == ref]
    if by_fault:
        return by_fault[0]
    from runbook.suggest import unknown_name

    raise SourceError([unknown_name("scenario", ref, (s.name for s in shipped_scenarios()))])


def write_scenario(path: Path, header: dict[str, Any], events: list[dict[str, Any]]) -> None:
    from runbook.report import write_atomic

    lines = [json.dumps({"type": "scenario", "format": FORMAT, **header}, ensure_ascii=False)]
    lines += [json.dumps(e, ensure_ascii=False, default=str) for e in events]
    write_atomic(path, "\n".join(lines) + "\n")
