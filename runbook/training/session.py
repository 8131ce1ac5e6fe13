"""Training as a policy around an ordinary Session: the trainee decides, the session never does.

A `TrainingGate` is passed into the session (`session.gate`): every branch the engine would
take is held (status DECIDE), and the walk moves only to the node the trainee chose. The
conclusion stays out of reach until the trainee commits a diagnosis (a cause, the hosts at
fault, the findings cited as evidence, and why); then the session enters the conclusion
node of the trainee's cause, so the journal ends like any incident's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from runbook.checks.replay import ReplaySteps
from runbook.engine import Finding
from runbook.events import Event, NodeEntered, SessionStarted, StepFinished
from runbook.playbook import Playbook, load_playbook
from runbook.playbook.model import CAUSES
from runbook.scenario import Scenario, find_scenario, shipped_scenarios
from runbook.session import DECIDE, Session
from runbook.training.hints import Hint, make_hint
from runbook.training.record import SWEEP
from runbook.training.reference import Reference, build_reference, is_terminal
from runbook.training.simclock import simulated_time
from runbook.transports.replay import ReplayTransport
from runbook.wiring import RunConfig, build_session
from runbook.yamlsource import SourceError

__all__ = ["DECIDE", "Training", "TrainingGate"]

#: the incident title every training session gets (the real one would give the answer away)
TRAINING_TITLE = "Training: users report 502 Bad Gateway"


class TrainingGate:
    """Lets the session branch only to the trainee's choice, and freely once committed."""

    def __init__(self) -> None:
        self.chosen: str | None = None
        self.open = False

    def allows(self, from_node: str, to_node: str | None, reason: str) -> bool:
        ok = self.open or (to_node is not None and to_node == self.chosen)
        self.chosen = None
        return ok


@dataclass
class Choice:
    node: str
    title: str
    runs: int
    current: bool


class Training:
    """The trainee's intents (choose, hint, diagnose) over a gated session."""

    def __init__(self, session: Session, reference: Reference, trainee: str = "") -> None:
        self.session = session
        self.reference = reference
        self.trainee = trainee
        self.gate = TrainingGate()
        session.gate = self.gate
        self.diagnosis: dict[str, Any] | None = None
        self._hints: list[dict[str, Any]] = []
        self._runs: list[str] = []
        self._fresh = False
        session.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, SessionStarted):
            # what the walk is scored against, so scoring needs nothing but the journal
            self.session.record("training-start", **self.reference.to_event(), trainee=self.trainee)
        elif isinstance(event, NodeEntered):
            self._fresh = True
        elif isinstance(event, StepFinished) and self._fresh:
            self._runs.append(event.result.node)
            self._fresh = False

    def restore(self, events: list[dict[str, Any]]) -> None:
        """Take up a journal of this training where it stopped (before the session resumes it,
        so that the gate already holds): the hints given, the nodes run, the diagnosis. The
        score needs nothing of this (it reads the journal); the screen and the next hint do."""
        start = next((e for e in events if e.get("type") == "training-start"), None)
        if start is None:
            raise ValueError("not a training journal: no training-start event")
        self.trainee = self.trainee or str(start.get("trainee") or "")
        self._hints = [e for e in events if e.get("type") == "hint"]
        self._runs, self._fresh = [], False
        for e in events:  # as _on_event counts them: the results after one entry are one run
            if e.get("type") == "node-enter":
                self._fresh = True
            elif e.get("type") == "step-result" and self._fresh:
                self._runs.append(str(e.get("node")))
                self._fresh = False
        self.diagnosis = next((e for e in events if e.get("type") == "diagnosis"), None)
        self.gate.open = self.diagnosis is not None

    @property
    def playbook(self) -> Playbook:
        return self.session.playbook

    @property
    def committed(self) -> bool:
        return self.diagnosis is not None

    # ---- where to go -----------------------------------------------------------------------
    def runs(self, node_id: str) -> int:
        """How many times the trainee ran this node's checks."""
        return self._runs.count(node_id)

    def spent_s(self) -> float:
        """Simulated time on call so far."""
        results = [o.to_event() for o in self.session.state.observations]
        return simulated_time(results, self._hints, len(self._runs))

    def choices(self) -> list[Choice]:
        """Every node one can investigate, in playbook order; conclusions (and the engine's own
        weighing node, which runs nothing) are not among them."""
        out = []
        for nid, node in self.playbook.nodes.items():
            if is_terminal(node) or not (node.checks or node.question):
                continue
            out.append(Choice(nid, node.title, self.runs(nid), nid == self.session.current))
        return out

    def choose(self, node_id: str, why: str = "") -> None:
        """Investigate `node_id` next (any node but a conclusion)."""
        if self.committed:
            raise ValueError("the diagnosis is committed")
        if node_id not in {c.node for c in self.choices()}:
            raise ValueError(f"{node_id!r} is not a node to investigate")
        if self.session.status == "running":
            raise ValueError("a step is running")
        self.gate.chosen = node_id
        self.session.go(node_id, f"trainee: {why.strip()}" if why.strip() else "trainee's choice")

    # ---- hints ---------------------------------------------------------------------------------
    def hints_given(self) -> list[dict[str, Any]]:
        return list(self._hints)

    def hint(self) -> Hint | None:
        """The next hint (None when none is left): each adds what the screen does not show."""
        if self.committed:
            return None
        h = make_hint(self.reference, self.playbook, self.session, len(self._hints) + 1)
        if h is None:
            return None
        self._hints.append(self.session.record("hint", **h.to_event()))
        return h

    # ---- the diagnosis -------------------------------------------------------------------------
    def uncovered(self) -> list[Finding]:
        """The findings the trainee's own checks turned up: the only evidence one can cite."""
        unique = {(f.id, f.host): f for f in self.session.state.active_findings()}
        return list(unique.values())

    def diagnose(
        self,
        cause: str,
        hosts: list[str] | None = None,
        evidence: list[tuple[str, str | None]] | None = None,
        why: str = "",
    ) -> dict[str, Any]:
        """Commit: a cause, the hosts at fault, (finding id, host) pairs cited, and why."""
        if cause not in CAUSES:
            raise ValueError(f"{cause!r} is not one of: {', '.join(CAUSES)}")
        if self.committed:
            raise ValueError("a diagnosis was already committed")
        hosts = list(dict.fromkeys(hosts or []))
        unknown = [h for h in hosts if h not in self.session.inventory.hosts]
        if unknown:
            raise ValueError(f"not a host of this incident: {', '.join(unknown)}")
        found = {(f.id, f.host): f for f in self.uncovered()}
        cited: list[Finding] = []
        for fid, host in evidence or []:
            f = found.get((fid, host))
            if f is None:
                raise ValueError(f"finding {fid!r} on {host or '-'} was never uncovered: it cannot be cited")
            cited.append(f)
        s = self.session
        self.diagnosis = s.record(
            "diagnosis",
            cause=cause,
            hosts=hosts,
            evidence=[{"id": f.id, "host": f.host, "node": f.node} for f in cited],
            why=why.strip(),
            node=s.current,
            trainee=self.trainee,
        )
        self.gate.open = True
        target = self.conclusion_node(cause)
        if target and s.status != "running":
            s.go(target, "the trainee's diagnosis", cited)
        return self.diagnosis

    def conclusion_node(self, cause: str) -> str | None:
        ref = self.reference
        node = self.playbook.nodes.get(ref.expected_node or "")
        if node is not None and node.conclusion is not None and node.conclusion.cause == cause:
            return ref.expected_node
        return next(
            (nid for nid, n in self.playbook.nodes.items() if n.conclusion and n.conclusion.cause == cause), None
        )


# ---- building ------------------------------------------------------------------------------
def training_scenarios() -> list[Scenario]:
    """The shipped training set (never the demo: it is shown to everyone)."""
    return [s for s in shipped_scenarios() if s.name != "demo" and s.header.get("codename")]


def pick_scenario(name: str | None, rng: random.Random | None = None) -> Scenario:
    """The scenario named (by codename, name or path), or a random one of the training set."""
    pool = training_scenarios()
    if name:
        wanted = name.strip().lower().replace(" ", "-")
        for s in pool:
            if str(s.header.get("codename", "")).lower().replace(" ", "-") == wanted:
                return s
        return find_scenario(name)
    pool = pool or [s for s in shipped_scenarios() if s.name != "demo"]
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
        incident={"title": TRAINING_TITLE, "severity": "training"},
    )


def serve_sweep(session: Session, scenario_path: str | None, speed: float = 0.0) -> None:
    """Replayed hosts that also answer the nodes the recorded walk never entered."""
    if not scenario_path:
        return
    scenario = find_scenario(scenario_path)
    events = [{**e, "type": "step-result"} if e.get("type") == SWEEP else e for e in scenario.events]
    session.io = ReplaySteps(events, speed=speed)
    session.remote = session.local = ReplayTransport(events, speed=speed)


def build_training(cfg: RunConfig, reference: Reference, trainee: str = "", **kwargs: Any) -> Training:
    """A session like `build_session` makes (replayed or live hosts), gated for training."""
    session = build_session(cfg, **kwargs)
    if cfg.scenario:
        serve_sweep(session, cfg.scenario, cfg.replay_speed)
    session.options.incident = {**session.options.incident, "title": TRAINING_TITLE}
    return Training(session, reference, trainee)


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
