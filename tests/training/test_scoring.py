"""The training policy without the TUI: the gate, the diagnosis, scoring, hints, the debrief."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from runbook.playbook import load_playbook
from runbook.training.debrief import lessons
from runbook.training.report import render_training_report, summary_record, write_training_report
from runbook.training.scoring import score
from runbook.training.summary import class_summary

from .conftest import cite, events, investigate, training

PLAYBOOK = load_playbook("502-bad-gateway")


def test_the_engine_never_branches_under_the_gate(tmp_path: Path) -> None:
    t = training("granite-owl", tmp_path / "j.jsonl")
    s = t.session

    async def press_run(n: int) -> None:
        for _ in range(n):
            await s.run_current()

    asyncio.run(press_run(5))
    assert s.current == "symptom" and s.status == "decide" and s.path == ["symptom"]
    kinds = [e["type"] for e in events(t)]
    assert "branch" not in kinds and "conclusion" not in kinds
    # one result per check of the symptom node: run again in DECIDE runs nothing
    assert kinds.count("step-result") == len(PLAYBOOK.nodes["symptom"].checks)
    sc = score(events(t), PLAYBOOK)
    assert not sc.scored and sc.total == 0


def test_conclusions_are_not_among_the_choices(tmp_path: Path) -> None:
    t = training("granite-owl", tmp_path / "j.jsonl")
    nodes = [c.node for c in t.choices()]
    assert "backend-health" in nodes and "firewall" in nodes
    assert not [n for n in nodes if PLAYBOOK.nodes[n].conclusion or PLAYBOOK.nodes[n].unresolved]
    with pytest.raises(ValueError, match="not a node to investigate"):
        t.choose("cause-backend-down")


def test_right_cause_hosts_and_evidence_score_full_marks_on_the_expert_path(tmp_path: Path) -> None:
    t = training("granite-owl", tmp_path / "j.jsonl")
    investigate(t, ["backend-health"])
    t.diagnose("backend-down", ["app2"], cite(t, "backend_not_running"), "no app process on app2")
    sc = score(events(t), PLAYBOOK)
    assert sc.correct and sc.hosts_right and not sc.unsupported
    assert sc.points["cause"] == 40 and sc.points["hosts"] == 15 and sc.points["evidence"] == 15
    assert sc.points["steps"] == 15 and sc.points["time"] == 15 and sc.total == 100
    # the session then concludes on the trainee's cause, like any incident
    assert t.session.conclusion and t.session.conclusion["cause"] == "backend-down"


def test_wrong_hosts_cost_the_host_points(tmp_path: Path) -> None:
    t = training("granite-owl", tmp_path / "j.jsonl")
    investigate(t, ["backend-health"])
    t.diagnose("backend-down", ["app1", "app2"], cite(t, "backend_not_running"))
    sc = score(events(t), PLAYBOOK)
    assert sc.correct and not sc.hosts_right and sc.points["hosts"] == 0


def test_cited_evidence_that_does_not_support_the_cause(tmp_path: Path) -> None:
    t = training("granite-owl", tmp_path / "j.jsonl")
    investigate(t, ["backend-health"])
    # app1 answering its health check supports no conclusion of backend-down; the stopped service does
    t.diagnose("backend-down", ["app2"], cite(t, "backend_not_running", "backend_healthy"))
    sc = score(events(t), PLAYBOOK)
    assert {c["id"] for c in sc.unsupported} == {"backend_healthy"}
    assert 0 < sc.points["evidence"] < 15


def test_evidence_never_uncovered_cannot_be_cited(tmp_path: Path) -> None:
    t = training("granite-owl", tmp_path / "j.jsonl")
    investigate(t, [])  # the symptom only: the stopped service was never looked at
    with pytest.raises(ValueError, match="never uncovered"):
        t.diagnose("backend-down", ["app2"], [("backend_not_running", "app2")])
    assert not t.committed


def test_wrong_cause_debrief_quotes_what_rules_it_out_and_what_points_right(tmp_path: Path) -> None:
    t = training("birch-otter", tmp_path / "j.jsonl")  # a firewall drops the gateway's packets to app2
    investigate(t, ["backend-health", "gateway-log"])
    t.diagnose("backend-down", ["app2"], cite(t, "log_connect_timeout"), "app2 must be down")
    ev = events(t)
    sc = score(ev, PLAYBOOK)
    assert not sc.correct and sc.points["cause"] == 0
    les = lessons(ev, PLAYBOOK, sc)
    # app2 answers its own health check: it is not down
    assert any(q.id == "backend_healthy" and q.host == "app2" and q.lines for q in les.against)
    assert les.pointing and all(q.lines for q in les.pointing)
    report = render_training_report(ev, PLAYBOOK)
    assert "Why `backend-down` is not it" in report and "app2 must be down" in report
    for q in les.against[:1] + les.pointing[:1]:
        assert q.lines[0] in report  # the output line itself
    assert "A faster path" in report


def test_dead_ends_and_checks_that_could_not_matter(tmp_path: Path) -> None:
    t = training("granite-owl", tmp_path / "j.jsonl")
    investigate(t, ["firewall", "backend-health", "backend-health", "gateway-log"])
    t.diagnose("backend-down", ["app2"], cite(t, "backend_not_running"))
    sc = score(events(t), PLAYBOOK)
    assert sc.dead_ends == ["firewall"]
    assert sc.pointless == ["backend-health", "gateway-log"]  # a repeat; then a check after the evidence
    assert sc.points["dead_ends"] == -3 and sc.points["pointless"] == -4
    assert sc.steps == 5 and sc.time_s > sc.expert_time_s


def test_hints_cost_and_each_adds_what_the_screen_does_not_show(tmp_path: Path) -> None:
    t = training("granite-owl", tmp_path / "j.jsonl")
    investigate(t, [])
    on_screen = " ".join(f.title for f in t.uncovered()) + " ".join(c.title for c in t.choices())
    texts = []
    for _ in range(3):
        h = t.hint()
        assert h is not None and h.text not in on_screen and h.text not in texts
        texts.append(h.text)
    assert t.hint() is None
    assert "backend-health" in texts[0]  # where the evidence is
    assert texts[1].startswith("The incident's evidence rules out") and "backend-down" not in texts[1]
    assert "app2" in texts[2]
    investigate(t, ["backend-health"])
    t.diagnose("backend-down", ["app2"], cite(t, "backend_not_running"))
    sc = score(events(t), PLAYBOOK)
    assert sc.points["hints"] == -(4 + 6 + 8) and sc.total == 100 - 18 - sc.points["time"] * 0 - (
        15 - sc.points["time"]
    )


def test_healthy_exercise_answer_is_no_fault(tmp_path: Path) -> None:
    t = training("amber-heron", tmp_path / "j.jsonl")
    investigate(t, ["backend-health", "load-probe"])
    t.diagnose("no-fault-found", [], cite(t, "gw_ok", "load_clean"))
    sc = score(events(t), PLAYBOOK)
    assert sc.correct and sc.hosts_right and sc.points["hosts"] == 15 and sc.points["evidence"] == 15


def test_two_fault_debrief_tells_what_the_first_fault_hides(tmp_path: Path) -> None:
    t = training("teal-magpie", tmp_path / "j.jsonl")
    investigate(t, ["backend-health"])
    t.diagnose("backend-down", ["app2"], cite(t, "backend_not_running"))
    report = render_training_report(events(t), PLAYBOOK)
    assert "What this incident teaches" in report and "8081" in report


def test_class_summary_over_a_room(tmp_path: Path) -> None:
    room = tmp_path / "room"
    for who, cause in (("ann", "backend-down"), ("bob", "network-blocked"), ("cy", "network-blocked")):
        t = training("granite-owl", tmp_path / f"{who}.jsonl", trainee=who)
        investigate(t, ["firewall", "backend-health"])
        t.diagnose(cause, ["app2"], cite(t, "backend_not_running"))
        write_training_report(events(t), room / f"{who}.training.md", PLAYBOOK)
        assert summary_record(events(t), PLAYBOOK)["trainee"] == who
    text = class_summary(room)
    assert "| ann | Granite Owl |" in text and "| bob | Granite Owl |" in text
    assert "1 of 3 right cause" in text
    assert "wrong causes named: network-blocked ×2" in text
    assert "common dead ends: firewall ×3" in text


def test_a_lucky_guess_earns_nothing_for_speed(tmp_path: Path) -> None:
    t = training("granite-owl", tmp_path / "j.jsonl")
    investigate(t, [])  # only the symptom, then the right cause with nothing to show for it
    t.diagnose("backend-down", ["app2"], [])
    sc = score(events(t), PLAYBOOK)
    assert sc.correct and sc.points["steps"] == 0 and sc.points["time"] == 0 and sc.points["evidence"] == 0
    assert sc.total == 40 + 15
