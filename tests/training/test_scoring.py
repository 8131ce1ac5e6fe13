"""Scoring is a pure function of the training journal: real replayed walks, then the journal alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.playbook import load_playbook
from runbook.training.hints import HINT_COSTS
from runbook.training.reference import build_reference, shortest_path, walked_path
from runbook.training.report import render_training_report
from runbook.training.scoring import POINTS_CAUSE, score

from .conftest import events, training_session, walk


def test_right_diagnosis_after_the_held_conclusion(tmp_path: Path) -> None:
    s = training_session("firewall", tmp_path / "j.jsonl")
    s.start()
    walk(s)
    assert s.status == "diagnose" and s.conclusion is None  # held: nothing revealed yet
    assert not any(e["type"] == "conclusion" for e in events(s))
    s.diagnose("network-blocked")
    s.finish()
    result = score(events(s))
    assert result.correct and result.diagnosis == "network-blocked"
    assert result.points["cause"] == POINTS_CAUSE
    assert result.held
    assert result.wrong_turns == [] and result.backtracks == 0 and result.missed == []
    assert result.trainee_path == result.expert_path[:-1]
    assert result.total == 100
    # the conclusion is revealed (and journalled) only after the diagnosis
    kinds = [e["type"] for e in events(s)]
    assert kinds.index("diagnosis") < kinds.index("conclusion")


def test_wrong_diagnosis_scores_no_cause_points(tmp_path: Path) -> None:
    s = training_session("firewall", tmp_path / "j.jsonl")
    s.start()
    walk(s)
    s.diagnose("dns-failure")
    result = score(events(s))
    assert not result.correct
    assert result.points["cause"] == 0
    assert result.total == 50  # efficiency and evidence intact
    assert "Wrong cause" in render_training_report(events(s))


def test_hints_cost_points_and_stop_after_three(tmp_path: Path) -> None:
    s = training_session("backend-down", tmp_path / "j.jsonl")
    s.start()
    texts = [s.hint() for _ in range(4)]
    assert texts[3] is None
    assert [h.level for h in texts[:3]] == [1, 2, 3]
    assert "Why this step" in texts[0].text
    # level 2 quotes what the recording found at this node
    assert "recorded incident" in texts[1].text
    walk(s)
    s.diagnose("backend-down")
    result = score(events(s))
    assert result.hint_cost == sum(HINT_COSTS.values())
    assert result.points["hints"] == -sum(HINT_COSTS.values())
    assert result.total == 100 - sum(HINT_COSTS.values())


def test_hint_names_the_recorded_findings_and_never_the_cause(tmp_path: Path) -> None:
    s = training_session("backend-down", tmp_path / "j.jsonl")
    s.start()
    walk(s, until="backend-health")
    assert s.current == "backend-health"
    hints = [s.hint() for _ in range(3)]
    recorded = [f["title"] for f in s.reference.findings_at("backend-health") if f["severity"] != "info"]
    assert recorded and all(title in hints[1].text for title in recorded)
    for h in hints:
        assert "backend-down" not in h.text and "cause-" not in h.text


def test_skipping_misses_evidence_and_early_diagnosis(tmp_path: Path) -> None:
    s = training_session("backend-down", tmp_path / "j.jsonl")
    s.start()
    walk(s, until="backend-health")
    s.skip("trainee skipped")  # the default branch: off the expert path
    assert s.current == "gateway-log"
    s.diagnose("backend-overloaded")  # committed before the tree concluded
    result = score(events(s))
    assert not result.held and not result.correct
    assert result.skipped == ["backend-health"]
    assert result.wrong_turns == ["gateway-log"]
    missed = {(f["node"], f["id"]) for f in result.missed}
    assert missed and all(node == "backend-health" for node, _ in missed)
    assert result.points["evidence"] < 20
    assert result.points["wrong_turns"] < 0


def test_backtrack_and_wrong_turn_from_an_override(tmp_path: Path) -> None:
    s = training_session("backend-down", tmp_path / "j.jsonl")
    s.start()
    walk(s, until="backend-health")
    s.override(goto="upstream-dns", reason="I think it is DNS")
    assert s.current == "upstream-dns"
    assert s.path == ["symptom", "upstream-dns"]  # the branch symptom -> backend-health was overridden
    s.back("symptom")
    walk(s)
    assert s.status == "diagnose"
    s.diagnose("backend-down")
    result = score(events(s))
    assert result.correct
    assert result.wrong_turns == ["upstream-dns"]
    assert result.backtracks == 1 and result.overrides == 1
    assert result.trainee_visits.count("symptom") == 2
    assert result.total < 100 and result.points["efficiency"] < 30


def test_score_without_a_diagnosis(tmp_path: Path) -> None:
    s = training_session("healthy", tmp_path / "j.jsonl")
    s.start()
    result = score(events(s))
    assert result.diagnosis is None and result.points["cause"] == 0 and result.points["efficiency"] == 0
    with pytest.raises(ValueError):
        s.diagnose("not-a-cause")


def test_not_a_training_journal() -> None:
    with pytest.raises(ValueError, match="training-start"):
        score([{"type": "session-start", "ts": "2026-01-01T00:00:00Z"}])


def test_paths() -> None:
    pb = load_playbook("502-bad-gateway")
    path = shortest_path(pb, "cause-backend-down")
    assert path == ["symptom", "backend-health", "cause-backend-down"]
    # by cause alone: the nearest conclusion naming it
    assert shortest_path(pb, None, "backend-down")[-1] == "cause-backend-down"
    walked = walked_path(
        [
            {"type": "node-enter", "node": "a"},
            {"type": "node-enter", "node": "b"},
            {"type": "node-enter", "node": "c"},
            {"type": "back", "to": "b"},
            {"type": "node-enter", "node": "b"},
            {"type": "node-enter", "node": "d"},
        ]
    )
    assert walked == ["a", "b", "d"]
    ref = build_reference(pb, name="x", header={"expected_cause": "dns-failure"}, lab=True)
    assert ref.expert_path == ref.shortest_path and ref.expected_node == ref.shortest_path[-1]
