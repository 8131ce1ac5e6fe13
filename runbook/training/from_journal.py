"""A real incident's journal -> a shareable training scenario, redacted.

Every string value of every event goes through `runbook.safety.redact` (commands, outputs,
notes, vars...), and a value whose key names a secret (password, token, api_key...) is
replaced outright: a bare value carries no context for the text rules to catch.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runbook.journal import read_journal
from runbook.safety import redact, scrub
from runbook.scenario import FORMAT, Scenario, parse_scenario, write_scenario
from runbook.yamlsource import SourceError

_NAME = re.compile(r"[^a-z0-9-]+")


def redact_value(value: Any, key: str | None = None) -> Any:
    # redact only: a scenario replays output as recorded (the runner already sanitised it)
    return scrub(value, key, redact)


def scenario_name(text: str) -> str:
    return _NAME.sub("-", text.lower()).strip("-") or "incident"


def scenario_from_events(
    events: list[dict[str, Any]], *, name: str, source: str = "journal"
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(header, events) of a scenario; SourceError when the journal cannot make one."""
    start = next((e for e in events if e.get("type") == "session-start"), None)
    if start is None:
        raise SourceError([f"{source}:1: no session-start event: not a runbook journal"])
    conclusions = [e for e in events if e.get("type") == "conclusion"]
    if not conclusions:
        raise SourceError([f"{source}:1: the journal reached no conclusion; a scenario needs one"])
    conclusion = conclusions[-1]
    incident = start.get("incident") or {}
    clean_events = [redact_value(e) for e in events if e.get("type") not in ("training-start", "hint", "diagnosis")]
    header = redact_value(
        {
            "name": name,
            "title": incident.get("title") or conclusion.get("title") or name,
            "description": f"recorded incident: {conclusion.get('title', '')}".strip(),
            "playbook": start.get("playbook"),
            "fault": None,
            "fault_hosts": [],
            "expected_cause": conclusion.get("cause"),
            "expected_hosts": list(conclusion.get("hosts") or []),
            "expected_node": conclusion.get("node"),
            "recorded_at": start.get("ts") or datetime.now(UTC).isoformat(timespec="seconds"),
            "recorded_from": "journal",
        }
    )
    return header, clean_events


def journal_to_scenario(journal: str | Path, out: str | Path | None = None, name: str | None = None) -> Scenario:
    """Write the scenario (default: ./NAME.jsonl) and return it, parsed back as a check."""
    journal = Path(journal)
    try:
        events = read_journal(journal)
    except OSError as exc:
        raise SourceError([f"{journal}:1: cannot read: {exc.strerror}"]) from None
    name = scenario_name(name or journal.stem)
    header, body = scenario_from_events(events, name=name, source=str(journal))
    path = Path(out) if out else Path.cwd() / f"{name}.jsonl"
    write_scenario(path, header, body)
    scenario = parse_scenario(path)
    assert scenario.header.get("format") == FORMAT
    return scenario
