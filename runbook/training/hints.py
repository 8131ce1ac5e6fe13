"""The hint policy: three hints per exercise, each telling something the screen does not show.

The tree, the findings and the outputs are already on screen, so a hint never repeats them:
1. where the decisive evidence is: a node the trainee has not run yet (or which of the
   findings on screen is the decisive one, when every needed node was run);
2. two causes the incident's evidence rules out, and the finding that rules each out;
3. the hosts at fault (or that none is).

A hint is recorded as a `hint` event {node, level, cost, text}; it costs points and
simulated time (a call to a colleague). None names the cause.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from runbook.playbook.model import CAUSES, Playbook
from runbook.training.evidence import rules_out
from runbook.training.reference import Reference

if TYPE_CHECKING:
    from runbook.session import Session

#: points each hint costs
HINT_COSTS = {1: 4, 2: 6, 3: 8}
MAX_LEVEL = max(HINT_COSTS)


@dataclass
class Hint:
    node: str
    level: int
    cost: int
    text: str

    def to_event(self) -> dict[str, object]:
        return {"node": self.node, "level": self.level, "cost": self.cost, "text": self.text}


def make_hint(ref: Reference, playbook: Playbook, session: Session, level: int) -> Hint | None:
    if level > MAX_LEVEL:
        return None
    text = {1: _where, 2: _ruled_out, 3: _hosts}[level](ref, playbook, session)
    return Hint(node=session.current or "", level=level, cost=HINT_COSTS[level], text=text)


def _where(ref: Reference, playbook: Playbook, session: Session) -> str:
    ran = {o.node for o in session.state.observations}
    decisive = [f for f in ref.expert_findings if f["id"] in set(ref.cited)]
    nodes = list(dict.fromkeys(f["node"] for f in decisive)) or ref.expert_runs
    unrun = [n for n in nodes if n not in ran and n in playbook.nodes]
    if unrun:
        n = unrun[0]
        return f"The decisive evidence comes from a step you have not run yet: {playbook.nodes[n].title} ({n})."
    seen = {(f.id, f.host) for f in session.state.active_findings()}
    key = [f for f in decisive if (f["id"], f.get("host")) in seen]
    if key:
        f = key[0]
        return f"Of the findings on your screen, the decisive one is the {f['severity']} {f['id']} from {f['node']}."
    return "You have run every step the expert needed: weigh what they found, then commit (d)."


def _ruled_out(ref: Reference, playbook: Playbook, session: Session) -> str:
    known = [f for f in ref.expert_findings if f["severity"] != "info" or f.get("host") in ref.expected_hosts] + [
        {"id": f.id, "severity": f.severity, "host": f.host, "node": f.node} for f in session.state.active_findings()
    ]
    from runbook.lab.faults import FAULTS

    # a fault the first one hides is real: never "ruled out"
    hidden = {FAULTS[f["fault"]].cause if f.get("fault") in FAULTS else f.get("fault") for f in ref.hidden_faults}
    out = []
    for cause in CAUSES:
        if cause == ref.expected_cause or cause in hidden:
            continue
        against = next((f for f in known if rules_out(playbook, cause, f, ref.expected_hosts)), None)
        if against is not None:
            on = f" on {against['host']}" if against.get("host") else ""
            out.append(f"not {cause} (see {against['id']}{on}, from {against['node']})")
        if len(out) == 2:
            break
    if not out:
        return "Nothing in this incident rules a cause out on its own: compare two layers (direct vs gateway)."
    return "The incident's evidence rules out: " + "; ".join(out) + "."


def _hosts(ref: Reference, playbook: Playbook, session: Session) -> str:
    if not ref.expected_hosts:
        return "No host is at fault in this incident."
    hosts = ", ".join(sorted(ref.expected_hosts))
    n = len(ref.expected_hosts)
    return f"The fault is on {n} host{'s' if n > 1 else ''}: {hosts}."
