"""Journal events -> plain-dict view model of an incident, and the headless JSON result.

Both are pure functions of the events. Every string from a host or a person is sanitised and
redacted once, up front (`scrub`), so neither the template nor a JSON consumer can receive an
escape sequence or a secret, whatever template is used.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from runbook.safety import excerpt, scrub
from runbook.walk import StepRecord, fold_json

#: output lines of a step quoted in the appendix (the JSON attachment and the journal keep all)
STEP_EXCERPT_LINES = 12

SEVERITY_ORDER = ["critical", "high", "error", "warning", "medium", "low", "info"]

# Status-page wording per cause: what a customer may be told, without host names or internals.
_PUBLIC_CAUSE = {
    "backend-down": "an application service behind our gateway that stopped responding",
    "backend-overloaded": "application servers too busy to answer in time",
    "gateway-misconfigured": "a configuration problem in our gateway",
    "dns-failure": "a name-resolution problem between our gateway and the application",
    "malformed-response": "application responses that our gateway could not use",
    "network-blocked": "a network rule blocking traffic between our gateway and the application",
}


def _parse_ts(ts: Any) -> datetime | None:
    if not isinstance(ts, str) or not ts:
        return None
    try:
        dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _fmt_dt(dt: datetime | None, raw: Any = "") -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S UTC") if dt else str(raw or "unknown")


def _human(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _first_line(text: str, limit: int = 160) -> str:
    line = text.strip().split("\n", 1)[0]
    more = len(line) > limit or "\n" in text.strip()
    return (line[:limit].rstrip() + " …") if more else line


def _step_state(step: dict[str, Any]) -> str:
    if not step["has_result"]:
        return "no result (interrupted)"
    error = step.get("error")
    if step.get("timed_out"):
        return "timed out"
    if isinstance(error, dict) and (error.get("kind") or error.get("message")):
        return f"error: {_text(error.get('kind')) or 'error'}"
    exit_status = step.get("exit_status")
    if exit_status is None:
        return "done"
    return "ok" if exit_status == 0 else f"exit {exit_status}"


def _step_dict(record: StepRecord, number: int) -> dict[str, Any]:
    """A step's start and result as one dict; the result's fields win (the command that ran)."""
    step: dict[str, Any] = {"number": number, "anchor": f"step-{number}", "step_id": record.step_id}
    first = record.start or record.result
    step.update(has_result=record.result is not None, started_ts=first.ts if first else None)
    for event in (record.start, record.result):
        if event is not None:
            step.update({k: v for k, v in event.to_json().items() if k not in ("type", "ts", "v")})
    if record.result is not None:
        step["result_ts"] = record.result.ts
        ran = record.result.result.command
        if record.start is not None and record.start.command and record.start.command != ran:
            step["planned_command"] = record.start.command
    return step


def _event_dict(event: Any) -> dict[str, Any]:
    return event.to_json() if event is not None else {}


def scrub_events(raw_events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events as a report may show them (cleaning is most of a report's cost: a caller that
    renders a growing journal again and again cleans each event once, then passes scrubbed=True)."""
    return [scrub(e) for e in raw_events if isinstance(e, dict)]


def _parse(raw_events: list[dict[str, Any]], *, scrubbed: bool = False) -> dict[str, Any]:
    """The facts of a session, read from its folded walk (runbook.walk): shared by the
    Markdown view and the JSON result. Only the timeline reads the events themselves."""
    events = list(raw_events) if scrubbed else scrub_events(raw_events)
    walk = fold_json(events)
    start = _event_dict(walk.start)
    end = walk.end.to_json() if walk.end else None
    conclusion = walk.conclusion.to_json() if walk.conclusion else None
    steps = [_step_dict(r, i) for i, r in enumerate(walk.steps, 1)]
    by_id = {s["step_id"]: s["step_id"] for s in steps}
    event_step = {id(e): by_id[str(e.get("step_id"))] for e in events if str(e.get("step_id")) in by_id}
    findings = [{**f.to_event(), "status": str(status)} for f, status in walk.finding_records()]
    notes = [n.to_json() for n in walk.notes]
    if walk.draft is not None:  # typed but never submitted (the process died, or the engineer left)
        draft = walk.draft.to_json()
        notes.append({**draft, "type": "note", "text": f"{_text(draft.get('text'))} (draft, never submitted)"})

    if conclusion is not None:
        status = "root cause identified"
        if conclusion.get("cause") == "no-fault-found":
            status = "no fault found"
        if end is not None and (end.get("status") == "resolved" or end.get("resolved")):
            status = "resolved"
    elif walk.inconclusive is not None:
        status = "inconclusive"
    elif end is None:
        status = "investigating / interrupted"
    elif end.get("status") == "aborted":
        status = "aborted"
    else:
        status = "unconcluded"

    return {
        "events": events,
        "walk": walk,
        "start": start,
        "end": end,
        "conclusion": conclusion,
        "status": status,
        "node_titles": dict(walk.titles),
        "steps": steps,
        "findings": findings,
        "notes": notes,
        "answers": [a.to_json() for a in walk.answer_log],
        "overrides": [o.to_json() for o in walk.overrides],
        "skips": [k.to_json() for k in walk.skips],
        "host_keys": [h.to_json() for h in walk.host_keys],
        "backs": [b.to_json() for b in walk.backs],
        "event_step": event_step,
        "gaps": [g.to_event() for g in walk.all_gaps],
        "inconclusive": walk.inconclusive.to_json() if walk.inconclusive else None,
    }


def _output_excerpt(step: dict[str, Any]) -> str:
    parts = [_text(step.get("stdout")).rstrip("\n"), _text(step.get("stderr")).rstrip("\n")]
    return excerpt("\n".join(p for p in parts if p))


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [_text(v) for v in value if v is not None and _text(v).strip()]
    return [_text(value)] if _text(value).strip() else []


def build_result(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The headless JSON result (DESIGN.md contract), plus additive fields; redacted."""
    facts = _parse(events)
    events_ = facts["events"]
    conclusion = facts["conclusion"]
    end = facts["end"]
    return {
        "playbook": facts["start"].get("playbook"),
        "started_at": (facts["start"] or (events_[0] if events_ else {})).get("ts"),
        "finished_at": end.get("ts") if end else None,
        "status": facts["status"],
        "conclusion": None
        if conclusion is None
        else {
            "node": conclusion.get("node"),
            "cause": conclusion.get("cause"),
            "title": conclusion.get("title"),
            "summary": conclusion.get("summary"),
            "hosts": _as_list(conclusion.get("hosts")),
            "remediation": _as_list(conclusion.get("remediation")),
            "prevention": _as_list(conclusion.get("prevention")),
            "findings": _as_list(conclusion.get("findings")),
            "support": conclusion.get("support") or {},
            "runner_up": conclusion.get("runner_up"),
        },
        "findings": [
            {
                "id": f.get("id"),
                "host": f.get("host"),
                "severity": f.get("severity"),
                "title": f.get("title"),
                "evidence": f.get("evidence"),
                "node": f.get("node"),
                "step_id": f.get("step_id"),
                "status": f.get("status"),
            }
            for f in facts["findings"]
        ],
        "steps": [
            {
                "node": s.get("node"),
                "host": s.get("host"),
                "command": s.get("command"),
                "exit_status": s.get("exit_status"),
                "started_at": s.get("started_at") or s.get("started_ts"),
                "duration_s": s.get("duration_s"),
                "output_excerpt": _output_excerpt(s),
                "step_id": s.get("step_id"),
                "check": s.get("check"),
                "status": _step_state(s),
                "timed_out": bool(s.get("timed_out")),
                "error": s.get("error"),
                "planned_command": s.get("planned_command"),
                "fallback_from": (s.get("data") or {}).get("fallback_from"),
                "data": s.get("data") or {},
            }
            for s in facts["steps"]
        ],
        "notes": [{"node": n.get("node"), "text": n.get("text"), "ts": n.get("ts")} for n in facts["notes"]],
        "reason": end.get("reason") if end else None,
        "gaps": [_gap_dict(g) for g in facts["gaps"]],
        "inconclusive": None
        if facts["inconclusive"] is None
        else {
            "node": facts["inconclusive"].get("node"),
            "blocked": facts["inconclusive"].get("blocked"),
            "reason": facts["inconclusive"].get("reason"),
            "missing": [_gap_dict(m) for m in facts["inconclusive"].get("missing") or []],
        },
    }


def _gap_dict(g: dict[str, Any]) -> dict[str, Any]:
    keys = ("host", "check", "need", "reason", "message", "fix", "node", "step_id")
    return {k: g.get(k) for k in keys if k in g}


def _security(gaps: list[dict[str, Any]]) -> list[str]:
    """One alert per host whose key changed: the first thing the report says."""
    seen: dict[str, str] = {}
    for g in gaps:
        if g.get("reason") == "host-key-changed" and g.get("host") not in seen:
            seen[_text(g.get("host"))] = (
                f"SECURITY: the SSH host key of {_text(g.get('host'))} changed; runbook did no work on it. "
                f"{_text(g.get('fix'))}"
            )
    return list(seen.values())


def _severity_rank(severity: Any) -> int:
    s = _text(severity).lower()
    return SEVERITY_ORDER.index(s) if s in SEVERITY_ORDER else len(SEVERITY_ORDER)


class _Ctx:
    """Lookups shared by the view builders: node titles and time formatting."""

    def __init__(self, facts: dict[str, Any]):
        self.titles: dict[str, str] = facts["node_titles"]
        times = [t for t in (_parse_ts(e.get("ts")) for e in facts["events"]) if t is not None]
        self.first = min(times) if times else None
        self.last = max(times) if times else None
        self.same_day = self.first is not None and self.last is not None and self.first.date() == self.last.date()

    def when(self, ts: Any) -> str:
        dt = _parse_ts(ts)
        if dt is None:
            return _text(ts) or "?"
        return dt.strftime("%H:%M:%S" if self.same_day else "%Y-%m-%d %H:%M:%S")

    def node(self, node: Any) -> str:
        node = _text(node)
        return self.titles.get(node) or node or "?"


def _steps_view(facts: dict[str, Any], ctx: _Ctx) -> list[dict[str, Any]]:
    by_step: dict[str, list[str]] = {}
    for f in facts["findings"]:
        status = _text(f.get("status"))
        title = _text(f.get("title") or f.get("id")) + (f" ({_NOT_ACTIVE[status]})" if status in _NOT_ACTIVE else "")
        by_step.setdefault(_text(f.get("step_id")), []).append(title)
    steps = []
    for s in facts["steps"]:
        error = s.get("error") if isinstance(s.get("error"), dict) else None
        duration, data = s.get("duration_s"), s.get("data")
        truncated = s.get("truncated_bytes")
        state = _step_state(s)
        exit_status = s.get("exit_status")
        if exit_status is not None:
            exit_display = _text(exit_status)
        else:
            exit_display = "none" if state == "done" else f"none ({state})"
        steps.append(
            {
                "number": s["number"],
                "anchor": s["anchor"],
                "step_id": s["step_id"],
                "node": _text(s.get("node")),
                "node_title": ctx.node(s.get("node")),
                "check": _text(s.get("check")) or s["step_id"],
                "host": _text(s.get("host")) or "local",
                "command": _text(s.get("command")),
                "mutating": bool(s.get("mutating")),
                "started_at": _fmt_dt(_parse_ts(s.get("started_at") or s.get("started_ts"))),
                "duration": f"{duration:.2f} s" if isinstance(duration, int | float) else "unknown",
                "exit_status": exit_status,
                "exit_display": exit_display,
                "state": state,
                "timed_out": bool(s.get("timed_out")),
                "error": f"{_text(error.get('kind'))}: {_text(error.get('message'))}" if error else "",
                "stdout": excerpt(_text(s.get("stdout")).rstrip("\n"), max_lines=STEP_EXCERPT_LINES, max_chars=1500),
                "stderr": excerpt(_text(s.get("stderr")).rstrip("\n"), max_lines=8, max_chars=800),
                "data": excerpt(json.dumps(data, indent=2, sort_keys=True, default=str)) if data else "",
                "raw_data": data if isinstance(data, dict) else {},
                "result_ts": s.get("result_ts"),
                "started_ts": s.get("started_ts"),
                "truncated_bytes": truncated if isinstance(truncated, int) else 0,
                "findings": by_step.get(s["step_id"], []),
            }
        )
    return steps


#: how a finding that is not active shows in the report's severity column
_NOT_ACTIVE = {"dismissed": "dismissed by the engineer", "set-aside": "set aside"}


def _findings_view(facts: dict[str, Any], ctx: _Ctx, anchors: dict[str, str]) -> list[dict]:
    findings = []
    for f in facts["findings"]:
        anchor = anchors.get(_text(f.get("step_id")), "")
        status = _text(f.get("status")) or "active"
        severity = _text(f.get("severity")) or "unknown"
        findings.append(
            {
                "id": _text(f.get("id")),
                # a dismissed or set-aside finding never reads as its old severity
                "severity": f"{_NOT_ACTIVE[status]} (was {severity})" if status in _NOT_ACTIVE else severity,
                "host": _text(f.get("host")) or "—",
                "title": _text(f.get("title") or f.get("id")),
                "evidence": _first_line(_text(f.get("evidence")), 200),
                "node": ctx.node(f.get("node")),
                "anchor": anchor,
                "step": anchor.replace("-", " "),
                "status": status,
            }
        )
    # Active first, most severe first; sort is stable, so time order is kept within a severity.
    return sorted(findings, key=lambda f: (f["status"] != "active", _severity_rank(f["severity"])))


def _hosts_view(
    start: dict[str, Any], steps: list[dict], findings: list[dict], implicated: set[str]
) -> list[dict[str, Any]]:
    hosts: dict[str, dict[str, str]] = {}
    for h in start.get("inventory") or []:
        if isinstance(h, dict) and h.get("name"):
            port = h.get("port")
            address = _text(h.get("address")) + (f":{port}" if port not in (None, 22) else "")
            roles = ", ".join(_as_list(h.get("roles")))
            hosts[_text(h["name"])] = {"address": address, "roles": roles}
    # Hosts met during the run but missing from the inventory still belong in the table.
    for item in [*steps, *findings]:
        if item["host"] != "—" and item["host"] not in hosts:
            hosts[item["host"]] = {"address": "", "roles": ""}
    return [
        {
            "name": name,
            "address": info["address"] or "—",
            "roles": info["roles"] or "—",
            "steps": sum(1 for s in steps if s["host"] == name),
            "findings": sum(1 for f in findings if f["host"] == name),
            "implicated": "yes" if name in implicated else "",
        }
        for name, info in hosts.items()
    ]


def _why(reason: Any, fallback: str = "") -> str:
    text = _first_line(_text(reason), 120) or fallback
    if text == "no earlier branch applied":
        text = "default branch"
    return f" ({text})" if text else ""


def _timeline(facts: dict[str, Any], ctx: _Ctx, steps: list[dict], playbook_title: str) -> list[dict[str, str]]:
    step_by_key = {s["step_id"]: s for s in steps}
    note_anchor = {id(n): f"note-{i}" for i, n in enumerate(facts["notes"], 1)}
    rows = []
    for e in facts["events"]:
        kind = e.get("type")
        text, link = "", ""
        step = step_by_key.get(facts["event_step"].get(id(e), ""))
        if kind == "session-start":
            scenario = f", scenario {_text(e.get('scenario'))}" if e.get("scenario") else ""
            text = f"Runbook session started: {playbook_title} ({_text(e.get('mode')) or 'live'}"
            text += f"{scenario})"
        elif kind == "node-enter":
            text = f"Step: {ctx.node(e.get('node'))}{_why(e.get('reason'))}"
        elif kind == "step-start" and step and step["state"].startswith("no result"):
            text = f"Started {step['check']} on {step['host']}; no result recorded"
            link = step["anchor"]
        elif kind == "step-result" and step:
            text = f"Ran {step['check']} on {step['host']}: {step['state']} ({step['duration']})"
            link = step["anchor"]
        elif kind == "finding":
            host = _text(e.get("host"))
            text = f"Finding ({_text(e.get('severity'))}){' on ' + host if host else ''}: "
            text += _text(e.get("title") or e.get("id"))
            link = next((s["anchor"] for s in steps if s["step_id"] == _text(e.get("step_id"))), "")
        elif kind == "answer":
            text = f"Answered {_text(e.get('key'))} = {_text(e.get('value'))}"
            text += f" ({_text(e.get('source')) or 'user'})"
        elif kind == "note":
            text = f"Note at {ctx.node(e.get('node'))}: {_first_line(_text(e.get('text')), 120)}"
            link = note_anchor.get(id(e), "")
        elif kind == "override":
            text = f"Override at {ctx.node(e.get('node'))}: {_text(e.get('verdict'))}"
            text += f" finding {_text(e.get('finding'))}" if e.get("finding") else ""
            text += f", go to {ctx.node(e.get('goto'))}" if e.get("goto") else ""
            text += _why(e.get("reason"), "no reason given")
            link = "overrides-and-skipped-steps"
        elif kind == "skip":
            text = f"Skipped {ctx.node(e.get('node'))}{_why(e.get('reason'), 'no reason given')}"
            link = "overrides-and-skipped-steps"
        elif kind == "branch":
            text = f"Branch {ctx.node(e.get('from'))} → {ctx.node(e.get('to'))}"
            text += _why(e.get("reason"))
        elif kind == "back":
            text = f"Went back to {ctx.node(e.get('to'))}"
        elif kind == "host-key":
            text = f"Host key of {_text(e.get('host'))}: {_text(e.get('decision'))}"
            text += f" ({_text(e.get('fingerprint'))})"
        elif kind == "conclusion":
            text = f"Conclusion: {_text(e.get('cause'))}: {_text(e.get('title'))}"
            link = "root-cause"
        elif kind == "session-end":
            text = f"Session ended: {_text(e.get('status'))}{_why(e.get('reason'))}"
        elif kind == "mutating-refused":
            commands = "; ".join(_as_list(e.get("commands")))
            text = f"Mutating step not run ({commands}){_why(e.get('reason'))}"
        elif kind == "summary":
            text = _text(e.get("text"))
            link = "findings"
        elif kind not in ("step-start", "step-result", "step-output", "note-draft"):
            # An event type this report does not know yet: still show that it happened.
            text = f"{_text(kind)}{_why(e.get('reason') or e.get('message'))}"
        if text:
            label = link.replace("-", " ")  # "step 3", "note 1", "root cause"
            rows.append({"time": ctx.when(e.get("ts")), "event": text, "anchor": link, "label": label})
    return rows


def _action_items(conclusion: dict | None, steps: list[dict], overrides: list[dict]) -> list[dict[str, Any]]:
    remediation = _as_list(conclusion.get("remediation")) if conclusion else []
    prevention = _as_list(conclusion.get("prevention")) if conclusion else []
    actions: list[dict[str, Any]] = []
    if not conclusion:
        actions.append(
            {
                "action": "Finish the diagnosis: the runbook did not reach a conclusion",
                "priority": "P1",
                "kind": "investigate",
            }
        )
    actions += [{"action": a, "priority": "P1", "kind": "mitigate"} for a in remediation]
    actions += [{"action": a, "priority": "P2", "kind": "prevent"} for a in prevention]
    for s in steps:
        if s["state"].startswith(("error", "timed out")):
            what = s["error"] or s["state"]
            actions.append(
                {
                    "action": f"Make {s['check']} on {s['host']} work for the runbook ({what})",
                    "priority": "P3",
                    "kind": "tooling",
                }
            )
    for o in overrides:
        actions.append(
            {
                "action": f"Review the runbook at {o['node']}, overridden: {o['reason']}",
                "priority": "P3",
                "kind": "runbook",
            }
        )
    for i, a in enumerate(actions, 1):
        a["number"], a["owner"] = i, "TBD"
    return actions


def _lessons(facts: dict, view: dict[str, Any], ttd: float | None) -> dict[str, list[str]]:
    steps, skips, overrides = view["steps"], view["skips"], view["overrides"]
    failed = [s for s in steps if s["state"].startswith(("error", "timed out"))]
    interrupted = [s for s in steps if s["state"].startswith("no result")]
    completed = [s for s in steps if s not in failed and s not in interrupted]
    cause = view["root_cause"]["cause"] if view["root_cause"] else ""
    well, wrong, lucky = [], [], []
    if cause:
        well.append(f"The runbook reached a conclusion ({cause}) {_human(ttd)} after it started.")
    if completed:
        well.append(f"{len(completed)} of {len(steps)} steps returned a result with evidence.")
    if steps and not failed and not interrupted:
        well.append("Every host answered and no check failed or timed out.")
    for s in failed:
        wrong.append(f"{s['check']} on {s['host']} did not complete: {s['error'] or s['state']}.")
    for k in skips:
        wrong.append(f"{k['node']} was skipped: {k['reason']}.")
    for o in overrides:
        wrong.append(f"The engineer overrode the runbook at {o['node']}: {o['reason']}.")
    if facts["backs"]:
        n = len(facts["backs"])
        wrong.append(f"The investigation went back to an earlier step {'once' if n == 1 else f'{n} times'}.")
    if view["interrupted"]:
        wrong.append("The session stopped before it ended normally (the journal ends abruptly).")
    elif not cause:
        reason = view["end_reason"]
        wrong.append(f"The session ended without a conclusion{': ' + reason if reason else ''}.")
    if cause and (failed or skips):
        lucky.append(
            f"A conclusion was reached although {_count(len(failed), 'step')} failed"
            f" and {_count(len(skips), 'step')} {'was' if len(skips) == 1 else 'were'} skipped."
        )
    for a in view["answers"]:
        if a["source"] == "default":
            lucky.append(f"{a['key']} took its default answer ({a['value']}); confirm it was right.")
    for h in facts["host_keys"]:
        if _text(h.get("decision")) == "trust-once":
            lucky.append(f"The host key of {_text(h.get('host'))} was trusted once, unverified.")
    return {"went_well": well, "went_wrong": wrong, "lucky": lucky}


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _sentence(text: str) -> str:
    """Text ending in exactly one full stop (titles often carry their own)."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _summary(view: dict[str, Any], ttd: float | None) -> str:
    rc, title = view["root_cause"], view["playbook_title"]
    steps, findings = len(view["steps"]), len(view["findings"])
    if rc:
        text = _sentence(rc["title"] or rc["cause"])
        text += f" {_sentence(rc['summary'])}" if rc["summary"] else ""
        where = f" on {', '.join(rc['hosts'])}" if rc["hosts"] else ""
        return f"{text} Diagnosed with the {title} runbook in {_human(ttd)}, after {_count(steps, 'step')}{where}."
    if view["inconclusive"]:
        missing = view["inconclusive"].get("missing") or []
        hosts = sorted({_text(m.get("host")) for m in missing if m.get("host")})
        return (
            f"The {title} investigation ended inconclusive: {_sentence(_text(view['inconclusive'].get('reason')))} "
            f"{_count(len(missing), 'piece')} of needed evidence could not be seen"
            + (f" (on {', '.join(hosts)})" if hosts else "")
            + "; no cause is named until it can be."
        )
    if view["interrupted"]:
        return (
            f"The {title} investigation stopped before reaching a conclusion; "
            f"{_count(steps, 'step')} started and {_count(findings, 'finding')} recorded so far."
        )
    reason = f" ({view['end_reason']})" if view["end_reason"] else ""
    return f"The {title} investigation ended without a conclusion{reason}; {_count(findings, 'finding')}."


def _status_page(status: str, cause: str, service: str, observed: bool = True) -> str:
    phrase = _PUBLIC_CAUSE.get(cause)
    errors = f"requests to {service} were failing with 502 Bad Gateway errors"
    if not observed:  # the runbook never saw a failing request: say only what was reported
        errors = f"requests to {service} were reported as failing with 502 Bad Gateway errors"
    if status == "resolved":
        why = f", caused by {phrase}" if phrase else ""
        return f"Resolved: {errors}{why}. A fix is in place and we are monitoring."
    if status == "no fault found":
        return (
            f"Monitoring: we looked into reports of 502 Bad Gateway errors on {service} and found "
            "our systems healthy. We are keeping watch and will post an update if that changes."
        )
    if phrase:
        return (
            f"Identified: some {errors.replace('were', 'are')}. We have traced the problem to "
            f"{phrase} and are working on a fix. Next update within 30 minutes."
        )
    return (
        f"Investigating: some {errors.replace('were', 'are')}. We are looking into it and will "
        "post an update within 30 minutes."
    )


def _postmortem(
    view: dict[str, Any], facts: dict[str, Any], steps: list[dict], start: datetime | None, last: datetime | None
) -> None:
    """The main body's sections: impact, window, trigger, evidence, factors, mitigation, milestones."""
    from runbook.report import postmortem as pm

    raw = [{**s, "data": s["raw_data"], "number": s["number"]} for s in steps]
    anchors = {s["step_id"]: s["anchor"] for s in steps}
    conclusion, end = facts["conclusion"], facts["end"]
    imp = pm.impact(raw, view["public_url"])
    end_dt = _parse_ts(end.get("ts")) if end else last
    done = pm.mitigation(raw)
    critical = next((f for f in facts["findings"] if _text(f.get("severity")) == "critical"), None)
    if critical is not None and not critical.get("ts"):
        step = next((s for s in raw if s["step_id"] == critical.get("step_id")), None)
        critical = {**critical, "ts": step.get("result_ts") if step else None}
    view.update(
        impact=imp,
        window=pm.window(imp["first_error"], start, end_dt, replayed=view["mode"] == "replay"),
        trigger=pm.trigger(facts["answers"], facts["node_titles"]),
        evidence=pm.decisive_evidence(conclusion, facts["findings"], anchors),
        contributing=pm.contributing(conclusion, facts["findings"], anchors, pm.symptom_step(raw)),
        mitigation=done,
        milestones=pm.milestones(imp, raw, start, conclusion, end, done, critical, anchors),
        responders=[{"name": view["responder"], "role": "on-call engineer; ran the runbook"}]
        if view["responder"]
        else [],
        owner=view["responder"] or "TBD",
    )


def build_view(events: list[dict[str, Any]], *, scrubbed: bool = False) -> dict[str, Any]:
    """Everything the incident template shows, as plain dicts and strings (already cleaned;
    `scrubbed`: the events come from scrub_events already)."""
    facts = _parse(events, scrubbed=scrubbed)
    ctx = _Ctx(facts)
    start, end, conclusion = facts["start"], facts["end"], facts["conclusion"]
    incident = start.get("incident") if isinstance(start.get("incident"), dict) else {}
    variables = start.get("vars") if isinstance(start.get("vars"), dict) else {}
    playbook = _text(start.get("playbook")) or "unknown playbook"
    playbook_title = _text(start.get("playbook_title")) or playbook
    first, last = ctx.first, ctx.last

    steps = _steps_view(facts, ctx)
    findings = _findings_view(facts, ctx, {s["step_id"]: s["anchor"] for s in steps})
    implicated = set(_as_list(conclusion.get("hosts"))) if conclusion else set()
    root_cause: dict[str, Any] | None = None
    if conclusion:
        titles = {f["id"]: f["title"] for f in findings}
        root_cause = {
            "cause": _text(conclusion.get("cause")) or "unknown",
            "title": _text(conclusion.get("title")),
            "summary": _text(conclusion.get("summary")),
            "node": ctx.node(conclusion.get("node")),
            "hosts": sorted(implicated),
            "findings": [titles.get(i, i) for i in _as_list(conclusion.get("findings"))],
            "runner_up": conclusion.get("runner_up") if isinstance(conclusion.get("runner_up"), dict) else None,
        }
    start_dt = _parse_ts(start.get("ts")) or first
    concl_dt = _parse_ts(conclusion.get("ts")) if conclusion else None
    ttd = (concl_dt - start_dt).total_seconds() if concl_dt and start_dt else None
    highest = next((f["severity"] for f in findings if f["status"] == "active"), "")

    view: dict[str, Any] = {
        "title": _text(incident.get("title"))
        or f"{playbook_title} incident" + (f", {first:%Y-%m-%d}" if first else ""),
        "status": facts["status"],
        "interrupted": end is None,
        "severity": _text(incident.get("severity")) or (f"unset (highest finding: {highest})" if highest else "unset"),
        "ticket": _text(incident.get("ticket")),
        "responder": _text(incident.get("responder")),
        "playbook": playbook,
        "playbook_title": playbook_title,
        "session_id": _text(start.get("session_id")),
        "mode": _text(start.get("mode")) or "live",
        "scenario": _text(start.get("scenario")),
        "transport": _text(start.get("transport")),
        "runbook_version": _text(start.get("runbook_version")),
        "started_at": _fmt_dt(first),
        "ended_at": _fmt_dt(last),
        "duration": _human((last - first).total_seconds()) if first and last else "unknown",
        "time_to_diagnosis": _human(ttd) if ttd is not None else "not reached",
        "end_reason": _text(end.get("reason")) if end else "",
        "public_url": _text(variables.get("public_url")),
        "implicated_hosts": sorted(implicated),
        "hosts": _hosts_view(start, steps, findings, implicated),
        "timeline": _timeline(facts, ctx, steps, playbook_title),
        "steps": steps,
        "findings": findings,
        "root_cause": root_cause,
        "remediation": _as_list(conclusion.get("remediation")) if conclusion else [],
        "prevention": _as_list(conclusion.get("prevention")) if conclusion else [],
        "notes": [
            {
                "number": i,
                "anchor": f"note-{i}",
                "time": ctx.when(n.get("ts")),
                "node": _text(n.get("node")),
                "node_title": ctx.node(n.get("node")),
                "text": _text(n.get("text")),
            }
            for i, n in enumerate(facts["notes"], 1)
        ],
        "answers": [
            {
                "time": ctx.when(a.get("ts")),
                "node": ctx.node(a.get("node")),
                "key": _text(a.get("key")),
                "value": _text(a.get("value")),
                "source": _text(a.get("source")) or "user",
            }
            for a in facts["answers"]
        ],
        "overrides": [
            {
                "time": ctx.when(o.get("ts")),
                "node": ctx.node(o.get("node")),
                "finding": _text(o.get("finding")) or "—",
                "verdict": _text(o.get("verdict")),
                "reason": _text(o.get("reason")) or "no reason given",
                "goto": ctx.node(o.get("goto")) if o.get("goto") else "—",
            }
            for o in facts["overrides"]
        ],
        "security": _security(facts["gaps"]),
        "gaps": [{**_gap_dict(g), "node_title": ctx.node(g.get("node"))} for g in facts["gaps"]],
        "inconclusive": facts["inconclusive"],
        "skips": [
            {
                "time": ctx.when(k.get("ts")),
                "node": ctx.node(k.get("node")),
                "reason": _text(k.get("reason")) or "no reason given",
            }
            for k in facts["skips"]
        ],
        "events": facts["events"],
    }
    _postmortem(view, facts, steps, start_dt, last)
    view["action_items"] = _action_items(conclusion, steps, view["overrides"])
    view["lessons"] = _lessons(facts, view, ttd)
    view["summary"] = _summary(view, ttd)
    service = _text(incident.get("service")) or "our service"
    view["status_page"] = _status_page(
        view["status"], root_cause["cause"] if root_cause else "", service, view["impact"]["observed_error"]
    )
    return view
