"""A training session: the walk stops at the edge of a conclusion until the trainee commits.

The session is the ordinary Session (same engine, journal, transports), with the conclusion
held back: when the tree would enter a conclusion (or an unresolved end) the session records
`conclusion-held` and waits in status "diagnose". `diagnose(cause)` records the trainee's
diagnosis, then releases the held conclusion so the journal ends like any other incident.
"""

from __future__ import annotations

import random
from typing import Any

from runbook.playbook import Playbook, load_playbook
from runbook.playbook.model import CAUSES
from runbook.scenario import Scenario, find_scenario, shipped_scenarios
from runbook.session import Session
from runbook.training.hints import Hint, make_hint, next_level
from runbook.training.reference import Reference, build_reference
from runbook.wiring import RunConfig, build_session
from runbook.yamlsource import SourceError

#: status while the tree has concluded but the trainee has not committed yet
DIAGNOSE = "diagnose"


class TrainingSession(Session):
    reference: Reference
    held: tuple[str, str] | None = None
    diagnosis: dict[str, Any] | None = None
    _hints: list[dict[str, Any]]

    @classmethod
    def adopt(cls, session: Session, reference: Reference) -> TrainingSession:
        """Turn a session built by `build_session` into a training session (same state)."""
        session.__class__ = cls
        assert isinstance(session, TrainingSession)
        session.options.hide_conclusions = True
        session.reference = reference
        session.held = None
        session.diagnosis = None
        session._hints = []
        return session

    def record(self, event_type: str, **fields: Any) -> dict[str, Any]:
        event = super().record(event_type, **fields)
        if event_type == "session-start":
            # what the walk is scored against, so scoring needs nothing but the journal
            super().record("training-start", **self.reference.to_event())
        return event

    # ---- the hold -----------------------------------------------------------------------
    def enter(self, node_id: str, reason: str) -> None:
        node = self.engine.node(node_id)
        if self.options.hide_conclusions and self.diagnosis is None and (node.conclusion or node.unresolved):
            self.held = (node_id, reason)
            # the conclusion-held event puts the walk in status "diagnose" (runbook.walk)
            self.record("conclusion-held", node=self.current)
            return
        self.held = None
        super().enter(node_id, reason)

    def skip(self, reason: str = "skipped by the engineer") -> None:
        if self.status == DIAGNOSE:
            return
        super().skip(reason)

    @property
    def committed(self) -> bool:
        return self.diagnosis is not None

    # ---- training intents ---------------------------------------------------------------
    def hints_given(self) -> list[dict[str, Any]]:
        return list(self._hints)

    def hint(self) -> Hint | None:
        """The next hint for the current node (None when all three were given)."""
        node_id = self.current
        if node_id is None or self.committed:
            return None
        level = next_level(self._hints, node_id)
        if level is None:
            return None
        h = make_hint(self.reference, self.playbook, node_id, level, self.path)
        self._hints.append(self.record("hint", **h.to_event()))
        return h

    def diagnose(self, cause: str, note: str = "") -> dict[str, Any]:
        """Commit to a cause; the held conclusion (if the tree reached one) is then revealed."""
        if cause not in CAUSES:
            raise ValueError(f"{cause!r} is not one of: {', '.join(CAUSES)}")
        if self.committed:
            raise ValueError("a diagnosis was already committed")
        held = self.held
        self.diagnosis = self.record(
            "diagnosis", cause=cause, node=self.current, held=held is not None, note=note.strip()
        )
        if held is not None:
            self.held = None
            super().enter(*held)
        return self.diagnosis


# ---- building ------------------------------------------------------------------------------
def pick_scenario(name: str | None, rng: random.Random | None = None) -> Scenario:
    """The named scenario, or a random shipped one (never the demo: it is shown to everyone)."""
    if name:
        return find_scenario(name)
    pool = [s for s in shipped_scenarios() if s.name != "demo"] or shipped_scenarios()
    if not pool:
        raise SourceError(["runbook: no shipped scenario to train on"])
    return (rng or random.Random()).choice(pool)


def reference_for(scenario: Scenario, playbook: Playbook, *, lab: bool = False) -> Reference:
    return build_reference(playbook, name=scenario.name, header=scenario.header, events=scenario.events, lab=lab)


def scenario_config(scenario: Scenario, journal: str | None = None, replay_speed: float = 0.0) -> RunConfig:
    return RunConfig(
        playbook=str(scenario.header.get("playbook") or "502-bad-gateway"),
        scenario=str(scenario.path),
        journal=journal,
        replay_speed=replay_speed,
        incident={"title": "Training: users report 502 Bad Gateway", "severity": "training"},
    )


def build_training_session(cfg: RunConfig, reference: Reference, **kwargs: Any) -> TrainingSession:
    """A session like `build_session` makes (replayed or live hosts), with the conclusion held."""
    return TrainingSession.adopt(build_session(cfg, **kwargs), reference)


def check_scenario(scenario: Scenario, playbook: Playbook | None = None) -> list[str]:
    """Training needs more than replay does: a known cause and a conclusion node in the playbook."""
    problems: list[str] = []
    where = f"{scenario.path}:1"
    cause = scenario.header.get("expected_cause")
    if cause not in CAUSES:
        problems.append(f"{where}: expected_cause {cause!r} is not one of: {', '.join(CAUSES)}")
    try:
        playbook = playbook or load_playbook(str(scenario.header.get("playbook") or ""))
    except SourceError as exc:
        return problems + list(exc.problems)
    node = scenario.header.get("expected_node")
    if node is not None and node not in playbook.nodes:
        problems.append(f"{where}: expected_node {node!r} is not a node of {playbook.id}")
    return problems
