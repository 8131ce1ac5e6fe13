"""Typed events: round trips, unknown kinds kept, the generated schema doc is current."""

from __future__ import annotations

from pathlib import Path

from runbook.events import EVENT_TYPES, Branched, Event, SessionEnded, Status, UnknownEvent, schema_doc
from runbook.journal import Journal, read_journal
from runbook.report import build_result, render_markdown
from runbook.walk import fold_json

DOC = Path(__file__).resolve().parent.parent / "docs" / "journal-schema.md"


def test_the_schema_doc_is_generated_from_the_events() -> None:
    assert DOC.read_text() == schema_doc(), (
        "docs/journal-schema.md is stale: run `python -m runbook.events --doc > docs/journal-schema.md`"
    )
    for kind in EVENT_TYPES:
        assert f"## `{kind}`" in DOC.read_text()


def test_every_kind_round_trips_with_its_type_and_version() -> None:
    for kind, cls in EVENT_TYPES.items():
        event = cls(ts="2026-12-02T10:00:00.000Z")
        raw = event.to_json()
        assert raw["type"] == kind and raw["v"] == 2
        assert Event.from_json(raw) == event


def test_branch_keeps_the_journal_field_name_and_status_is_an_enum() -> None:
    raw = {"type": "branch", "ts": "t", "from": "a", "to": "b", "reason": "r", "cited": ["x"]}
    event = Event.from_json(raw)
    assert isinstance(event, Branched) and event.from_node == "a" and event.v == 1
    assert {k: v for k, v in event.to_json().items() if k != "v"} == raw
    end = Event.from_json({"type": "session-end", "status": "concluded", "reason": ""})
    assert isinstance(end, SessionEnded) and end.status is Status.CONCLUDED


def test_a_newer_journal_loses_nothing(tmp_path: Path) -> None:
    """Unknown kinds and unknown fields are kept, written back and shown in the report."""
    newer = [
        {"type": "session-start", "ts": "2026-12-02T10:00:00.000Z", "playbook": "p", "v": 9, "shiny": {"a": 1}},
        {"type": "quantum-probe", "ts": "2026-12-02T10:00:01.000Z", "v": 9, "message": "entangled"},
        {"type": "session-end", "ts": "2026-12-02T10:00:02.000Z", "status": "paused", "reason": "new status"},
    ]
    events = [Event.from_json(r) for r in newer]
    assert events[0].extra == {"shiny": {"a": 1}} and events[0].v == 9
    assert isinstance(events[1], UnknownEvent) and events[1].type == "quantum-probe"
    assert isinstance(events[2], UnknownEvent) and "paused" in events[2].problem  # a status this version lacks
    # written back: everything the line held, as it was (defaults of this version may be added)
    written = [e.to_json() for e in events]
    assert [{k: w[k] for k in r} for w, r in zip(written, newer, strict=True)] == newer
    journal = Journal(tmp_path / "j.jsonl")
    for e in events:
        journal.write(e)
    journal.close()
    assert read_journal(tmp_path / "j.jsonl") == written
    walk = fold_json(newer)
    assert [u.type for u in walk.unknown] == ["quantum-probe", "session-end"]
    assert "quantum-probe (entangled)" in render_markdown(newer)
    assert build_result(newer)["playbook"] == "p"


def test_events_recorded_by_type_and_fields_carry_this_version(tmp_path: Path) -> None:
    from runbook.wiring import RunConfig, build_session

    s = build_session(RunConfig(playbook="502-bad-gateway", scenario="demo", journal=str(tmp_path / "j.jsonl")))
    s.start()
    s.record("hint", node="symptom", level=1, cost=2, text="look at the gateway")
    s.journal.close()
    assert {e["v"] for e in read_journal(tmp_path / "j.jsonl")} == {2}
