"""Typed journal events: one frozen dataclass per kind of line a journal holds.

Every event keeps the journal's `type` field and gains `v`, the schema version it was
written with (lines written before versioning have none and read as version 1). Fields a
reader does not know (a newer writer's additions) are kept in `extra` and written back out;
a whole kind it does not know becomes an `UnknownEvent` holding the raw line, so nothing a
newer journal says is ever dropped. `docs/journal-schema.md` is generated from this module
(`python -m runbook.events --doc`).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from runbook.engine import Finding, Gap, Observation

#: the version this code writes; lines without a `v` were written before versioning (1)
SCHEMA_VERSION = 2


class Status(StrEnum):
    """Where a walk stands (and how a session ended)."""

    NEW = "new"
    READY = "ready"
    RUNNING = "running"
    QUESTION = "question"
    CONCLUDED = "concluded"
    UNCONCLUDED = "unconcluded"
    #: the walk could not see what a conclusion needs (gaps): no cause, exit 1
    INCONCLUSIVE = "inconclusive"
    #: training: the tree reached a conclusion the trainee has not been shown yet
    DIAGNOSE = "diagnose"
    #: a gate held the branch (training): the engineer chooses where to go next
    DECIDE = "decide"
    ABORTED = "aborted"


#: statuses in which the walk is over
FINISHED = frozenset({Status.CONCLUDED, Status.UNCONCLUDED, Status.INCONCLUSIVE})


def _json_name(f: dataclasses.Field[Any]) -> str:
    return str(f.metadata.get("json", f.name))


_BASE_FIELDS = ("ts", "v", "extra")


@dataclass(frozen=True, kw_only=True)
class Event:
    """One journal line. Subclasses set TYPE and add their fields (all with defaults, so an
    older journal that lacks a field still loads)."""

    TYPE: ClassVar[str] = ""
    DOC: ClassVar[str] = ""
    ts: str = ""
    v: int = SCHEMA_VERSION
    #: fields this version does not know, kept so a newer journal round-trips unchanged
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.TYPE

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "ts": self.ts} if self.ts else {"type": self.type}
        out["v"] = self.v
        for f in dataclasses.fields(self):
            if f.name in _BASE_FIELDS:
                continue
            value = getattr(self, f.name)
            if "flat" in f.metadata:  # a record declared elsewhere, written as the line's own fields
                out.update(value.to_event())
            else:
                out[_json_name(f)] = str(value) if isinstance(value, StrEnum) else value
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Event:
        """The typed event for a journal line; never raises (what cannot be typed is kept raw)."""
        kind = raw.get("type")
        event_cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
        if event_cls is None:
            return UnknownEvent(raw=dict(raw), ts=str(raw.get("ts") or ""), v=_version(raw))
        try:
            return event_cls._build(raw)
        except (TypeError, ValueError) as exc:
            return UnknownEvent(raw=dict(raw), ts=str(raw.get("ts") or ""), v=_version(raw), problem=str(exc))

    @classmethod
    def _build(cls, raw: Mapping[str, Any]) -> Event:
        names = {_json_name(f): f for f in dataclasses.fields(cls) if f.name not in _BASE_FIELDS}
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        flat = [f for f in names.values() if "flat" in f.metadata]
        for flat_field in flat:
            record = flat_field.metadata["flat"]
            kwargs[flat_field.name] = record.from_event(dict(raw))
            names.update({key: flat_field for key in record.__dataclass_fields__})
        for key, value in raw.items():
            if key in ("type", "ts", "v"):
                continue
            found = names.get(key)
            if found is None:
                extra[key] = value
            elif found not in flat:
                kwargs[found.name] = _convert(found, value)
        return cls(ts=str(raw.get("ts") or ""), v=_version(raw), extra=extra, **kwargs)


def _version(raw: Mapping[str, Any]) -> int:
    v = raw.get("v")
    return v if isinstance(v, int) and not isinstance(v, bool) else 1


def _convert(f: dataclasses.Field[Any], value: Any) -> Any:
    kind = str(f.type)
    if kind.startswith("Status"):
        return Status(value) if value is not None else None
    if kind in ("str", "str | None") and value is not None and not isinstance(value, str):
        return str(value)
    return value


EVENT_TYPES: dict[str, type[Event]] = {}
E = TypeVar("E", bound=type[Event])


def event(kind: str, doc: str) -> Any:
    """Register an event class under its journal `type`."""

    def register(cls: E) -> E:
        cls.TYPE = kind
        cls.DOC = doc
        EVENT_TYPES[kind] = cls
        return cls

    return register


@dataclass(frozen=True, kw_only=True)
class UnknownEvent(Event):
    """A kind this version does not know (or a line it could not type): kept and shown."""

    raw: dict[str, Any] = field(default_factory=dict)
    problem: str = ""

    @property
    def type(self) -> str:
        return str(self.raw.get("type", ""))

    def to_json(self) -> dict[str, Any]:
        return dict(self.raw)


# ---- the session ---------------------------------------------------------------------------
@event("scenario", "header line of a scenario file (what a recording is of)")
@dataclass(frozen=True, kw_only=True)
class ScenarioHeader(Event):
    format: int = 1
    name: str = ""
    title: str = ""
    playbook: str = ""
    description: str = ""
    fault: str | None = None
    fault_hosts: list[str] = field(default_factory=list)
    expected_cause: str | None = None
    expected_hosts: list[str] = field(default_factory=list)
    expected_node: str | None = None
    recorded_at: str = ""
    recorded_from: str = ""


@event("session-start", "a session begins: what runs, on which hosts, how it was started")
@dataclass(frozen=True, kw_only=True)
class SessionStarted(Event):
    session_id: str = ""
    playbook: str = ""
    playbook_path: str | None = None
    playbook_title: str = ""
    mode: str = "live"
    scenario: str | None = None
    transport: str = ""
    inventory: list[dict[str, Any]] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    incident: dict[str, Any] = field(default_factory=dict)
    read_only: bool = False
    runbook_version: str = ""
    #: how the run was started (inventory path, transport...), for `runbook resume`
    run: dict[str, Any] = field(default_factory=dict)


@event("inventory-warning", "a role the playbook needs that no inventory host has")
@dataclass(frozen=True, kw_only=True)
class InventoryWarning(Event):
    role: str = ""
    message: str = ""


@event("warning", "something went wrong that is not evidence (a listener failed, ...)")
@dataclass(frozen=True, kw_only=True)
class WarningRecorded(Event):
    message: str = ""
    source: str = ""


@event("resume", "a session was picked up again; the interrupted node's partial results are dropped")
@dataclass(frozen=True, kw_only=True)
class Resumed(Event):
    node: str | None = None
    #: step ids whose results are set aside (the node runs again)
    dropped: list[str] = field(default_factory=list)


@event("session-end", "the session ends")
@dataclass(frozen=True, kw_only=True)
class SessionEnded(Event):
    status: Status = Status.ABORTED
    reason: str = ""


# ---- the walk -------------------------------------------------------------------------------
@event("node-enter", "the walk enters a node")
@dataclass(frozen=True, kw_only=True)
class NodeEntered(Event):
    node: str = ""
    title: str = ""
    #: check, decision, question, conclusion or unresolved
    kind: str = "check"
    why: str = ""
    reason: str = ""


@event("step-start", "a step (one check on one host) is planned and starts")
@dataclass(frozen=True, kw_only=True)
class StepStarted(Event):
    step_id: str = ""
    key: str = ""
    node: str = ""
    check: str = ""
    host: str = ""
    command: str = ""
    mutating: bool = False
    item: Any = None
    follow: str | None = None


@event("step-output", "output of a running step (sent to listeners, not journaled)")
@dataclass(frozen=True, kw_only=True)
class StepOutput(Event):
    step_id: str = ""
    key: str = ""
    host: str = ""
    stream: str = "stdout"
    text: str = ""


def _no_result() -> Observation:
    return Observation(step_id="", node="", check="", host="", command="")


@event(
    "host-state",
    "a host's connection changed (idle, connected, unreachable, key-unknown...): sent to listeners, not journaled",
)
@dataclass(frozen=True, kw_only=True)
class HostStateChanged(Event):
    host: str = ""
    state: str = ""


@event("step-result", "a step finished: the command that actually ran and what it gave back")
@dataclass(frozen=True, kw_only=True)
class StepFinished(Event):
    """Its fields are those of `runbook.engine.Observation` (declared once, there), flat in
    the journal line; `command` is the command that ran (after sudo wrapping and any
    fallback), `plain_command` the planned one."""

    result: Observation = field(default_factory=_no_result, metadata={"flat": Observation})


@event(
    "sweep-result",
    "training scenarios: what a node the recorded walk never entered answered on the same lab "
    "(fields as step-result; served by the replay in training, not part of the walk)",
)
@dataclass(frozen=True, kw_only=True)
class SweepResult(Event):
    result: Observation = field(default_factory=_no_result, metadata={"flat": Observation})


@event("mutating-refused", "mutating steps that were not run, and why")
@dataclass(frozen=True, kw_only=True)
class MutatingRefused(Event):
    node: str | None = None
    steps: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    reason: str = ""


def _no_finding() -> Finding:
    return Finding(id="", node="", severity="info", title="")


def _no_gap() -> Gap:
    return Gap(node="", check="", host="", reason="")


@event(
    "gap",
    "a check could not run on a host (unreachable, host key, auth, missing tool, root, timeout...): "
    "never evidence; names the reason and the fix",
)
@dataclass(frozen=True, kw_only=True)
class GapRecorded(Event):
    """Its fields are those of `runbook.engine.Gap`, flat in the journal line."""

    gap: Gap = field(default_factory=_no_gap, metadata={"flat": Gap})


@event(
    "inconclusive",
    "the walk ends without a cause: what a conclusion needs could not be seen (each missing "
    "check with its host, reason and fix)",
)
@dataclass(frozen=True, kw_only=True)
class Inconclusive(Event):
    node: str | None = None
    #: the conclusion node the evidence pointed at, if any (not a cause: it was not reached)
    blocked: str | None = None
    reason: str = ""
    #: [{need, host, reason, message, fix}]
    missing: list[dict[str, Any]] = field(default_factory=list)


@event(
    "weighed",
    "a weigh node scored its causes: each cause's score, supporting and ruling-out findings; the "
    "verdict (chosen, tie, weak), the chosen node and the runner-up",
)
@dataclass(frozen=True, kw_only=True)
class Weighed(Event):
    node: str = ""
    verdict: str = ""
    chosen: str | None = None
    runner_up: str | None = None
    reason: str = ""
    #: [{goto, cause, score, support: {finding: weight}, against: {...}, explains}]
    scores: list[dict[str, Any]] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)


@event("finding", "a rule fired on a step's result")
@dataclass(frozen=True, kw_only=True)
class FindingRecorded(Event):
    """Its fields are those of `runbook.engine.Finding` (declared once, there), flat in the line."""

    finding: Finding = field(default_factory=_no_finding, metadata={"flat": Finding})


@event("rule-problem", "a rule that could not be evaluated")
@dataclass(frozen=True, kw_only=True)
class RuleProblem(Event):
    node: str = ""
    message: str = ""


@event("summary", "a finding on some of the hosts a check fanned out to")
@dataclass(frozen=True, kw_only=True)
class Summary(Event):
    node: str = ""
    check: str = ""
    finding: str = ""
    hosts: list[str] = field(default_factory=list)
    of: int = 0
    text: str = ""


@event("branch", "the walk takes a branch")
@dataclass(frozen=True, kw_only=True)
class Branched(Event):
    from_node: str | None = field(default=None, metadata={"json": "from"})
    to: str | None = None
    reason: str = ""
    #: ids of the findings the branch relied on
    cited: list[str] = field(default_factory=list)


@event("unresolved", "the walk cannot go on: an unresolved end, or no branch applies")
@dataclass(frozen=True, kw_only=True)
class Unresolved(Event):
    node: str | None = None
    reason: str = ""


@event("answer", "a question node was answered")
@dataclass(frozen=True, kw_only=True)
class Answered(Event):
    node: str = ""
    key: str = ""
    value: str = ""
    #: user, default or cli
    source: str = "user"


@event("note", "a note the engineer wrote")
@dataclass(frozen=True, kw_only=True)
class NoteAdded(Event):
    node: str | None = None
    text: str = ""


@event("note-draft", "what is being typed (the next note or draft supersedes it)")
@dataclass(frozen=True, kw_only=True)
class NoteDraft(Event):
    node: str | None = None
    text: str = ""


@event("override", "the engineer dismisses a finding or takes another branch")
@dataclass(frozen=True, kw_only=True)
class Overridden(Event):
    node: str | None = None
    finding: str | None = None
    #: dismissed (a finding) or branch
    verdict: str = ""
    reason: str = ""
    goto: str | None = None


@event("back", "the walk returns to a visited node to branch again")
@dataclass(frozen=True, kw_only=True)
class WentBack(Event):
    to: str = ""


@event("skip", "a node is left without running it")
@dataclass(frozen=True, kw_only=True)
class Skipped(Event):
    node: str = ""
    reason: str = ""


@event("cancel", "the engineer cancelled the running steps")
@dataclass(frozen=True, kw_only=True)
class CancelRequested(Event):
    node: str | None = None


@event("host-key", "a host key decision")
@dataclass(frozen=True, kw_only=True)
class HostKeyAccepted(Event):
    host: str = ""
    fingerprint: str = ""
    #: trust-once, trust-recorded or abort
    decision: str = ""


@event("conclusion", "the walk reached a conclusion")
@dataclass(frozen=True, kw_only=True)
class Concluded(Event):
    node: str = ""
    cause: str = ""
    title: str = ""
    summary: str = ""
    hosts: list[str] = field(default_factory=list)
    remediation: list[str] = field(default_factory=list)
    prevention: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    #: from a weigh node: the findings that supported this cause, with their weights
    support: dict[str, float] = field(default_factory=dict)
    #: the cause that came second, its score, and the findings that made it lose
    runner_up: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The conclusion without the journal's bookkeeping (type, ts, v)."""
        return {k: v for k, v in self.to_json().items() if k not in ("type", "ts", "v")}


# ---- follow ---------------------------------------------------------------------------------
@event("follow-start", "following a log (tail -F) starts")
@dataclass(frozen=True, kw_only=True)
class FollowStarted(Event):
    node: str | None = None
    host: str = ""
    command: str = ""


@event("follow-line", "a line of a followed log, or of a probe sent meanwhile")
@dataclass(frozen=True, kw_only=True)
class FollowLine(Event):
    host: str = ""
    #: log or probe
    stream: str = "log"
    text: str = ""


@event("follow-end", "following a log stopped")
@dataclass(frozen=True, kw_only=True)
class FollowEnded(Event):
    host: str = ""
    command: str = ""
    duration_s: float = 0.0
    lines: int = 0
    error: str | None = None
    summary: str = ""


# ---- training -------------------------------------------------------------------------------
@event("training-start", "the reference a training walk is scored against")
@dataclass(frozen=True, kw_only=True)
class TrainingStarted(Event):
    scenario: str = ""
    title: str = ""
    description: str = ""
    playbook: str = ""
    expected_cause: str | None = None
    expected_node: str | None = None
    expected_hosts: list[str] = field(default_factory=list)
    expert_path: list[str] = field(default_factory=list)
    shortest_path: list[str] = field(default_factory=list)
    expert_findings: list[dict[str, Any]] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)
    lab: bool = False
    expert_runs: list[str] = field(default_factory=list)
    expert_time_s: float = 0.0
    codename: str = ""
    briefing: str = ""
    difficulty: str = ""
    teaching: str = ""
    hidden_faults: list[dict[str, Any]] = field(default_factory=list)
    trainee: str = ""


@event("branch-held", "a gate held the branch the engine would take (training: the trainee chooses)")
@dataclass(frozen=True, kw_only=True)
class BranchHeld(Event):
    node: str | None = None


@event("conclusion-held", "training: the tree reached a conclusion, held until the trainee commits")
@dataclass(frozen=True, kw_only=True)
class ConclusionHeld(Event):
    node: str | None = None


@event("hint", "training: a hint was given")
@dataclass(frozen=True, kw_only=True)
class HintGiven(Event):
    node: str = ""
    level: int = 1
    cost: int = 0
    text: str = ""


@event("diagnosis", "training: the trainee commits to a cause")
@dataclass(frozen=True, kw_only=True)
class Diagnosed(Event):
    cause: str = ""
    node: str | None = None
    held: bool = False
    note: str = ""
    hosts: list[str] = field(default_factory=list)
    #: the findings cited: {id, host, node}
    evidence: list[dict[str, Any]] = field(default_factory=list)
    why: str = ""
    trainee: str = ""


def parse_events(raw: Iterable[Mapping[str, Any]]) -> list[Event]:
    return [Event.from_json(r) for r in raw]


# ---- the schema document ----------------------------------------------------------------------
def _doc_fields(cls: type[Event]) -> list[dataclasses.Field[Any]]:
    out: list[dataclasses.Field[Any]] = []
    for f in dataclasses.fields(cls):
        if f.name in _BASE_FIELDS:
            continue
        out += list(dataclasses.fields(f.metadata["flat"])) if "flat" in f.metadata else [f]
    return out


def schema_doc() -> str:
    """docs/journal-schema.md, generated from the classes above."""
    out = [
        "# Journal schema",
        "",
        "<!-- generated by `python -m runbook.events --doc > docs/journal-schema.md`; do not edit -->",
        "",
        f"One JSON object per line. Every line has `type`, `ts` (ISO-8601 UTC) and `v` (schema version,"
        f" now {SCHEMA_VERSION}; lines without it are version 1). Unknown fields and unknown types are kept"
        " and shown, never dropped. Status values: " + ", ".join(f"`{s}`" for s in Status) + ".",
        "",
    ]
    for kind, cls in EVENT_TYPES.items():
        out += [f"## `{kind}` ({cls.__name__})", "", cls.DOC[:1].upper() + cls.DOC[1:] + ".", ""]
        out += ["| field | type | default |", "|---|---|---|"]
        for f in _doc_fields(cls):
            if f.default is not dataclasses.MISSING:
                default = repr(f.default)
            elif f.default_factory is not dataclasses.MISSING:
                default = repr(f.default_factory())
            else:
                default = "required"
            kind = str(f.type).replace("|", "\\|")  # a pipe would end the table cell
            out.append(f"| `{_json_name(f)}` | `{kind}` | `{default}` |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover - the doc generator
    if sys.argv[1:] == ["--doc"]:
        sys.stdout.write(schema_doc())
    else:
        sys.exit("usage: python -m runbook.events --doc")
