"""Scenarios: recorded sessions served by the replay transport (the demo, the training set).

A scenario file is JSONL: a header line {"type": "scenario", "format": 1, "name", "title",
"description", "fault", "expected_cause", "playbook", "recorded_at"} followed by the events of
the journal it was recorded from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook.inventory import Host, Inventory
from runbook.yamlsource import SourceError

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


def parse_scenario(path: Path) -> Scenario:
    problems: list[str] = []
    header: dict[str, Any] | None = None
    events: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{lineno}: not JSON: {exc.msg}")
                continue
            if not isinstance(obj, dict) or "type" not in obj:
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
    from runbook.suggest import unknown_name

    raise SourceError([unknown_name("scenario", ref, (p.stem for p in SCENARIO_DIR.glob("*.jsonl")))])


def write_scenario(path: Path, header: dict[str, Any], events: list[dict[str, Any]]) -> None:
    from runbook.report import write_atomic

    lines = [json.dumps({"type": "scenario", "format": FORMAT, **header}, ensure_ascii=False)]
    lines += [json.dumps(e, ensure_ascii=False, default=str) for e in events]
    write_atomic(path, "\n".join(lines) + "\n")
