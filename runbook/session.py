"""One incident: drives the engine, runs the steps, owns the journal, emits events.

The TUI and the headless runner are both thin drivers of a Session: they call its intents
(run, skip, answer, note, override, back, cancel, follow) and subscribe to its events. Every
intent becomes typed events (runbook.events): each is journaled first, then folded into
`walk` by runbook.walk.apply, so a killed process loses nothing but the line it was writing
and the session's state is exactly what its journal says; `Session.resume` folds any prefix
of a journal.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from runbook import __version__
from runbook.checks.runner import LiveSteps, StepIO, new_observation
from runbook.engine import CONNECTION_REASONS, Engine, Finding, Gap, Observation, PlannedStep, RunState
from runbook.events import (
    SCHEMA_VERSION,
    Answered,
    Branched,
    BranchHeld,
    CancelRequested,
    Concluded,
    Event,
    FindingRecorded,
    FollowEnded,
    FollowLine,
    FollowStarted,
    GapRecorded,
    HostKeyAccepted,
    HostStateChanged,
    Inconclusive,
    InventoryWarning,
    MutatingRefused,
    NodeEntered,
    NoteAdded,
    NoteDraft,
    Overridden,
    Resumed,
    RuleProblem,
    SessionEnded,
    Skipped,
    Status,
    StepFinished,
    StepOutput,
    StepStarted,
    Summary,
    Unresolved,
    WarningRecorded,
    Weighed,
    WentBack,
)
from runbook.follow import FollowResult, follow
from runbook.gaps import classify, connection_gap
from runbook.inventory import Host, Inventory
from runbook.journal import Journal
from runbook.playbook.model import Node, Playbook
from runbook.transports.base import Transport
from runbook.walk import WalkState, apply, fold_json

#: listeners get each event as typed (runbook.events); the journal keeps its JSON
Listener = Callable[[Event], None]
#: asked before a mutating step runs: (steps) -> True to run them
ConfirmMutating = Callable[[list[PlannedStep]], Awaitable[bool]]
#: status while a gate holds the walk: the engineer chooses where to go (Session.go)
DECIDE = Status.DECIDE


class Gate(Protocol):
    """Passed into a session to hold its branches (training: the trainee decides every move)."""

    def allows(self, from_node: str, to_node: str | None, reason: str) -> bool:
        """True lets the session take this branch; False holds it (status DECIDE)."""
        ...


#: lines of a followed log journaled per follow (a busy log is counted past that, not kept)
MAX_FOLLOW_LINES = 2000


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
    """Every state change is an event: `log` journals it, then folds it into `walk`
    (runbook.walk.apply); what the session knows is what its journal says."""

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
        io: StepIO | None = None,
        gate: Gate | None = None,
    ):
        self.playbook = playbook
        self.inventory = inventory
        self.engine = Engine(playbook, inventory, overrides)
        self.remote = remote
        self.local = local
        #: how steps run: on the hosts (live), or served from a recording (replay)
        self.io: StepIO = io or LiveSteps(remote, local)
        self.journal = journal
        self.options = options or SessionOptions()
        self.confirm_mutating = confirm_mutating
        self.gate = gate
        self.listeners: list[Listener] = []
        self.walk = WalkState()
        #: the running steps, so cancel() can stop them and still record each as cancelled
        self._step_tasks: list[asyncio.Task[Observation]] = []
        #: how the run was started (inventory path, transport...), kept for `runbook resume`
        self.run_info: dict[str, Any] = {}
        #: each host's connection state as last announced (HostStateChanged) to listeners
        self._host_states: dict[str, str] = {}

    # ---- what the walk says -----------------------------------------------------------
    @property
    def status(self) -> Status:
        return self.walk.status

    @property
    def current(self) -> str | None:
        return self.walk.current

    @property
    def path(self) -> list[str]:
        return list(self.walk.path)

    @property
    def conclusion(self) -> dict[str, Any] | None:
        return self.walk.conclusion.as_dict() if self.walk.conclusion else None

    @property
    def unresolved_reason(self) -> str | None:
        return self.walk.unresolved_reason

    @property
    def notes(self) -> list[dict[str, Any]]:
        return [n.to_json() for n in self.walk.notes]

    @property
    def state(self) -> RunState:
        """The evidence so far, as the engine reads it (a fresh copy: changing it changes nothing)."""
        w = self.walk
        return RunState(
            observations=list(w.observations),
            findings=list(w.findings),
            answers=w.answer_values(),
            dismissed=set(w.dismissed),
            gaps=list(w.gaps),
        )

    # ---- events -------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def _emit(self, event: Event) -> None:
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception as exc:
                if isinstance(event, WarningRecorded):
                    continue  # a listener failing on the warning itself: no loop
                name = getattr(listener, "__qualname__", type(listener).__name__)
                self.log(
                    WarningRecorded(
                        message=f"listener {name} failed on a {event.type} event: {type(exc).__name__}: {exc}",
                        source="listener",
                    )
                )

    def log(self, event: Event) -> Event:
        """Journal an event (fsync'd), fold it into the walk, tell the listeners."""
        event = self.journal.write(event)
        self.walk = apply(self.walk, event)
        self._emit(event)
        return event

    def record(self, event_type: str, **fields: Any) -> dict[str, Any]:
        """`log` for an event given as its journal type and fields."""
        return self.log(Event.from_json({"type": event_type, "v": SCHEMA_VERSION, **fields})).to_json()

    def transport_for(self, host: Host) -> Transport:
        return self.local if host.is_local else self.remote

    # ---- what a driver may read (the TUI reads these, never the engine or a transport) ----
    def node(self, node_id: str) -> Node:
        return self.engine.node(node_id)

    def host_states(self) -> dict[str, str]:
        """Each inventory host's connection state, for the host bar's first draw (changes
        then come as HostStateChanged events)."""
        states = {h.name: self.transport_for(h).connection_state(h) for h in self.inventory.hosts.values()}
        self._host_states.update(states)
        return states

    def _announce_host(self, host: Host) -> None:
        """Tell listeners when a host's connection changed. Asked after what connects (a step,
        a follow, a host-key decision): a connection that dies while idle shows at the next one.
        Only inventory hosts, as host_states() lists (not the machine runbook runs on)."""
        if host.name not in self.inventory.hosts:
            return
        state = self.transport_for(host).connection_state(host)
        if self._host_states.get(host.name) != state:
            self._host_states[host.name] = state
            self._emit(HostStateChanged(host=host.name, state=state))

    @property
    def public_url(self) -> str | None:
        url = self.engine.global_vars().get("public_url")
        return str(url) if url else None

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        # through `record` (listeners see it as the journal has it: training adds its reference then)
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
            self.log(
                InventoryWarning(
                    role=role, message=f"no host in the inventory has role {role!r}: its checks will not run"
                )
            )
        self.enter(self.playbook.start, "start of the playbook")

    def missing_roles(self) -> list[str]:
        """Roles the playbook's checks run on that no inventory host has."""
        wanted = {c.on for n in self.playbook.nodes.values() for c in n.checks if c.on != "local"}
        return sorted(r for r in wanted if not self.inventory.with_role(r))

    def enter(self, node_id: str, reason: str) -> None:
        node = self.engine.node(node_id)
        self.log(NodeEntered(node=node_id, title=node.title, kind=node.kind, why=node.why.strip(), reason=reason))
        if node.conclusion:
            cited = self.walk.cited_findings()
            unmet = self.engine.unmet_needs(node_id, self.state, cited)
            if unmet:
                self.log(
                    Inconclusive(
                        node=node_id,
                        blocked=node_id,
                        reason=f"{node.conclusion.cause} cannot be concluded: what it needs could not be seen",
                        missing=unmet,
                    )
                )
            else:
                self.log(Concluded(**self.engine.conclusion(node_id, cited, self.state), **self._weighed_for(node_id)))
        elif node.unresolved and not self.walk.gaps:
            self.log(Unresolved(node=node_id, reason=node.unresolved.strip()))
        elif node.unresolved or node.inconclusive:
            # evidence that explains nothing, with checks that could not run: what was not seen
            # may be the explanation, so the walk says what to fix rather than "unexplained"
            reason = (node.inconclusive or node.unresolved or "").strip()
            self.log(Inconclusive(node=node_id, reason=reason, missing=self._not_seen()))

    def _not_seen(self) -> list[dict[str, Any]]:
        """Every gap of the walk, as an Inconclusive event's `missing`."""
        return [
            {"need": g.check, "host": g.host, "reason": g.reason, "message": g.message, "fix": g.fix}
            for g in self.walk.gaps
        ]

    @property
    def finished(self) -> bool:
        return self.walk.finished

    def plan(self) -> list[PlannedStep]:
        if self.current is None:
            return []
        return self.engine.plan(self.current, self.state)

    # ---- running ------------------------------------------------------------------------
    async def run_current(self) -> str:
        """Run the current node's checks, record findings, take the branch. Returns the new status."""
        if self.current is None or self.finished or self.status in (Status.QUESTION, Status.DIAGNOSE, Status.DECIDE):
            return self.status
        node_id = self.current
        problems: list[str] = []
        steps = self.engine.plan(node_id, self.state, problems)
        for problem in problems:
            self.log(RuleProblem(node=node_id, message=problem))
        try:
            if node_id == self.playbook.start and self.playbook.access and isinstance(self.io, LiveSteps):
                # try the logins the walk depends on while the first node runs, so a gateway
                # that cannot be reached at all ends the walk after it, not after every node
                observations, _ = await asyncio.gather(self._run_steps(steps), self._try_access(node_id))
            else:
                observations = await self._run_steps(steps)
        finally:
            self._step_tasks = []
        if any(o.error and o.error["kind"] == "cancelled" for o in observations):
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
                self.log(
                    MutatingRefused(
                        node=self.current,
                        steps=[s.key for s in mutating],
                        commands=[s.command for s in mutating],
                        reason=why,
                    )
                )
        coros = []
        turns: dict[str, asyncio.Lock] = {}
        for step in steps:
            step_id = f"s{self.walk.last_step + 1:03d}"
            self.log(
                StepStarted(
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
            )
            if step.key in refused:
                coros.append(self._refused(step, step_id))
            elif step.host.name in self.walk.blocked_hosts:
                coros.append(self._blocked(step, step_id))
            elif step.check.serial:
                coros.append(_in_turn(turns.setdefault(step.check.id, asyncio.Lock()), self._run_one(step, step_id)))
            else:
                coros.append(self._run_one(step, step_id))
        self._step_tasks = [asyncio.ensure_future(c) for c in coros]
        return list(await asyncio.gather(*self._step_tasks))

    def _finished(self, obs: Observation) -> Observation:
        self.log(StepFinished(result=obs))
        if not (obs.error and obs.error.get("kind") == "cancelled"):
            found = self.engine.playbook.check(obs.check)
            if found is not None:
                gap = classify(obs, found[1], self.inventory.hosts.get(obs.host))
                if gap is not None:
                    self._gap(gap)
        return obs

    def _weighed_for(self, node_id: str) -> dict[str, Any]:
        """The support of a weighed conclusion, and the runner-up with why it lost."""
        w = self.walk.weighing
        if w is None or w.chosen != node_id:
            return {}
        by_goto = {s["goto"]: s for s in w.scores}
        support = dict(by_goto[node_id]["support"]) if node_id in by_goto else {}
        runner = by_goto.get(w.runner_up or "")
        if runner is None:
            return {"support": support}
        lost = f"scored {runner['score']:g} against {by_goto[node_id]['score']:g}"
        if runner["against"]:
            lost += f"; ruled out by {', '.join(runner['against'])}"
        return {
            "support": support,
            "runner_up": {"node": runner["goto"], "cause": runner["cause"], "score": runner["score"], "why_lost": lost},
        }

    def _gap(self, gap: Gap) -> None:
        """Journal a gap; a changed host key is also a security finding, once per host."""
        first_change = gap.reason == "host-key-changed" and gap.host not in self.walk.blocked_hosts
        self.log(GapRecorded(gap=gap))
        if first_change:
            self.log(
                FindingRecorded(
                    finding=Finding(
                        id="security_host_key_changed",
                        node=gap.node,
                        severity="critical",
                        host=gap.host,
                        title=f"SECURITY: the SSH host key of {gap.host} changed; no more work is done on it",
                        evidence=gap.message,
                        step_id=gap.step_id,
                        check=gap.check,
                    )
                )
            )

    async def _try_access(self, node_id: str) -> None:
        """Log in to every host of the playbook's `access` roles (nothing is run but `true`);
        a failed login is a gap, as a step's would be."""
        from runbook.transports.base import TransportError

        hosts = {h.name: h for role in self.playbook.access for h in self.inventory.with_role(role)}

        async def one(host: Host) -> None:
            try:
                await self.remote.run(host, "true", timeout=host.connect_timeout + 5)
            except TransportError as exc:
                gap = connection_gap(node_id, host, str(exc.kind), exc.message)
                if gap.reason in CONNECTION_REASONS:
                    self._gap(gap)
            except Exception as exc:  # a transport that fails in a way it does not map
                self._gap(connection_gap(node_id, host, "unreachable", f"{type(exc).__name__}: {exc}"))
            self._announce_host(host)

        await asyncio.gather(*(one(h) for h in hosts.values() if not h.is_local))

    async def _blocked(self, step: PlannedStep, step_id: str) -> Observation:
        why = self.walk.blocked_hosts[step.host.name]
        return self._finished(unrun(step, step_id, "host-key-changed", f"not tried: earlier in this session, {why}"))

    async def _refused(self, step: PlannedStep, step_id: str) -> Observation:
        why = "read-only mode" if self.options.read_only else "not confirmed"
        return self._finished(unrun(step, step_id, "refused", f"mutating step not run: {why}"))

    async def _run_one(self, step: PlannedStep, step_id: str) -> Observation:
        """Run one step; a cancel is recorded as the step's result instead of propagating."""

        def on_output(key: str, stream: str, text: str) -> None:
            self._emit(StepOutput(step_id=step_id, key=key, host=step.host.name, stream=stream, text=text))

        try:
            obs = await self.io.run_step(step, step_id, on_output)
        except asyncio.CancelledError:
            obs = unrun(step, step_id, "cancelled", "cancelled by the engineer")
        self._finished(obs)
        self._announce_host(step.host)
        return obs

    def cancel(self) -> bool:
        """Stop the running node; its steps are recorded as cancelled and it stays current."""
        pending = [t for t in self._step_tasks if not t.done()]
        if pending:
            self.log(CancelRequested(node=self.current))
        for task in pending:
            task.cancel()
        return bool(pending)

    def _settle(self, node_id: str, observations: list[Observation]) -> None:
        # the walk's own copies of these results (the engine tells results apart by identity)
        ids = {o.step_id for o in observations}
        mine = [o for o in self.walk.observations if o.step_id in ids]
        outcome = self.engine.evaluate(node_id, self.state, mine)
        for finding in outcome.findings:
            self.log(FindingRecorded(finding=finding))
        for problem in outcome.problems:
            self.log(RuleProblem(node=node_id, message=problem))
        for summary in fanout_summaries(self.engine.node(node_id), mine, outcome.findings):
            self.log(Summary(node=node_id, **summary))
        if outcome.weighing is not None:
            self.log(Weighed(**outcome.weighing))
            if outcome.weighing["verdict"] == "tie":
                # what could not be seen may be what would tell the causes apart
                self.log(Inconclusive(node=node_id, reason=outcome.reason, missing=self._not_seen()))
                return
        self._go(node_id, outcome.next, outcome.reason, outcome.cited)

    def _go(self, from_node: str, to_node: str | None, reason: str, cited: list[Finding]) -> None:
        if self.gate is not None and not self.gate.allows(from_node, to_node, reason):
            self.log(BranchHeld(node=from_node))  # the walk waits in status DECIDE
            return
        if to_node is None:
            self.log(Unresolved(node=from_node, reason=f"node {from_node!r}: {reason}"))
            return
        self.log(Branched(from_node=from_node, to=to_node, reason=reason, cited=[f.id for f in cited]))
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
        self.log(Answered(node=node_id, key=node.question.key, value=value, source=source))
        nxt, reason = self.engine.next_for_answer(node_id, value, self.state)
        self._go(node_id, nxt, reason, [])

    def note(self, text: str) -> None:
        text = text.rstrip()
        if text:
            self.log(NoteAdded(node=self.current, text=text))

    def note_draft(self, text: str) -> None:
        """What is being typed, journaled as it is typed, so a killed process loses no note."""
        self.log(NoteDraft(node=self.current, text=text))

    def skip(self, reason: str = "skipped by the engineer") -> None:
        """Leave the current node without running it; take the default branch."""
        node_id = self.current
        if node_id is None or self.finished:
            return
        node = self.engine.node(node_id)
        self.log(Skipped(node=node_id, reason=reason))
        default = next((b.goto for b in node.next if b.when is None), None)
        if node.question and default is None:
            default = next((c.goto for c in node.question.choices if c.value == node.question.default), None)
        self._go(node_id, default, f"skipped: {reason}", [])

    def back(self, node_id: str) -> None:
        """Return to a visited node, dropping what was found after it, to branch again."""
        if node_id not in self.walk.path:
            raise ValueError(f"{node_id!r} was not visited")
        self.log(WentBack(to=node_id))
        self.enter(node_id, "went back to branch again")

    def override(self, *, finding: str | None = None, goto: str | None = None, reason: str = "") -> None:
        """The engineer disagrees: dismiss a finding (and re-branch), or take another branch."""
        if finding:
            nodes = {f.node for f in self.walk.findings if f.id == finding}
            if not nodes:
                raise ValueError(f"no finding {finding!r} to override")
            node_id = next(n for n in self.walk.path if n in nodes)
            self.log(Overridden(node=node_id, finding=finding, verdict="dismissed", reason=reason, goto=goto))
            # re-branch from the node that produced it, without running its checks again
            cited: list[Finding] = []
            if goto is None:
                goto, why, cited = self.engine.choose_branch(node_id, self.state)
                reason = reason or why
            if goto is None:
                self.log(Unresolved(node=node_id, reason=f"node {node_id!r}: no branch applies"))
                return
            self._go(node_id, goto, f"override: {reason}", cited)
            return
        if goto:
            if goto not in self.playbook.nodes:
                raise ValueError(f"no node {goto!r}")
            path = self.walk.path
            from_node = path[-2] if len(path) > 1 else self.current
            self.log(Overridden(node=from_node, finding=None, verdict="branch", reason=reason, goto=goto))
            self.log(Branched(from_node=from_node, to=goto, reason=f"override: {reason}", cited=[]))
            self.enter(goto, f"override: {reason}")

    # ---- following a log -------------------------------------------------------------------
    def follow_steps(self) -> list[PlannedStep]:
        """The steps with a log to follow, of the latest node on the path that has any."""
        for node_id in reversed(self.walk.path):
            steps = [x for x in self.engine.plan(node_id, self.state) if x.follow]
            if steps:
                return steps
        return []

    async def follow(self, steps: list[PlannedStep], stop: asyncio.Event) -> list[FollowResult]:
        """Follow the steps' logs (tail -F) until `stop` is set, sending test requests through
        the gateway meanwhile (not in replay). Start, lines and end are journaled; the end
        is also written as a note, for the report."""
        url = None if self.options.mode == "replay" else self.engine.global_vars().get("public_url")

        async def one(step: PlannedStep, probe_url: str | None) -> FollowResult:
            host = step.host.name
            self.log(FollowStarted(node=self.current, host=host, command=step.follow or ""))
            partial = ""
            kept = 0

            def on_output(_stream: str, text: str) -> None:
                nonlocal partial, kept
                lines = (partial + text).split("\n")
                partial = lines.pop()
                for line in lines:
                    kept += 1
                    if kept <= MAX_FOLLOW_LINES:  # the rest is counted in follow-end
                        self.log(FollowLine(host=host, stream="log", text=line))

            def on_probe(line: str) -> None:
                self.log(FollowLine(host=host, stream="probe", text=line))

            result = await follow(
                step,
                self.transport_for(step.host),
                stop,
                on_output,
                on_probe,
                probe_url=probe_url,
            )
            self.log(
                FollowEnded(
                    host=host,
                    command=result.command,
                    duration_s=round(result.duration_s, 3),
                    lines=result.lines,
                    error=result.error,
                    summary=result.summary(),
                )
            )
            self._announce_host(step.host)
            return result

        results = await asyncio.gather(*(one(step, url if i == 0 else None) for i, step in enumerate(steps)))
        for result in results:
            self.note(result.summary())
        return list(results)

    def record_host_key(self, host: str, fingerprint: str, decision: str) -> None:
        self.log(HostKeyAccepted(host=host, fingerprint=fingerprint, decision=decision))
        if host in self.inventory.hosts:
            self._announce_host(self.inventory.hosts[host])

    async def run_to_end(self, *, stop_at_questions: bool = False, max_nodes: int = 200) -> str:
        """Headless: run every node, answering questions from options or their defaults."""
        for _ in range(max_nodes):
            if self.finished:
                break
            if self.status == Status.QUESTION:
                if stop_at_questions:
                    break
                node = self.engine.node(self.current or "")
                assert node.question is not None
                given = self.options.answers.get(node.question.key)
                await self.answer(given or node.question.default, "cli" if given else "default")
                continue
            if self.status == Status.DIAGNOSE:
                break
            status = await self.run_current()
            if status == "cancelled":
                break
        return self.status

    def finish(self) -> None:
        if self.status == Status.CONCLUDED:
            self.log(SessionEnded(status=Status.CONCLUDED, reason="conclusion reached"))
        elif self.status in (Status.UNCONCLUDED, Status.INCONCLUSIVE):
            self.log(SessionEnded(status=self.status, reason=self.unresolved_reason or ""))
        else:
            self.log(SessionEnded(status=Status.ABORTED, reason="stopped before a conclusion"))

    async def close(self) -> None:
        for t in {id(self.remote): self.remote, id(self.local): self.local}.values():
            with contextlib.suppress(Exception):
                await t.close()
        self.journal.close()

    # ---- resume -------------------------------------------------------------------------
    def resume(self, events: list[dict[str, Any]]) -> None:
        """Pick a journal up where it stopped: the state is the fold of its events; a node
        whose steps were interrupted runs again, one whose steps all ended is evaluated."""
        self.walk = fold_json(events)
        node_id = self.current
        if node_id is None or self.status not in (Status.READY, Status.RUNNING):
            return
        done = [o for o in self.walk.observations if o.node == node_id]
        planned = {s.key for s in self.engine.plan(node_id, self.state)}
        complete = planned and planned <= {o.key for o in done}
        if complete and not any(o.error and o.error.get("kind") == "cancelled" for o in done):
            self.log(Resumed(node=node_id, dropped=[]))
            self._settle(node_id, done)
        elif done or self.status == Status.RUNNING or any(f.node == node_id for f in self.walk.findings):
            self.log(Resumed(node=node_id, dropped=[o.step_id for o in done]))


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
    obs = new_observation(step, step_id, step.command, "")
    obs.error = {"kind": kind, "message": message}
    return obs


async def _in_turn(lock: asyncio.Lock, coro: Coroutine[Any, Any, Observation]) -> Observation:
    """Run `coro` when the steps before it of the same serial check have finished."""
    try:
        async with lock:
            return await coro
    finally:
        coro.close()  # cancelled while waiting its turn: it never started, and must not warn
