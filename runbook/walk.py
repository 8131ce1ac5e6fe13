"""The walk's state and its one reducer: `apply(state, event) -> state`.

This is the only code that knows what the journal's events mean: what `back`, `override`,
`skip`, `answer` and `branch` do to the path, the evidence and the conclusion. The live
session appends an event and applies it; resume, the report, the JSON result, training
scoring and the TUI's marks all read `fold(events)`. It needs no playbook: what it must know
about a node (its kind) is in the node-enter event.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from runbook.engine import Finding, Gap, Observation
from runbook.events import (
    FINISHED,
    Answered,
    Branched,
    BranchHeld,
    Concluded,
    ConclusionHeld,
    Diagnosed,
    Event,
    FindingRecorded,
    FollowEnded,
    GapRecorded,
    HintGiven,
    HostKeyAccepted,
    Inconclusive,
    NodeEntered,
    NoteAdded,
    NoteDraft,
    Overridden,
    Resumed,
    SessionEnded,
    SessionStarted,
    Skipped,
    Status,
    StepFinished,
    StepStarted,
    TrainingStarted,
    UnknownEvent,
    Unresolved,
    Weighed,
    WentBack,
)


class FindingStatus(StrEnum):
    ACTIVE = "active"
    #: the engineer overrode it as wrong
    DISMISSED = "dismissed"
    #: found on a part of the walk later undone (back, override)
    SET_ASIDE = "set-aside"


@dataclass(frozen=True)
class StepRecord:
    """A step as the journal tells it: its start and (once it ended) its result."""

    step_id: str
    start: StepStarted | None = None
    result: StepFinished | None = None


_NODE_STATUS = {
    "conclusion": Status.CONCLUDED,
    "unresolved": Status.UNCONCLUDED,
    "inconclusive": Status.INCONCLUSIVE,
    "question": Status.QUESTION,
}


@dataclass(frozen=True)
class WalkState:
    status: Status = Status.NEW
    current: str | None = None
    #: the path the walk stands on (what back and overrides set aside is gone from it)
    path: tuple[str, ...] = ()
    #: every node entry in order, including those later set aside
    visits: tuple[str, ...] = ()
    titles: Mapping[str, str] = field(default_factory=dict)
    start: SessionStarted | None = None
    end: SessionEnded | None = None
    conclusion: Concluded | None = None
    #: every conclusion reached, including those later set aside
    conclusions: tuple[Concluded, ...] = ()
    unresolved_reason: str | None = None
    #: results on the path (the evidence rules read)
    observations: tuple[Observation, ...] = ()
    #: findings on the path, dismissed ones included (see `dismissed`)
    findings: tuple[Finding, ...] = ()
    #: (node, finding id) the engineer overrode as wrong
    dismissed: frozenset[tuple[str, str]] = frozenset()
    #: findings of parts of the walk that back or an override undid
    set_aside: tuple[Finding, ...] = ()
    #: checks that could not run, on the path (never evidence)
    gaps: tuple[Gap, ...] = ()
    #: every gap of the session, including those of parts of the walk later undone
    all_gaps: tuple[Gap, ...] = ()
    #: host -> why no more work is done on it this session (a changed host key)
    blocked_hosts: Mapping[str, str] = field(default_factory=dict)
    #: why the walk ended inconclusive (what could not be seen)
    inconclusive: Inconclusive | None = None
    #: the last weighing of causes on the path
    weighing: Weighed | None = None
    #: question key -> (node, value), on the path
    answers: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: ids of the findings the last branch relied on
    cited: tuple[str, ...] = ()
    #: every step started, in order
    steps: tuple[StepRecord, ...] = ()
    #: steps of the running batch without a result yet, and whether one was cancelled
    pending: frozenset[str] = frozenset()
    batch: tuple[str, ...] = ()
    batch_cancelled: bool = False
    last_step: int = 0
    #: nodes on the path that were skipped / overridden (the TUI tree's marks)
    skipped: frozenset[str] = frozenset()
    overridden: frozenset[str] = frozenset()
    notes: tuple[NoteAdded, ...] = ()
    draft: NoteDraft | None = None
    answer_log: tuple[Answered, ...] = ()
    overrides: tuple[Overridden, ...] = ()
    skips: tuple[Skipped, ...] = ()
    backs: tuple[WentBack, ...] = ()
    host_keys: tuple[HostKeyAccepted, ...] = ()
    follows: tuple[FollowEnded, ...] = ()
    unknown: tuple[UnknownEvent, ...] = ()
    # training
    training: TrainingStarted | None = None
    held: str | None = None
    hints: tuple[HintGiven, ...] = ()
    diagnosis: Diagnosed | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def active_findings(self) -> list[Finding]:
        return [f for f in self.findings if (f.node, f.id) not in self.dismissed]

    def answer_values(self) -> dict[str, str]:
        return {k: v for k, (_, v) in self.answers.items()}

    def cited_findings(self) -> list[Finding]:
        cited = set(self.cited)
        return [f for f in self.active_findings() if f.id in cited]

    def step(self, step_id: str) -> StepRecord | None:
        return next((s for s in self.steps if s.step_id == step_id), None)

    def finding_records(self) -> list[tuple[Finding, FindingStatus]]:
        """Each finding once: those on the path (active or dismissed), then those set aside
        that the path does not hold again (the last of each)."""
        out = [
            (f, FindingStatus.DISMISSED if (f.node, f.id) in self.dismissed else FindingStatus.ACTIVE)
            for f in self.findings
        ]
        held = {(f.node, f.id, f.host) for f in self.findings}
        aside: dict[tuple[str, str, str | None], Finding] = {}
        for f in self.set_aside:
            if (f.node, f.id, f.host) not in held:
                aside.pop((f.node, f.id, f.host), None)
                aside[(f.node, f.id, f.host)] = f
        return out + [(f, FindingStatus.SET_ASIDE) for f in aside.values()]


def _truncate(state: WalkState, keep: tuple[str, ...]) -> WalkState:
    """Forget what the walk did after `keep`: results, findings, answers, marks, conclusion."""
    kept = set(keep)
    return dataclasses.replace(
        state,
        path=keep,
        observations=tuple(o for o in state.observations if o.node in kept),
        findings=tuple(f for f in state.findings if f.node in kept),
        gaps=tuple(g for g in state.gaps if g.node in kept),
        inconclusive=None,
        weighing=state.weighing if state.weighing and state.weighing.node in kept else None,
        set_aside=state.set_aside + tuple(f for f in state.findings if f.node not in kept),
        answers={k: a for k, a in state.answers.items() if a[0] in kept},
        skipped=state.skipped & kept,
        overridden=state.overridden & kept,
        conclusion=None,
        unresolved_reason=None,
    )


def _step_result(state: WalkState, e: StepFinished) -> WalkState:
    obs = e.result
    steps = state.steps
    index = next((i for i, s in enumerate(steps) if s.step_id == obs.step_id), None)
    if index is None:
        steps = (*steps, StepRecord(obs.step_id, None, e))
    else:
        steps = (*steps[:index], dataclasses.replace(steps[index], result=e), *steps[index + 1 :])
    cancelled = state.batch_cancelled or bool(obs.error and obs.error.get("kind") == "cancelled")
    pending = state.pending - {obs.step_id}
    state = dataclasses.replace(
        state,
        steps=steps,
        observations=(*state.observations, obs),
        pending=pending,
        batch_cancelled=cancelled,
        last_step=max(state.last_step, _seq(obs.step_id)),
    )
    if not pending and cancelled:
        # a cancelled batch is not evidence: the node stays current, to run again
        batch = set(state.batch)
        state = dataclasses.replace(
            state,
            status=Status.READY,
            observations=tuple(o for o in state.observations if o.step_id not in batch),
            gaps=tuple(g for g in state.gaps if g.step_id not in batch),
            batch=(),
            batch_cancelled=False,
        )
    return state


def _seq(step_id: str) -> int:
    if not isinstance(step_id, str):  # a hand-edited or corrupt journal
        return 0
    digits = step_id.lstrip("s")
    return int(digits) if digits.isdigit() else 0


def apply(state: WalkState, e: Event) -> WalkState:
    """The state after one more event. Pure: the given state is not changed."""
    r = dataclasses.replace
    if isinstance(e, NodeEntered):
        return r(
            state,
            current=e.node,
            path=(*state.path, e.node),
            visits=(*state.visits, e.node),
            titles={**state.titles, e.node: e.title} if e.node not in state.titles else state.titles,
            status=_NODE_STATUS.get(e.kind, Status.READY),
            held=None,
            pending=frozenset(),
            batch=(),
            batch_cancelled=False,
            unresolved_reason=None,
            inconclusive=None,
        )
    if isinstance(e, StepStarted):
        batch = state.batch if state.pending else ()
        return r(
            state,
            status=Status.RUNNING,
            steps=(*state.steps, StepRecord(e.step_id, e, None)),
            pending=state.pending | {e.step_id},
            batch=(*batch, e.step_id),
            batch_cancelled=state.batch_cancelled if state.pending else False,
            last_step=max(state.last_step, _seq(e.step_id)),
        )
    if isinstance(e, StepFinished):
        return _step_result(state, e)
    if isinstance(e, FindingRecorded):
        return r(state, findings=(*state.findings, e.finding))
    if isinstance(e, GapRecorded):
        g = e.gap
        blocked = state.blocked_hosts
        if g.reason == "host-key-changed" and g.host not in blocked:
            blocked = {**blocked, g.host: g.message or "its host key changed"}
        return r(state, gaps=(*state.gaps, g), all_gaps=(*state.all_gaps, g), blocked_hosts=blocked)
    if isinstance(e, Weighed):
        return r(state, weighing=e)
    if isinstance(e, Inconclusive):
        return r(state, status=Status.INCONCLUSIVE, inconclusive=e, unresolved_reason=e.reason)
    if isinstance(e, Branched):
        return r(state, cited=tuple(e.cited))
    if isinstance(e, Unresolved):
        return r(state, status=Status.UNCONCLUDED, unresolved_reason=e.reason)
    if isinstance(e, Concluded):
        return r(state, status=Status.CONCLUDED, conclusion=e, conclusions=(*state.conclusions, e))
    if isinstance(e, Answered):
        return r(state, answers={**state.answers, e.key: (e.node, e.value)}, answer_log=(*state.answer_log, e))
    if isinstance(e, NoteAdded):
        return r(state, notes=(*state.notes, e), draft=None)
    if isinstance(e, NoteDraft):
        return r(state, draft=e if e.text.strip() else None)
    if isinstance(e, Skipped):
        return r(state, skipped=state.skipped | {e.node}, skips=(*state.skips, e))
    if isinstance(e, WentBack):
        state = r(state, backs=(*state.backs, e))
        if e.to in state.path:
            state = _truncate(state, state.path[: state.path.index(e.to)])
        return state
    if isinstance(e, Overridden):
        return _override(state, e)
    if isinstance(e, Resumed):
        dropped = set(e.dropped)
        return r(
            state,
            status=Status.READY if state.status in (Status.RUNNING, Status.READY) else state.status,
            observations=tuple(o for o in state.observations if o.step_id not in dropped),
            gaps=tuple(g for g in state.gaps if g.step_id not in dropped),
            findings=tuple(f for f in state.findings if f.node != e.node),
            pending=frozenset(),
            batch=(),
            batch_cancelled=False,
        )
    if isinstance(e, ConclusionHeld):
        return r(state, status=Status.DIAGNOSE, held=e.node)
    if isinstance(e, BranchHeld):
        return r(state, status=Status.DECIDE)
    if isinstance(e, SessionStarted):
        return r(state, start=e)
    if isinstance(e, SessionEnded):
        return r(state, end=e)
    if isinstance(e, HostKeyAccepted):
        return r(state, host_keys=(*state.host_keys, e))
    if isinstance(e, FollowEnded):
        return r(state, follows=(*state.follows, e))
    if isinstance(e, TrainingStarted):
        return r(state, training=e)
    if isinstance(e, HintGiven):
        return r(state, hints=(*state.hints, e))
    if isinstance(e, Diagnosed):
        return r(state, diagnosis=e)
    if isinstance(e, UnknownEvent):
        return r(state, unknown=(*state.unknown, e))
    return state


def _override(state: WalkState, e: Overridden) -> WalkState:
    state = dataclasses.replace(state, overrides=(*state.overrides, e))
    if e.finding:
        if e.node:
            state = dataclasses.replace(state, dismissed=state.dismissed | {(e.node, e.finding)})
        if e.node in state.path:
            # re-branch from the node that produced it (its checks do not run again)
            state = _truncate(state, state.path[: state.path.index(e.node) + 1])
    elif state.path:
        state = _truncate(state, state.path[:-1])
    else:
        state = dataclasses.replace(state, conclusion=None)
    if e.node and e.node in state.path:
        state = dataclasses.replace(state, overridden=state.overridden | {e.node})
    return state


def fold(events: Iterable[Event], state: WalkState | None = None) -> WalkState:
    state = state or WalkState()
    for e in events:
        state = apply(state, e)
    return state


def fold_json(raw: Iterable[Mapping[str, object]]) -> WalkState:
    """The state a journal's lines (plain dicts) fold to."""
    return fold(Event.from_json(r) for r in raw)
