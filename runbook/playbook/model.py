"""The playbook schema: a decision tree as data, validated with pydantic (unknown keys refused)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

#: Causes a conclusion may name (DESIGN.md, from the 502 guide) plus the healthy case.
CAUSES = (
    "backend-down",
    "backend-overloaded",
    "gateway-misconfigured",
    "dns-failure",
    "malformed-response",
    "network-blocked",
    "no-fault-found",
)

SEVERITIES = ("critical", "warning", "info")
SNAKE = r"^[a-z][a-z0-9_]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HttpSpec(Strict):
    url: str
    method: str = "GET"
    #: "local": httpx from the runner; "host": curl on the check's host (e.g. from the gateway)
    via: Literal["local", "host"] | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    #: a bounded load probe: this many requests, this many at a time
    count: int = Field(default=1, ge=1, le=500)
    concurrency: int = Field(default=1, ge=1, le=50)
    #: stop a probe at the first response with one of these statuses
    stop_on: list[int] = Field(default_factory=list)
    #: an expression giving the protocol to speak to the URL's address ("http", "fastcgi",
    #: "uwsgi"), with `host` (and `item`) bound to inventory host views; a backend that speaks
    #: FastCGI or uwsgi is asked in its own protocol (via: host), never with an HTTP GET
    speak: str | None = None
    #: FastCGI only: the script the request names (SCRIPT_FILENAME); default: the URL's path
    script: str | None = None


class DnsSpec(Strict):
    name: str
    type: str = "A"
    #: resolver to ask (local checks); default: the system resolver (or the host's own)
    server: str | None = None


class TcpSpec(Strict):
    host: str
    port: str | int


class CheckSpec(Strict):
    id: str = Field(pattern=SNAKE)
    title: str | None = None
    on: str = "local"
    shell: str | None = None
    #: run instead when `shell` is missing a tool (exit 127) or the init system is not systemd
    fallback: str | None = None
    http: HttpSpec | None = None
    dns: DnsSpec | None = None
    tcp: TcpSpec | None = None
    timeout: float = Field(default=10.0, gt=0, le=600)
    sudo: bool = False
    mutating: bool = False
    #: a parser from runbook.parsers.PARSERS applied to stdout; the result is `r.data`
    parse: str | None = None
    #: an expression giving a list; the check runs once per item, bound as `item`
    foreach: str | None = None
    #: a log check the TUI may follow (tail -f) until stopped
    follow: str | None = None
    #: exit statuses that mean the check ran; any other is a gap (the log could not be read,
    #: the rules could not be listed). Unset: every exit is evidence but 126/127 (no tool).
    #: the check's steps run one after another (a foreach whose items must not overlap, e.g.
    #: measurements of one host's packet counters), still beside other checks' steps
    serial: bool = False
    ok_exit: list[int] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> CheckSpec:
        kinds = [k for k in ("shell", "http", "dns", "tcp") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"check {self.id!r} needs exactly one of shell, http, dns, tcp (has {kinds or 'none'})")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("shell", "http", "dns", "tcp") if getattr(self, k) is not None)


class FindingRule(Strict):
    id: str = Field(pattern=SNAKE)
    title: str
    severity: Literal["critical", "warning", "info"] = "warning"
    #: evaluate once per result of this check (bound as `r`); without it, once per node
    check: str | None = None
    #: a Jinja2 expression; the finding fires when it is true
    when: str | None = None
    #: a regular expression over the check's output; matching lines become the evidence
    match: str | None = None
    #: a Jinja2 template for the evidence line
    evidence: str | None = None
    #: an expression giving addresses/names of the hosts at fault (default: the check's host)
    blame: str | None = None
    #: without `check`: the check whose step the finding links to (the output it reads)
    step_of: str | None = None

    @model_validator(mode="after")
    def _has_test(self) -> FindingRule:
        if self.when is None and self.match is None:
            raise ValueError(f"finding {self.id!r} needs `when` or `match`")
        if self.match is not None and self.check is None:
            raise ValueError(f"finding {self.id!r}: `match` needs `check`")
        return self


class Branch(Strict):
    when: str | None = None
    goto: str
    reason: str | None = None


class Choice(Strict):
    value: str
    label: str | None = None
    goto: str | None = None


class Question(Strict):
    key: str = Field(pattern=SNAKE)
    prompt: str
    choices: list[Choice] = Field(min_length=1)
    default: str

    @model_validator(mode="after")
    def _default_is_a_choice(self) -> Question:
        if self.default not in {c.value for c in self.choices}:
            raise ValueError(f"default {self.default!r} is not one of the choices")
        return self


class Conclusion(Strict):
    cause: str
    title: str
    summary: str = ""
    remediation: list[str] = Field(default_factory=list)
    prevention: list[str] = Field(default_factory=list)

    @field_validator("cause")
    @classmethod
    def _known_cause(cls, value: str) -> str:
        if value not in CAUSES:
            raise ValueError(f"cause {value!r} is not one of: {', '.join(CAUSES)}")
        return value


class Need(Strict):
    """Evidence a conclusion needs: a check seen (on every host it runs on, or on the hosts
    the conclusion names), or a finding recorded. Written in YAML as `check`, `check@cited`
    or `finding_id`."""

    name: str
    hosts: Literal["all", "cited"] = "all"

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            name, _, scope = value.partition("@")
            return {"name": name, "hosts": scope or "all"}
        return value

    def __str__(self) -> str:
        return self.name if self.hosts == "all" else f"{self.name}@{self.hosts}"


class Candidate(Strict):
    """One cause a `weigh` node considers: the findings that support it and rule it out."""

    #: the conclusion node of this cause
    goto: str
    #: finding id -> weight, added when the finding is active
    support: dict[str, float] = Field(min_length=1)
    #: finding id -> weight, taken away when the finding is active
    against: dict[str, float] = Field(default_factory=dict)
    #: symptom findings this cause can explain: it is weighed only when one of them was found
    explains: list[str] = Field(default_factory=list)


class Weigh(Strict):
    """Weighing, not first match: the best-supported cause that explains the symptom wins."""

    candidates: list[Candidate] = Field(min_length=1)
    #: the least score a cause needs to be concluded
    min_support: float = Field(default=1.0, gt=0)
    #: how far the best must lead the runner-up; closer is a tie, and a tie is inconclusive
    margin: float = Field(default=1.0, ge=0)
    #: where the walk goes when no cause is supported (an unresolved node)
    otherwise: str


class Node(Strict):
    title: str = ""
    why: str = ""
    checks: list[CheckSpec] = Field(default_factory=list)
    findings: list[FindingRule] = Field(default_factory=list)
    next: list[Branch] = Field(default_factory=list)
    question: Question | None = None
    conclusion: Conclusion | None = None
    #: a terminal node that cannot conclude: the reason (exit status 1)
    unresolved: str | None = None
    #: a terminal node for a walk that cannot see enough (gaps): the run ends inconclusive
    inconclusive: str | None = None
    #: a conclusion is reached only when all of these were seen (else: inconclusive)
    needs: list[Need] = Field(default_factory=list)
    #: a decision by weighing the causes (instead of `next`)
    weigh: Weigh | None = None

    @model_validator(mode="after")
    def _shape(self) -> Node:
        if not self.title:
            if self.conclusion is None:
                raise ValueError("a node needs a title")
            self.title = self.conclusion.title
        if self.needs and not self.conclusion:
            raise ValueError("only a conclusion node has `needs`")
        if self.conclusion or self.unresolved or self.inconclusive:
            if self.next or self.checks or self.question:
                raise ValueError("a conclusion, unresolved or inconclusive node has no checks, question or next")
        elif self.weigh is not None:
            if self.next or self.checks or self.question:
                raise ValueError("a weigh node decides by weighing: no checks, question or next")
        elif self.question is None and not self.next:
            raise ValueError("a node needs `next` branches (or a question, conclusion, unresolved)")
        if self.next and self.next[-1].when is not None and self.question is None:
            raise ValueError("the last branch of `next` must have no `when` (the default way on)")
        return self

    @property
    def kind(self) -> str:
        if self.conclusion:
            return "conclusion"
        if self.unresolved:
            return "unresolved"
        if self.inconclusive:
            return "inconclusive"
        if self.question:
            return "question"
        return "check" if self.checks else "decision"


class Playbook(Strict):
    id: str
    title: str
    description: str = ""
    version: int = 1
    start: str
    #: playbook-wide defaults, overridable by the inventory's vars and --var
    vars: dict[str, Any] = Field(default_factory=dict)
    #: host vars the playbook expects from the inventory, with their defaults
    host_vars: dict[str, Any] = Field(default_factory=dict)
    #: roles the walk cannot do without: their logins are tried during the first node, and
    #: a branch can end the walk when none of a role's hosts can be reached (`unreachable(role)`)
    access: list[str] = Field(default_factory=list)
    nodes: dict[str, Node]

    # where the playbook was loaded from, and each node's line (not part of the YAML)
    _path: str | None = PrivateAttr(default=None)
    _lines: dict[tuple[str | int, ...], int] = PrivateAttr(default_factory=dict)

    @property
    def path(self) -> str | None:
        return self._path

    def check(self, check_id: str) -> tuple[str, CheckSpec] | None:
        for node_id, node in self.nodes.items():
            for check in node.checks:
                if check.id == check_id:
                    return node_id, check
        return None
