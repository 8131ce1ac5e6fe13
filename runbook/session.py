"""One incident: drives the engine, runs the steps, owns the journal, emits events.

The TUI and the headless runner are both thin drivers of a Session: they call its intents
(run, skip, answer, note, override, back, cancel) and subscribe to its events. Every event
that matters goes to the journal first, so a killed process loses nothing but the line it
was writing; `Session.resume` rebuilds the state from any prefix of a journal.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from runbook import __version__
from runbook.checks.runner import execute
from runbook.engine import Engine, Finding, Observation, PlannedStep, RunState
from runbook.inventory import Host, Inventory
from runbook.journal import Journal
from runbook.playbook.model import Playbook
from runbook.transports.base import Transport

Listener = Callable[[dict[str, Any]], None]
#: asked before a mutating step runs: (steps) -> True to run them
ConfirmMutating = Callable[[list[PlannedStep]], Awaitable[bool]]
#: status while a gate holds the walk: the engineer chooses where to go (Session.go)
DECIDE = "decide"


class Gate(Protocol):
    """Passed into a session to hold its branches (training: the trainee decides every move)."""

    def allows(self, from_node: str, to_node: str | None, reason: str) -> bool:
        """True lets the session take this branch; False holds it in status DECIDE."""
        ...


@dataclass
class SessionOptions:
    read_only: bool = False
    answers: dict[str, str] = field(default_factory=dict)
    incident: dict[str, str] = field(default_factory=dict)
    mode: str = "live"
    scenario: str | None = None
    scenario_path: str | None = None
    transport_name: str = "asyncssh"


class Session:
    def __init__(
        self,
        playbook: Playbook,
        inventory: Inventory,
        *,
        remote: Transport,
        local: Transport,
        journal: Journal,
        options: SessionOptions | None = None,
        confirm_mutating: ConfirmMutating | None = None,
        overrides: dict[str, Any] | None = None,
        gate: Gate | None = None,
    ):
        self.playbook = playbook
        self.inventory = inventory
        self.engine = Engine(playbook, inventory, overrides)
        self.remote = remote
        self.local = local
        self.journal = journal
        self.options = options or SessionOptions()
        self.confirm_mutating = confirm_mutating
        self.gate = gate
        self.listeners: list[Listener] = []
        self.state = RunState()
        self.path: list[str] = []
        self.current: str | None = None
        self.conclusion: dict[str, Any] | None = None
        self.status = "new"  # new, ready, running, question, concluded, unconcluded
        self.unresolved_reason: str | None = None
        self.notes: list[dict[str, Any]] = []
        self._seq = 0
        self._cited: list[Finding] = []
        #: the running steps, so cancel() can stop them and still record each as cancelled
        self._step_tasks: list[asyncio.Task[Observation]] = []
        #: how the run was started (inventory path, transport...), kept for `runbook resume`
        self.run_info: dict[str, Any] = {}

    # ---- events -------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def _emit(self, event: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            with contextlib.suppress(Exception):
                listener(event)

    def record(self, event_type: str, **fields: Any) -> dict[str, Any]:
        event = self.journal.append(event_type, **fields)
        self._emit(event)
        return event

    def transport_for(self, host: Host) -> Transport:
        return self.local if host.is_local else self.remote

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self.record(
            "session-start",
            session_id=uuid.uuid4().hex[:12],
            playbook=self.playbook.id,
            playbook_path=self.playbook.path,
            playbook_title=self.playbook.title,
            mode=self.options.mode,
            scenario=self.options.scenario,
            transport=self.options.transport_name,
            inventory=[
                {"name": h.name, "address": h.address, "port": h.port, "roles": h.roles, "user": h.user, "vars": h.vars}
                for h in self.inventory.hosts.values()
            ],
            vars=self.engine.global_vars(),
            incident=self.options.incident,
            read_only=self.options.read_only,
            runbook_version=__version__,
            run=self.run_info,
        )
        for role in self.missing_roles():
            self.record(
                "inventory-warning",
                role=role,
                message=f"no host in the inventory has role {role!r}: its checks will not run",
            )
        self.enter(self.playbook.start, "start of the playbook")

    def missing_roles(self) -> list[str]:
        """Roles the playbook's checks run on that no inventory host has."""
        wanted = {c.on for n in self.playbook.nodes.values() for c in n.checks if c.on != "local"}
        return sorted(r for r in wanted if not self.inventory.with_role(r))

    def enter(self, node_id: str, reason: str) -> None:
        node = self.engine.node(node_id)
        self.current = node_id
        self.path.append(node_id)
        self.record("node-enter", node=node_id, title=node.title, kind=node.kind, why=node.why.strip(), reason=reason)
        if node.conclusion:
            self.conclusion = self.engine.conclusion(node_id, self._cited)
            self.status = "concluded"
            self.record("conclusion", **self.conclusion)
        elif node.unresolved:
            self.status = "unconcluded"
            self.unresolved_reason = node.unresolved.strip()
        elif node.question:
            self.status = "question"
        else:
            self.status = "ready"

    @property
    def finished(self) -> bool:
        return self.status in ("concluded", "unconcluded")

    def plan(self) -> list[PlannedStep]:
        if self.current is None:
            return []
        return self.engine.plan(self.current, self.state)

    # ---- running ------------------------------------------------------------------------
    async def run_current(self) -> str:
        """Run the current node's checks, record findings, take the branch. Returns the new status."""
        if self.current is None or self.finished or self.status in ("question", DECIDE):
            return self.status
        node_id = self.current
        steps = self.plan()
        self.status = "running"
        try:
            observations = await self._run_steps(steps)
        finally:
            self._step_tasks = []
        if any(o.error and o.error["kind"] == "cancelled" for o in observations):
            self.status = "ready"
            return "cancelled"
        self._settle(node_id, observations)
        return self.status

    async def _run_steps(self, steps: list[PlannedStep]) -> list[Observation]:
        refused: set[str] = set()
        mutating = [s for s in steps if s.mutating]
        if mutating:
            allowed = False
            if self.options.read_only:
                why = "--read-only refuses mutating steps"
            elif self.confirm_mutating is None:
                why = "a mutating step needs explicit confirmation, and this run cannot ask"
            else:
                allowed = await self.confirm_mutating(mutating)
                why = "the engineer declined to run it"
            if not allowed:
                refused = {s.key for s in mutating}
                self.record(
                    "mutating-refused",
                    node=self.current,
                    steps=[s.key for s in mutating],
                    commands=[s.command for s in mutating],
                    reason=why,
                )
        coros = []
        for step in steps:
            self._seq += 1
            step_id = f"s{self._seq:03d}"
            self.record(
                "step-start",
                step_id=step_id,
                key=step.key,
                node=step.node,
                check=step.check.id,
                host=step.host.name,
                command=step.command,
                mutating=step.mutating,
                item=step.item,
                follow=step.follow,
            )
            if step.key in refused:
                coros.append(self._refused(step, step_id))
            else:
                coros.append(self._run_one(step, step_id))
        self._step_tasks = [asyncio.ensure_future(c) for c in coros]
        return list(await asyncio.gather(*self._step_tasks))

    async def _refused(self, step: PlannedStep, step_id: str) -> Observation:
        why = "read-only mode" if self.options.read_only else "not confirmed"
        obs = unrun(step, step_id, "refused", f"mutating step not run: {why}")
        self.record("step-result", **obs.to_event())
        return obs

    async def _run_one(self, step: PlannedStep, step_id: str) -> Observation:
        """Run one step; a cancel is recorded as the step's result instead of propagating."""

        def on_output(key: str, stream: str, text: str) -> None:
            self._emit(
                {
                    "type": "step-output",
                    "step_id": step_id,
                    "key": key,
                    "host": step.host.name,
                    "stream": stream,
                    "text": text,
                }
            )

        transport = self.transport_for(step.host)
        try:
            obs = await execute(step, step_id, transport, on_output)
        except asyncio.CancelledError:
            obs = unrun(step, step_id, "cancelled", "cancelled by the engineer")
        self.record("step-result", **obs.to_event())
        return obs

    def cancel(self) -> bool:
        """Stop the running node; its steps are recorded as cancelled and it stays current."""
        pending = [t for t in self._step_tasks if not t.done()]
        for task in pending:
            task.cancel()
        return bool(pending)

    def _settle(self, node_id: str, observations: list[Observation]) -> None:
        outcome = self.engine.evaluate(node_id, self.state, observations)
        self.state.observations += observations
        for finding in outcome.findings:
            self.state.findings.append(finding)
            self.record("finding", **finding.to_event())
        for problem in outcome.problems:
            self.record("rule-problem", node=node_id, message=problem)
        for summary in fanout_summaries(self.engine.node(node_id), observations, outcome.findings):
            self.record("summary", node=node_id, **summary)
        self._go(node_id, outcome.next, outcome.reason, outcome.cited)

    def _go(self, from_node: str, to_node: str | None, reason: str, cited: list[Finding]) -> None:
        if self.gate is not None and not self.gate.allows(from_node, to_node, reason):
            self.status = DECIDE
            return
        if to_node is None:
            self.status = "unconcluded"
            self.unresolved_reason = f"node {from_node!r}: {reason}"
            return
        self._cited = cited
        self.record("branch", **{"from": from_node, "to": to_node, "reason": reason, "cited": [f.id for f in cited]})
        self.enter(to_node, reason)

    def go(self, to_node: str, reason: str, cited: list[Finding] | None = None) -> None:
        """Move to a node the engineer chose (under a gate, the only way the walk moves)."""
        if to_node not in self.playbook.nodes:
            raise ValueError(f"no node {to_node!r}")
        self._go(self.current or self.playbook.start, to_node, reason, cited or [])

    async def answer(self, value: str, source: str = "user") -> None:
        node_id = self.current
        assert node_id is not None
        node = self.engine.node(node_id)
        if node.question is None:
            raise ValueError(f"node {node_id!r} asks no question")
        if value not in {c.value for c in node.question.choices}:
            raise ValueError(f"{value!r} is not one of {[c.value for c in node.question.choices]}")
        self.state.answers[node.question.key] = value
        self.record("answer", node=node_id, key=node.question.key, value=value, source=source)
        nxt, reason = self.engine.next_for_answer(node_id, value, self.state)
        self._go(node_id, nxt, reason, [])

    def note(self, text: str) -> None:
        text = text.rstrip()
        if text:
            entry = self.record("note", node=self.current, text=text)
            self.notes.append(entry)

    def note_draft(self, text: str) -> None:
        """What is being typed, journaled as it is typed, so a killed process loses no note."""
        self.record("note-draft", node=self.current, text=text)

    def skip(self, reason: str = "skipped by the engineer") -> None:
        """Leave the current node without running it; take the default branch."""
        node_id = self.current
        if node_id is None or self.finished:
            return
        node = self.engine.node(node_id)
        self.record("skip", node=node_id, reason=reason)
        default = next((b.goto for b in node.next if b.when is None), None)
        if node.question and default is None:
            default = next((c.goto for c in node.question.choices if c.value == node.question.default), None)
        self._go(node_id, default, f"skipped: {reason}", [])

    def back(self, node_id: str) -> None:
        """Return to a visited node, dropping what was found after it, to branch again."""
        if node_id not in self.path:
            raise ValueError(f"{node_id!r} was not visited")
        keep = self.path[: self.path.index(node_id)]
        self.record("back", to=node_id)
        self._truncate(keep)
        self.enter(node_id, "went back to branch again")

    def _truncate(self, keep: list[str]) -> None:
        """Forget everything the walk did after `keep`: results, findings, answers, conclusion."""
        kept = set(keep)
        self.path = list(keep)
        self.state.observations = [o for o in self.state.observations if o.node in kept]
        self.state.findings = [f for f in self.state.findings if f.node in kept]
        answered = {n.question.key for nid, n in self.playbook.nodes.items() if n.question and nid in kept}
        self.state.answers = {k: v for k, v in self.state.answers.items() if k in answered}
        self.conclusion = None

    def override(self, *, finding: str | None = None, goto: str | None = None, reason: str = "") -> None:
        """The engineer disagrees: dismiss a finding (and re-branch), or take another branch."""
        if finding:
            nodes = {f.node for f in self.state.findings if f.id == finding}
            if not nodes:
                raise ValueError(f"no finding {finding!r} to override")
            for n in nodes:
                self.state.dismissed.add((n, finding))
            node_id = next(n for n in self.path if n in nodes)
            self.record("override", node=node_id, finding=finding, verdict="dismissed", reason=reason, goto=goto)
            # re-branch from the node that produced it, without running its checks again
            self._truncate(self.path[: self.path.index(node_id) + 1])
            if goto is None:
                goto, why, cited = self.engine.choose_branch(node_id, self.state)
                self._cited = cited
                reason = reason or why
            self.record("branch", **{"from": node_id, "to": goto, "reason": f"override: {reason}", "cited": []})
            if goto:
                self.enter(goto, f"override: {reason}")
            return
        if goto:
            if goto not in self.playbook.nodes:
                raise ValueError(f"no node {goto!r}")
            from_node = self.path[-2] if len(self.path) > 1 else self.current
            self.record("override", node=from_node, finding=None, verdict="branch", reason=reason, goto=goto)
            if self.current and self.path and self.path[-1] == self.current:
                self._truncate(self.path[:-1])
            else:
                self.conclusion = None
            self.record("branch", **{"from": from_node, "to": goto, "reason": f"override: {reason}", "cited": []})
            self.enter(goto, f"override: {reason}")

    def record_host_key(self, host: str, fingerprint: str, decision: str) -> None:
        self.record("host-key", host=host, fingerprint=fingerprint, decision=decision)

    async def run_to_end(self, *, stop_at_questions: bool = False, max_nodes: int = 200) -> str:
        """Headless: run every node, answering questions from options or their defaults."""
        for _ in range(max_nodes):
            if self.finished:
                break
            if self.status == "question":
                if stop_at_questions:
                    break
                node = self.engine.node(self.current or "")
                assert node.question is not None
                given = self.options.answers.get(node.question.key)
                await self.answer(given or node.question.default, "cli" if given else "default")
                continue
            status = await self.run_current()
            if status == "cancelled":
                break
        return self.status

    def finish(self) -> None:
        if self.status == "concluded":
            self.record("session-end", status="concluded", reason="conclusion reached")
        elif self.status == "unconcluded":
            self.record("session-end", status="unconcluded", reason=self.unresolved_reason or "")
        else:
            self.record("session-end", status="aborted", reason="stopped before a conclusion")

    async def close(self) -> None:
        for t in {id(self.remote): self.remote, id(self.local): self.local}.values():
            with contextlib.suppress(Exception):
                await t.close()
        self.journal.close()

    # ---- resume -------------------------------------------------------------------------
    def replay_events(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            kind = event["type"]
            if kind == "node-enter":
                self.current = event["node"]
                self.path.append(event["node"])
                node = self.engine.node(event["node"])
                self.status = (
                    "question"
                    if node.question
                    else "concluded"
                    if node.conclusion
                    else "unconcluded"
                    if node.unresolved
                    else "ready"
                )
                if node.unresolved:
                    self.unresolved_reason = node.unresolved.strip()
            elif kind == "step-result":
                self.state.observations.append(Observation.from_event(event))
                self._seq = max(self._seq, int(str(event["step_id"]).lstrip("s") or 0))
            elif kind == "step-start":
                self._seq = max(self._seq, int(str(event["step_id"]).lstrip("s") or 0))
            elif kind == "finding":
                self.state.findings.append(Finding.from_event(event))
            elif kind == "answer":
                self.state.answers[event["key"]] = event["value"]
            elif kind == "note":
                self.notes.append(event)
            elif kind == "conclusion":
                self.conclusion = {k: v for k, v in event.items() if k not in ("type", "ts")}
                self.status = "concluded"
            elif kind == "back":
                keep = self.path[: self.path.index(event["to"])] if event["to"] in self.path else self.path
                self._truncate(keep)
            elif kind == "override":
                if event.get("finding"):
                    self.state.dismissed.add((event["node"], event["finding"]))
                    if event["node"] in self.path:
                        self._truncate(self.path[: self.path.index(event["node"]) + 1])
                elif self.path:
                    self._truncate(self.path[:-1])
                self.conclusion = None
            elif kind == "branch":
                self._cited = [f for f in self.state.active_findings() if f.id in set(event.get("cited", []))]
        # a node whose steps all have results but no branch yet: evaluation was interrupted
        if self.current and self.status == "ready":
            done = [o for o in self.state.observations if o.node == self.current]
            planned = {s.key for s in self.engine.plan(self.current, self.state)}
            if (
                planned
                and planned <= {o.key for o in done}
                and not any(o.error and o.error.get("kind") == "cancelled" for o in done)
            ):
                self.state.observations = [o for o in self.state.observations if o.node != self.current]
                self._settle(self.current, done)
            else:
                # run the node again from the start: drop its partial results
                self.state.observations = [o for o in self.state.observations if o.node != self.current]
                self.state.findings = [f for f in self.state.findings if f.node != self.current]


def fanout_summaries(node: Any, observations: list[Observation], findings: list[Finding]) -> list[dict[str, Any]]:
    """One line per finding that hit some of the hosts a check fanned out to:
    "2 of 12 backend hosts: app3, app7 - backend not listening"."""
    out = []
    for check in node.checks:
        if check.foreach:
            continue  # items, not hosts
        ran_on = sorted({o.host for o in observations if o.check == check.id})
        if len(ran_on) < 2:
            continue
        by_id: dict[str, list[str]] = {}
        for f in findings:
            if f.check == check.id and f.severity != "info" and f.host:
                by_id.setdefault(f.id, [])
                if f.host not in by_id[f.id]:
                    by_id[f.id].append(f.host)
        for finding_id, hosts in by_id.items():
            text = (
                f"{len(hosts)} of {len(ran_on)} {check.on} hosts: {', '.join(hosts)} - {finding_id.replace('_', ' ')}"
            )
            out.append({"check": check.id, "finding": finding_id, "hosts": hosts, "of": len(ran_on), "text": text})
    return out


def unrun(step: PlannedStep, step_id: str, kind: str, message: str) -> Observation:
    """The result of a step that did not run (refused, cancelled)."""
    return Observation(
        step_id=step_id,
        node=step.node,
        check=step.check.id,
        host=step.host.name,
        command=step.command,
        plain_command=step.command,
        key=step.key,
        kind=step.kind,
        item=step.item,
        error={"kind": kind, "message": message},
    )
