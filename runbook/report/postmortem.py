"""The report's main body, as a postmortem author reads it: impact, trigger, evidence, milestones.

Everything here is computed from what the journal shows (the steps' structured results, the
findings, the answers), never assumed: an impact line exists only when a step measured it,
and each one names the step it came from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from runbook.report.view import _as_list, _fmt_dt, _human, _parse_ts, _text

#: findings whose severity makes them contributing factors when the conclusion did not cite them
CONTRIBUTING = ("critical", "warning")


def _data(step: dict[str, Any]) -> dict[str, Any]:
    data = step.get("data")
    return data if isinstance(data, dict) else {}


def _link(step: dict[str, Any] | None) -> str:
    return f"step-{step['number']}" if step else ""


def symptom_step(steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first request the runbook made from its own machine (through the gateway)."""
    for s in steps:
        d = _data(s)
        if s.get("host") in (None, "", "local") and "http_code" in d and "requests" not in d:
            return s
    return None


def burst_step(steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((s for s in steps if "requests" in _data(s) and "failures" in _data(s)), None)


def log_step(steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((s for s in reversed(steps) if isinstance(_data(s).get("entries"), list)), None)


def _http_code(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _log_rows(step: dict[str, Any]) -> list[dict[str, Any]]:
    """Error-log entries per upstream and kind: count, first and last time seen."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for e in _data(step).get("entries") or []:
        if not isinstance(e, dict) or _text(e.get("level")) not in ("error", "crit", "alert", "emerg"):
            continue
        upstream = _text(e.get("upstream_host"))
        if upstream and e.get("upstream_port"):
            upstream += f":{e['upstream_port']}"
        key = (upstream or _text(e.get("name")) or "unknown", _text(e.get("kind")) or "error")
        row = rows.setdefault(key, {"upstream": key[0], "kind": key[1], "count": 0, "first": None, "last": None})
        row["count"] += 1
        ts = _parse_ts(e.get("ts"))
        if ts is not None:
            row["first"] = ts if row["first"] is None else min(row["first"], ts)
            row["last"] = ts if row["last"] is None else max(row["last"], ts)
    return sorted(rows.values(), key=lambda r: (-r["count"], r["upstream"]))


def _requests(step: dict[str, Any]) -> list[str]:
    seen: dict[str, int] = {}
    for e in _data(step).get("entries") or []:
        if isinstance(e, dict) and e.get("request"):
            parts = _text(e["request"]).split()
            what = " ".join(parts[:2]) if len(parts) >= 2 else _text(e["request"])
            seen[what] = seen.get(what, 0) + 1
    return [f"{k} ({v})" if v > 1 else k for k, v in sorted(seen.items(), key=lambda kv: -kv[1])][:5]


def impact(steps: list[dict[str, Any]], public_url: str) -> dict[str, Any]:
    """What the run measured of the incident's impact, each line linked to its step."""
    lines: list[dict[str, str]] = []
    symptom = symptom_step(steps)
    target = public_url or "the public URL"
    observed_error = False
    if symptom is None:
        lines.append(
            {
                "text": "The runbook did not check the symptom itself: no request was sent through the gateway.",
                "anchor": "",
            }
        )
    else:
        code = _http_code(_data(symptom).get("http_code"))
        took = _data(symptom).get("total_s")
        took_text = f" in {float(took):.3f} s" if took not in (None, "") else ""
        if code is None:
            err = _text((symptom.get("error") or {}).get("message")) or _text(_data(symptom).get("curl_error"))
            lines.append(
                {
                    "text": f"A request to {target} through the gateway got no HTTP answer ({err or 'no response'}).",
                    "anchor": _link(symptom),
                }
            )
            observed_error = True
        else:
            reason = _text(_data(symptom).get("reason"))
            lines.append(
                {
                    "text": f"A request to {target} through the gateway was answered HTTP {code}"
                    f"{' ' + reason if reason else ''}{took_text}.",
                    "anchor": _link(symptom),
                }
            )
            observed_error = code >= 500
            if not observed_error:
                lines.append(
                    {
                        "text": "The runbook did not see the error itself: the gateway answered that request.",
                        "anchor": _link(symptom),
                    }
                )
    burst = burst_step(steps)
    if burst is not None:
        d = _data(burst)
        total, failed = int(d.get("requests") or 0), int(d.get("failures") or 0)
        share = f"{100 * failed / total:.0f} %" if total else "n/a"
        first = d.get("first_failure_at")
        after = f"; the first failure came at request {first}" if first else ""
        lines.append(
            {"text": f"A probe burst of {total} requests: {failed} failed ({share}){after}.", "anchor": _link(burst)}
        )
        observed_error = observed_error or failed > 0
    log = log_step(steps)
    rows = _log_rows(log) if log else []
    paths = _requests(log) if log else []
    if log is not None and not rows:
        lines.append(
            {"text": "The gateway's error log held no errors in the window it was read.", "anchor": _link(log)}
        )
    return {
        "lines": lines,
        "log_rows": [
            {**r, "first": _fmt_dt(r["first"]) if r["first"] else "?", "last": _fmt_dt(r["last"]) if r["last"] else "?"}
            for r in rows
        ],
        "log_anchor": _link(log),
        "requests": paths,
        "observed_error": observed_error,
        "first_error": min((r["first"] for r in rows if r["first"]), default=None),
        "last_error": max((r["last"] for r in rows if r["last"]), default=None),
    }


def window(
    first_error: datetime | None, session_start: datetime | None, end: datetime | None, replayed: bool = False
) -> dict[str, str]:
    """The incident's window: from the first error in the log (else the session start) to the end of the session.
    A replayed session's log holds the recording's times, not this session's: the window starts with the session."""
    if replayed:
        first_error = None
    begin = first_error or session_start
    return {
        "start": _fmt_dt(begin),
        "end": _fmt_dt(end),
        "duration": _human((end - begin).total_seconds()) if begin and end else "unknown",
        "from": "first error in the gateway's log"
        if first_error
        else "session start: replayed hosts, the log's times are the recording's"
        if replayed
        else "session start: no earlier error was seen",
    }


def decisive_evidence(conclusion: dict | None, findings: list[dict[str, Any]], anchors: dict[str, str]) -> list[dict]:
    """The cited findings' evidence, quoted once, each with the step it came from."""
    if not conclusion:
        return []
    cited = _as_list(conclusion.get("findings"))
    out, seen = [], set()
    for f in findings:
        if _text(f.get("id")) not in cited or _text(f.get("status")) not in ("", "active"):
            continue
        lines = [ln.strip() for ln in _text(f.get("evidence")).splitlines() if ln.strip()][:4]
        key = (f.get("id"), tuple(lines))
        if key in seen:
            continue
        seen.add(key)
        out.append(
            {
                "title": _text(f.get("title")),
                "host": _text(f.get("host")),
                "lines": lines,
                "anchor": anchors.get(_text(f.get("step_id")), ""),
            }
        )
    return out


def contributing(
    conclusion: dict | None, findings: list[dict[str, Any]], anchors: dict[str, str], symptom: dict | None = None
) -> list[dict]:
    """Serious findings the conclusion did not cite, one line per finding id (hosts gathered); the
    symptom itself (what the first request saw) is impact, not a factor."""
    cited = set(_as_list(conclusion.get("findings"))) if conclusion else set()
    if symptom is not None:
        findings = [f for f in findings if _text(f.get("step_id")) != symptom.get("step_id")]
    grouped: dict[str, dict[str, Any]] = {}
    for f in findings:
        fid = _text(f.get("id"))
        if fid in cited or _text(f.get("severity")) not in CONTRIBUTING or _text(f.get("status")) not in ("", "active"):
            continue
        g = grouped.setdefault(
            fid,
            {
                "title": _text(f.get("title")),
                "severity": _text(f.get("severity")),
                "hosts": [],
                "anchor": anchors.get(_text(f.get("step_id")), ""),
            },
        )
        host = _text(f.get("host"))
        if host and host not in g["hosts"]:
            g["hosts"].append(host)
    return list(grouped.values())


def mitigation(steps: list[dict[str, Any]]) -> list[dict[str, str]]:
    """What was done to the hosts during the session: mutating steps that ran."""
    done = []
    for s in steps:
        if s.get("mutating") and s.get("exit_status") == 0 and not s.get("error"):
            done.append({"text": f"{s.get('check')} on {s.get('host')}: {s.get('command')}", "anchor": _link(s)})
    return done


def trigger(answers: list[dict[str, Any]], titles: dict[str, str]) -> list[str]:
    """The engineer's answers about what changed (question nodes), kept apart from the root cause."""
    out = []
    for a in answers:
        if _text(a.get("source")) == "default":
            continue  # a default is not what anybody said happened
        node = titles.get(_text(a.get("node"))) or _text(a.get("node"))
        out.append(f"{node}: {_text(a.get('value'))}")
    return out


def milestones(
    imp: dict[str, Any],
    steps: list[dict[str, Any]],
    start: datetime | None,
    conclusion: dict | None,
    end: dict | None,
    done: list[dict[str, str]],
    first_finding: dict | None,
    anchors: dict[str, str],
) -> list[dict[str, str]]:
    rows: list[tuple[datetime | None, str, str]] = []
    if imp["first_error"]:
        rows.append((imp["first_error"], "First error in the gateway's log", imp["log_anchor"]))
    if imp["last_error"] and imp["last_error"] != imp["first_error"]:
        rows.append((imp["last_error"], "Last error in the gateway's log before it was read", imp["log_anchor"]))
    rows.append((start, "Runbook session started", ""))
    symptom = symptom_step(steps)
    if symptom is not None and imp["observed_error"]:
        rows.append(
            (_parse_ts(symptom.get("result_ts") or symptom.get("started_ts")), "Symptom confirmed", _link(symptom))
        )
    if first_finding is not None:
        rows.append(
            (
                _parse_ts(first_finding.get("ts")),
                f"First critical finding: {_text(first_finding.get('title'))}",
                anchors.get(_text(first_finding.get("step_id")), ""),
            )
        )
    if conclusion:
        rows.append((_parse_ts(conclusion.get("ts")), f"Diagnosis: {_text(conclusion.get('cause'))}", "root-cause"))
    for d in done:
        step = next((s for s in steps if _link(s) == d["anchor"]), None)
        rows.append((_parse_ts(step.get("result_ts")) if step else None, f"Mitigation: {d['text']}", d["anchor"]))
    if end:
        rows.append((_parse_ts(end.get("ts")), f"Session ended ({_text(end.get('status'))})", ""))
    rows.sort(key=lambda r: r[0].timestamp() if r[0] else float("inf"))
    return [{"time": _fmt_dt(t), "event": text, "anchor": a, "label": a.replace("-", " ")} for t, text, a in rows]
