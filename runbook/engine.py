"""The decision-tree walker: pure and synchronous. No I/O, no UI.

Given the playbook, the inventory and the results so far, the engine says which steps a node
runs (with their exact commands), which findings the results produce, and where to go next
and why. The session does the running and the recording.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from runbook.inventory import LOCAL, Host, Inventory
from runbook.parsers.process import CURL_WRITE_OUT
from runbook.playbook.expr import ExprError, MissingVar, evaluate, expression_names, render_template, render_text
from runbook.playbook.model import CheckSpec, Conclusion, FindingRule, HttpSpec, Node, Playbook
from runbook.safety import shell_quote

#: gap reasons that mean nothing at all could be run on the host (the connection failed)
CONNECTION_REASONS = frozenset(
    {"unreachable", "unresolvable", "timeout", "auth-refused", "host-key-unknown", "host-key-changed"}
)

#: what a tcp target may look like (it ends up inside a shell script on the host)
SAFE_HOST = re.compile(r"^[A-Za-z0-9._:-]+$")


@dataclass
class PlannedStep:
    """One check on one host (and one item of a foreach): what will run, exactly."""

    key: str
    node: str
    check: CheckSpec
    host: Host
    command: str
    kind: str
    item: Any = None
    request: dict[str, Any] = field(default_factory=dict)
    fallback: str | None = None
    follow: str | None = None
    #: set when the step cannot be planned (a template value is missing on this host)
    error: str | None = None

    @property
    def timeout(self) -> float:
        return self.check.timeout

    @property
    def mutating(self) -> bool:
        return self.check.mutating


@dataclass
class Observation:
    """The result of one step, as recorded in the journal's step-result event."""

    step_id: str
    node: str
    check: str
    host: str
    #: the command that ran (after sudo wrapping and any fallback)
    command: str
    kind: str = "shell"
    #: the planned command before any sudo wrapping (replay answers either)
    plain_command: str = ""
    key: str = ""
    item: Any = None
    started_at: str = ""
    duration_s: float = 0.0
    exit_status: int | None = None
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    truncated_bytes: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    error: dict[str, str] | None = None

    def view(self) -> dict[str, Any]:
        """What rules see as `r` (and as the check's name)."""
        output = self.stdout + ("\n" + self.stderr if self.stderr else "")
        return {
            "exit_status": self.exit_status,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "output": output,
            "duration_s": self.duration_s,
            "timed_out": self.timed_out,
            "error": self.error["kind"] if self.error else None,
            "error_message": self.error["message"] if self.error else None,
            "data": self.data,
            "host": self.host,
            "item": self.item,
            "status": self.data.get("http_code"),
            "ok": self.error is None and not self.timed_out and self.exit_status == 0,
        }

    def to_event(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Observation:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in event.items() if k in known})


@dataclass
class Finding:
    id: str
    node: str
    severity: str
    title: str
    evidence: str = ""
    host: str | None = None
    step_id: str | None = None
    check: str | None = None

    def to_event(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Finding:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in event.items() if k in known})


@dataclass
class Gap:
    """A check that could not run on a host: what, where, why, and what to fix. Never evidence."""

    node: str
    check: str
    host: str
    #: one of runbook.gaps.REASONS (unreachable, host-key-changed, missing-tool, ...)
    reason: str
    message: str = ""
    fix: str = ""
    step_id: str | None = None

    def to_event(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Gap:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in event.items() if k in known})


@dataclass
class RunState:
    """Everything decided so far; rebuilt from the journal on resume."""

    observations: list[Observation] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)
    #: finding ids the engineer overrode as wrong, per node
    dismissed: set[tuple[str, str]] = field(default_factory=set)
    #: checks that could not run: their observations are never shown to a rule
    gaps: list[Gap] = field(default_factory=list)

    def active_findings(self) -> list[Finding]:
        return [f for f in self.findings if (f.node, f.id) not in self.dismissed]

    def gapped_steps(self) -> set[str]:
        return {g.step_id for g in self.gaps if g.step_id}

    def evidence(self) -> list[Observation]:
        """The observations rules may read: every result except those of gapped steps."""
        gapped = self.gapped_steps()
        return [o for o in self.observations if o.step_id not in gapped]


@dataclass
class CauseScore:
    """How one cause of a weigh node scored."""

    goto: str
    cause: str
    score: float
    support: dict[str, float]
    against: dict[str, float]
    #: False when no symptom this cause could explain was found (it is not weighed)
    explains: bool


@dataclass
class Outcome:
    findings: list[Finding]
    next: str | None
    reason: str
    #: findings the chosen branch relied on (their hosts are the hosts involved)
    cited: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: a weigh node's scores (runbook.engine.Engine.weigh), journaled as a `weighed` event
    weighing: dict[str, Any] | None = None


class ObsGroup(list):
    """The results of one check across hosts; attribute access reads the first result."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or not self:
            raise AttributeError(name)
        first = self[0]
        if name in first:
            return first[name]
        raise AttributeError(name)

    @property
    def hosts(self) -> list[str]:
        return [o["host"] for o in self]


#: how a host names itself: a gateway's upstream on one of these is on the gateway
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def _resolved_aliases(results: Mapping[str, Any]) -> dict[str, str]:
    """address -> the name a DNS check resolved to it, from every resolution seen so far."""
    aliases: dict[str, str] = {}
    for views in results.values():
        for view in views or []:
            data = view.get("data") if isinstance(view, Mapping) else None
            item = view.get("item") if isinstance(view, Mapping) else None
            if isinstance(data, Mapping) and isinstance(item, str) and data.get("answers"):
                for answer in data["answers"]:
                    aliases.setdefault(str(answer), item)
    return aliases


def _flatten(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple | set):
        out: list[Any] = []
        for v in value:
            out += _flatten(v)
        return out
    return [value]


class Engine:
    def __init__(self, playbook: Playbook, inventory: Inventory, overrides: dict[str, Any] | None = None):
        self.playbook = playbook
        self.inventory = inventory
        self.overrides = overrides or {}
        self.finding_ids = {f.id for n in playbook.nodes.values() for f in n.findings}

    # ---- variables -------------------------------------------------------------------
    def global_vars(self) -> dict[str, Any]:
        return {**self.playbook.vars, **self.inventory.vars, **self.overrides}

    def host_context(self, host: Host, item: Any = None) -> dict[str, Any]:
        ctx = {**self.global_vars(), **self.playbook.host_vars, **host.vars, **self.overrides}
        ctx.update(
            host=host.name, address=host.address, ssh_port=host.port, user=host.user or "", roles=",".join(host.roles)
        )
        if item is not None:
            ctx["item"] = item
        return ctx

    def inventory_view(self) -> dict[str, Any]:
        hosts = [
            {
                "name": h.name,
                "address": h.address,
                "roles": h.roles,
                **{f"var_{k}": v for k, v in h.vars.items()},
                "vars": h.vars,
            }
            for h in self.inventory.hosts.values()
        ]
        by_role: dict[str, list[dict[str, Any]]] = {}
        for h in hosts:
            for role in h["roles"]:
                by_role.setdefault(role, []).append(h)
        endpoints: list[str] = []
        by_hostname: dict[str, str] = {}
        for host in self.inventory.hosts.values():
            port = host.vars.get("port")
            names = [host.address, host.name] + ([str(host.vars["hostname"])] if host.vars.get("hostname") else [])
            if host.vars.get("hostname"):
                by_hostname[str(host.vars["hostname"])] = host.address
            if "gateway" in host.roles:
                # the gateway's config reaches a backend on the gateway itself over loopback
                names += list(LOOPBACK)
            if port:
                endpoints += [f"{n}:{port}" for n in names]
        return {
            "hosts": hosts,
            "by_role": by_role,
            "addresses": [h["address"] for h in hosts],
            "endpoints": endpoints,
            "by_hostname": by_hostname,
            "names": list(by_hostname),
            # the address each host name stands for (names in the config, addresses in the inventory)
            "by_name": {h.name: h.address for h in self.inventory.hosts.values()},
        }

    def expr_context(self, state: RunState) -> dict[str, Any]:
        results: dict[str, ObsGroup] = {}
        for obs in state.evidence():
            results.setdefault(obs.check, ObsGroup()).append(obs.view())
        fired: dict[str, list[dict[str, Any]]] = {fid: [] for fid in self.finding_ids}
        for f in state.active_findings():
            fired.setdefault(f.id, []).append(f.to_event())
        ctx: dict[str, Any] = {**fired, **results}
        ctx.update(
            vars=self.global_vars(),
            answers=dict(state.answers),
            inventory=self.inventory_view(),
            results=results,
            findings=[f.to_event() for f in state.active_findings()],
            gaps=[g.to_event() for g in state.gaps],
            # a rule that reads another check's output guards with seen('check') (validated)
            seen=lambda check_id: bool(results.get(str(check_id))),
            unreachable=lambda role: self.unreachable(str(role), state),
        )
        return ctx

    def unreachable(self, role: str, state: RunState) -> bool:
        """True when every host of `role` failed to connect (nothing on it can be seen)."""
        hosts = {h.name for h in self.inventory.with_role(role)}
        failed = {g.host for g in state.gaps if g.reason in CONNECTION_REASONS}
        return bool(hosts) and hosts <= failed

    # ---- planning ---------------------------------------------------------------------
    def node(self, node_id: str) -> Node:
        return self.playbook.nodes[node_id]

    def hosts_for(self, check: CheckSpec) -> list[Host]:
        return self.inventory.with_role(check.on) if check.on != LOCAL else [self.inventory.local_host()]

    def plan(self, node_id: str, state: RunState, problems: list[str] | None = None) -> list[PlannedStep]:
        """The steps of a node. A `foreach` that cannot be evaluated plans no step for its check,
        and says why in `problems` (the session journals each as a rule problem)."""
        node = self.node(node_id)
        steps: list[PlannedStep] = []
        ctx = self.expr_context(state)
        for check in node.checks:
            items: list[Any] = [None]
            if check.foreach:
                try:
                    items = _flatten(evaluate(check.foreach, ctx))
                except ExprError as exc:
                    if problems is not None:
                        problems.append(f"check {check.id} foreach: {exc}")
                    items = []
                # a name-based list may repeat; keep the first of each
                unique: list[Any] = []
                for it in items:
                    if it not in unique:
                        unique.append(it)
                items = unique
            for host in self.hosts_for(check):
                for index, item in enumerate(items):
                    key = f"{node_id}/{check.id}/{host.name}" + (f"/{index}" if check.foreach else "")
                    step = self._plan_one(node_id, check, host, item, key)
                    if check.http is not None and check.http.speak and not step.error:
                        self._speak(step, check.http, ctx, host, item, problems)
                    steps.append(step)
        return steps

    def _speak(
        self, step: PlannedStep, spec: HttpSpec, ctx: dict[str, Any], host: Host, item: Any, problems: list[str] | None
    ) -> None:
        """Turn an HTTP check into one in the protocol its target speaks (FastCGI, uwsgi), as
        `speak` says for this host and item; HTTP when it says HTTP or cannot be evaluated."""
        from runbook.playbook.expr import SPOKEN
        from runbook.speak import speak_on_host

        known: dict[str, Any] = next((h for h in ctx["inventory"]["hosts"] if h["name"] == host.name), {})
        view = {**known, "vars": {**self.playbook.host_vars, **host.vars}}
        try:
            protocol = str(evaluate(spec.speak or "'http'", {**ctx, "host": view, "item": item}))
        except ExprError as exc:
            if problems is not None:
                problems.append(f"check {step.check.id} speak: {exc}")
            return
        if protocol not in SPOKEN or step.request.get("via") != "host":
            return
        url = urlsplit(step.request["url"])
        step.request = {
            **step.request,
            "protocol": protocol,
            "address": url.netloc,
            "path": url.path + (f"?{url.query}" if url.query else ""),
        }
        try:
            script = render_template(spec.script, self.host_context(host, item), quote=False) if spec.script else ""
            if script and protocol == "fastcgi":
                step.request["script"] = script
            step.command = speak_on_host(step.request, step.check.timeout)
        except (MissingVar, ValueError) as exc:
            step.error = f"cannot build the {protocol} request for {host.name}: {exc}"

    def _plan_one(self, node_id: str, check: CheckSpec, host: Host, item: Any, key: str) -> PlannedStep:
        ctx = self.host_context(host, item)
        step = PlannedStep(key=key, node=node_id, check=check, host=host, command="", kind=check.kind, item=item)
        try:
            if check.shell is not None:
                step.command = render_template(check.shell, ctx)
                if check.fallback:
                    step.fallback = render_template(check.fallback, ctx)
                if check.follow:
                    step.follow = render_template(check.follow, ctx)
            elif check.http is not None:
                url = render_template(check.http.url, ctx, quote=False)
                via = check.http.via or ("local" if check.on == LOCAL else "host")
                step.request = {
                    "url": url,
                    "method": check.http.method,
                    "via": via,
                    "headers": check.http.headers,
                    "count": check.http.count,
                    "concurrency": check.http.concurrency,
                    "stop_on": check.http.stop_on,
                }
                step.command = (
                    describe_http(step.request, check.timeout)
                    if via == "local"
                    else curl_on_host(step.request, check.timeout)
                )
            elif check.dns is not None:
                name = render_template(check.dns.name, ctx, quote=False)
                server = render_template(check.dns.server, ctx, quote=False) if check.dns.server else None
                step.request = {
                    "name": name,
                    "type": check.dns.type,
                    "server": server,
                    "via": "local" if check.on == LOCAL else "host",
                }
                step.command = describe_dns(step.request)
            elif check.tcp is not None:
                target = render_template(check.tcp.host, ctx, quote=False)
                port = render_template(str(check.tcp.port), ctx, quote=False)
                if not SAFE_HOST.match(target) or not port.isdigit():
                    raise ValueError(f"refusing unsafe tcp target {target!r}:{port!r}")
                step.request = {"host": target, "port": int(port), "via": "local" if check.on == LOCAL else "host"}
                step.command = describe_tcp(step.request, check.timeout)
        except MissingVar as exc:
            step.error = (
                f"cannot build the command for {host.name}: {{{exc.name}}} has no value "
                f"(set it in the inventory's vars for this host)"
            )
            step.command = check.shell or check.kind
        except ValueError as exc:
            step.error = f"cannot build the command for {host.name}: {exc}"
            step.command = check.shell or check.kind
        return step

    # ---- evaluating ---------------------------------------------------------------------
    def evaluate(self, node_id: str, state: RunState, observations: Iterable[Observation]) -> Outcome:
        """Findings from this node's results, then the branch to take."""
        node = self.node(node_id)
        gapped = state.gapped_steps()
        # a check that could not run is a gap (journaled by the session), never evidence
        observations = [o for o in observations if o.step_id not in gapped]
        problems: list[str] = []
        new: list[Finding] = []
        base = RunState(
            observations=[*state.observations],
            findings=[*state.findings],
            answers=state.answers,
            dismissed=state.dismissed,
            gaps=state.gaps,
        )
        known = {id(o) for o in base.observations}
        base.observations += [o for o in observations if id(o) not in known]
        ctx = self.expr_context(base)
        for rule in node.findings:
            if rule.check:
                for obs in (o for o in observations if o.check == rule.check):
                    found = self._apply_rule(rule, node_id, obs, ctx, problems)
                    new += found
            else:
                found = self._apply_rule(rule, node_id, None, ctx, problems)
                if rule.step_of:  # a node-level finding links to the step whose output it read
                    source = [o for o in base.evidence() if o.check == rule.step_of]
                    for f in found:
                        f.step_id, f.check = (source[-1].step_id, source[-1].check) if source else (None, None)
                new += found
            # later rules may test earlier findings of this node
            for f in new:
                if f.id in ctx and isinstance(ctx[f.id], list) and f.to_event() not in ctx[f.id]:
                    ctx[f.id] = [*ctx[f.id], f.to_event()]
        base.findings += new
        weighing = self.weigh(node_id, base) if node.weigh else None
        nxt, reason, cited = self.choose_branch(node_id, base, problems)
        return Outcome(findings=new, next=nxt, reason=reason, cited=cited, problems=problems, weighing=weighing)

    def weigh(self, node_id: str, state: RunState) -> dict[str, Any]:
        """Score every cause of a weigh node: the weights of its active supporting findings
        minus those of the active findings that rule it out, for the causes that explain a
        symptom that was found. The best wins when it has enough support and leads the
        runner-up by the margin; a closer race is a tie (inconclusive), not a guess."""
        spec = self.node(node_id).weigh
        assert spec is not None
        active: dict[str, list[Finding]] = {}
        for f in state.active_findings():
            active.setdefault(f.id, []).append(f)
        scores: list[CauseScore] = []
        backends = {h.name for h in self.inventory.with_role("backend")}
        for cand in spec.candidates:
            support = {fid: w for fid, w in cand.support.items() if fid in active}
            hosts = {f.host for fid in support for f in active[fid]}
            # a finding about one backend does not rule out a cause found on another backend
            per_backend = bool(hosts) and hosts <= backends

            def rules_out(fid: str, hosts: set[str | None] = hosts, per_backend: bool = per_backend) -> bool:
                return not per_backend or any(f.host in hosts or f.host not in backends for f in active[fid])

            against = {fid: w for fid, w in cand.against.items() if fid in active and rules_out(fid)}
            scores.append(
                CauseScore(
                    goto=cand.goto,
                    cause=_cause(self.node(cand.goto).conclusion, cand.goto),
                    score=round(sum(support.values()) - sum(against.values()), 3),
                    support=support,
                    against=against,
                    explains=not cand.explains or any(e in active for e in cand.explains),
                )
            )
        ranked = sorted((x for x in scores if x.explains), key=lambda x: -x.score)
        best = ranked[0] if ranked else None
        runner = ranked[1] if len(ranked) > 1 and ranked[1].score > 0 else None
        chosen: str | None
        if best is None or best.score < spec.min_support:
            verdict, chosen = "weak", spec.otherwise
            reason = "no cause that explains the symptom has enough support"
        elif runner is not None and best.score - runner.score < spec.margin:
            verdict, chosen = "tie", None
            reason = (
                f"{best.cause} ({best.score:g}) and {runner.cause} ({runner.score:g}) are equally "
                f"supported: the evidence does not tell them apart"
            )
        else:
            verdict, chosen = "chosen", best.goto
            reason = f"{best.cause} is best supported ({best.score:g}: {', '.join(best.support)})" + (
                f"; runner-up {runner.cause} ({runner.score:g})" if runner else ""
            )
        return {
            "node": node_id,
            "verdict": verdict,
            "chosen": chosen,
            "runner_up": runner.goto if runner else None,
            "reason": reason,
            "scores": [asdict(x) for x in scores],
            "cited": [f.id for f in state.active_findings() if best and f.id in best.support],
        }

    def choose_branch(
        self, node_id: str, state: RunState, problems: list[str] | None = None
    ) -> tuple[str | None, str, list[Finding]]:
        node = self.node(node_id)
        if node.weigh is not None:
            w = self.weigh(node_id, state)
            cited = [f for f in state.active_findings() if f.id in set(w["cited"])]
            return w["chosen"], w["reason"], cited if w["verdict"] == "chosen" else []
        ctx = self.expr_context(state)
        for branch in node.next:
            if branch.when is None:
                return branch.goto, branch.reason or "no earlier branch applied", []
            try:
                taken = bool(evaluate(branch.when, ctx))
            except ExprError as exc:
                if problems is not None:
                    problems.append(f"branch to {branch.goto}: {exc}")
                taken = False
            if taken:
                names = expression_names(branch.when)
                cited = [f for f in state.active_findings() if f.id in names]
                return branch.goto, branch.reason or f"because {branch.when}", cited
        return None, "no branch applies", []

    def next_for_answer(self, node_id: str, value: str, state: RunState) -> tuple[str | None, str]:
        node = self.node(node_id)
        assert node.question is not None
        for choice in node.question.choices:
            if choice.value == value and choice.goto:
                return choice.goto, f"answered {node.question.key}={value}"
        state.answers[node.question.key] = value
        nxt, reason, _ = self.choose_branch(node_id, state)
        return nxt, reason

    def _apply_rule(
        self, rule: FindingRule, node_id: str, obs: Observation | None, ctx: dict[str, Any], problems: list[str]
    ) -> list[Finding]:
        local = dict(ctx)
        matched_lines: list[str] = []
        if obs is not None:
            view = obs.view()
            local["r"] = view
            host = self.inventory.hosts.get(obs.host) or (self.inventory.local_host() if obs.host == LOCAL else None)
            local["host_vars"] = self.host_context(host, obs.item) if host else {}
            if rule.match:
                rx = re.compile(rule.match)
                matched_lines = [ln for ln in view["output"].splitlines() if rx.search(ln)]
                if not matched_lines:
                    return []
        if rule.when:
            try:
                if not evaluate(rule.when, local):
                    return []
            except ExprError as exc:
                problems.append(f"finding {rule.id}: {exc}")
                return []
        evidence = ""
        if rule.evidence:
            try:
                evidence = render_text(rule.evidence, local).strip()
            except ExprError as exc:
                problems.append(f"finding {rule.id} evidence: {exc}")
        if not evidence and matched_lines:
            evidence = "\n".join(matched_lines[-3:])
        hosts: list[str | None] = [obs.host if obs else None]
        if rule.blame:
            try:
                aliases = _resolved_aliases(ctx.get("results") or {})
                blamed = [self.host_name_for(v, aliases) for v in _flatten(evaluate(rule.blame, local))]
            except ExprError as exc:
                problems.append(f"finding {rule.id} blame: {exc}")
                blamed = []
            hosts = list(dict.fromkeys(blamed)) or hosts
        title = rule.title
        if "{{" in title:
            try:
                title = render_text(title, local).strip()
            except ExprError as exc:
                problems.append(f"finding {rule.id} title: {exc}")
        return [
            Finding(
                id=rule.id,
                node=node_id,
                severity=rule.severity,
                title=title,
                evidence=evidence,
                host=h,
                step_id=obs.step_id if obs else None,
                check=obs.check if obs else None,
            )
            for h in hosts
        ]

    def host_name_for(self, value: Any, aliases: Mapping[str, str] | None = None) -> str:
        """Map an address, `addr:port`, URL host, DNS name or host name to an inventory host name.

        `aliases` maps addresses to the names a DNS check resolved to them: an address in the
        gateway's log is the inventory host whose address is a name that resolves there."""
        text = str(value).strip()
        if isinstance(value, dict):
            text = str(value.get("host") or value.get("address") or value.get("name") or value)
            port = value.get("port")
        else:
            port = None
            m = re.match(r"^(?:[a-z]+://)?\[?([^\]/]+?)\]?(?::(\d+))?(?:/.*)?$", text)
            if m:
                text, port = m.group(1), m.group(2)
        host = self.inventory.host_for_address(text, int(port) if port else None)
        if host:
            return host.name
        if text in LOOPBACK:  # in the gateway's log or config: a backend on the gateway itself
            colocated = [h for h in self.inventory.hosts.values() if {"gateway", "backend"} <= set(h.roles)]
            if len(colocated) == 1:
                return colocated[0].name
        for h in self.inventory.hosts.values():
            if h.name == text or str(h.vars.get("hostname", "")) == text:
                return h.name
        # a DNS name whose first label is an inventory host's name (app2.lab.internal -> app2):
        # how an engineer reads it when the inventory lists addresses only
        first = text.split(".", 1)[0]
        if "." in text and first in self.inventory.hosts:
            return first
        if aliases and text in aliases and aliases[text] != text:
            named = self.host_name_for(aliases[text])
            if named in self.inventory.hosts:
                return named
        return text

    # ---- conclusions ------------------------------------------------------------------
    def unmet_needs(self, node_id: str, state: RunState, cited: list[Finding]) -> list[dict[str, Any]]:
        """What a conclusion needs and was not seen: each need's check (or finding), host,
        reason and fix. Empty when the conclusion may be reached."""
        node = self.node(node_id)
        cited_hosts = {f.host for f in cited if f.host}
        evidence = {(o.check, o.host) for o in state.evidence()}
        gaps = {(g.check, g.host): g for g in state.gaps}
        active = {f.id for f in state.active_findings()}
        unmet: list[dict[str, Any]] = []
        for need in node.needs:
            spec = self.playbook.check(need.name)
            if spec is None:
                if need.name not in active:  # a finding (validation rejects names that are neither)
                    unmet.append(
                        {
                            "need": need.name,
                            "host": None,
                            "reason": "not-found",
                            "message": f"the finding {need.name} was not recorded",
                            "fix": "",
                        }
                    )
                continue
            hosts = [h.name for h in self.hosts_for(spec[1])]
            if need.hosts == "cited" and cited_hosts & set(hosts):
                hosts = [h for h in hosts if h in cited_hosts]
            for host in hosts:
                if (spec[1].id, host) in evidence:
                    continue
                gap = gaps.get((spec[1].id, host))
                unmet.append(
                    {
                        "need": spec[1].id,
                        "host": host,
                        "reason": gap.reason if gap else "not-run",
                        "message": gap.message if gap else f"{spec[1].id} did not run on {host} in this walk",
                        "fix": gap.fix if gap else f"run the node {spec[0]!r} (its checks give {spec[1].id})",
                    }
                )
        return unmet

    def conclusion(self, node_id: str, cited: list[Finding], state: RunState | None = None) -> dict[str, Any]:
        node = self.node(node_id)
        assert node.conclusion is not None
        c = node.conclusion
        # the runner itself ("local") is where we looked from, never a host at fault
        hosts = [f.host for f in cited if f.host and f.host != LOCAL and f.severity != "info"]
        if state is not None:
            # an address blamed before the names were resolved is the host resolved there since
            aliases = _resolved_aliases(self.expr_context(state).get("results") or {})
            hosts = [h if h in self.inventory.hosts else self.host_name_for(h, aliases) for h in hosts]
        return {
            "node": node_id,
            "cause": c.cause,
            "title": c.title,
            "summary": c.summary.strip(),
            "hosts": list(dict.fromkeys(h for h in hosts if h)),
            "remediation": list(c.remediation),
            "prevention": list(c.prevention),
            "findings": [f.id for f in cited],
        }


def _cause(conclusion: Conclusion | None, node_id: str) -> str:
    return conclusion.cause if conclusion else node_id


def _curl_request(request: dict[str, Any]) -> list[str]:
    """curl's method, header and URL arguments for a request, shell-quoted."""
    parts = ["-X", shell_quote(request["method"])] if request["method"] != "GET" else []
    for k, v in request.get("headers", {}).items():
        parts += ["-H", shell_quote(f"{k}: {v}")]
    return [*parts, shell_quote(request["url"])]


def describe_http(request: dict[str, Any], timeout: float) -> str:
    """The exact request, written as the curl command a person would type to repeat it."""
    parts = ["curl", "-sS", "-o", "/dev/null", "-w", "'%{http_code} %{time_total}s\\n'", "-m", f"{timeout:g}"]
    text = " ".join([*parts, *_curl_request(request)])
    if request.get("count", 1) > 1:
        text = f"{text}  # x{request['count']}, {request['concurrency']} at a time"
    return text


def curl_on_host(request: dict[str, Any], timeout: float) -> str:
    """The curl command run on a host when the request must come from there (e.g. the gateway)."""
    # curl gives up a little before the step does, so its own error (exit 28) is what we see
    parts = ["curl", "-sS", "-m", f"{max(1.0, timeout - 1):g}", "-w", shell_quote(CURL_WRITE_OUT)]
    return " ".join([*parts, *_curl_request(request)])


def describe_dns(request: dict[str, Any]) -> str:
    if request["via"] == "host":
        return f"getent ahosts {shell_quote(request['name'])}"
    server = f" @{request['server']}" if request.get("server") else ""
    return f"dig +short {request['type']} {shell_quote(request['name'])}{server}"


def describe_tcp(request: dict[str, Any], timeout: float) -> str:
    return (
        f"timeout {timeout:g} bash -c {shell_quote('exec 3<>/dev/tcp/{}/{}'.format(request['host'], request['port']))}"
    )
