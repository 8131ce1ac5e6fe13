"""Read nginx access-log lines by the `log_format` they were written with, so a rule can say
which upstream answered each request, with which status, after how many tries.

nginx writes each line from its format: literal text and `$variables`. A line is read by
walking the format left to right: each variable's value runs up to the next literal text of
the format (found with str.find, so a line costs time linear in its length, whatever it holds).

Fields that matter for a 502:
- `$status`: what the client got.
- `$upstream_addr`: the servers tried, "a, b" for retries and "a : b" across an internal
  redirect; a failed name shows as the name itself.
- `$upstream_status`: each try's status; nginx puts 502 or 504 there also when it could not
  connect or read, so it alone does not say who made the error.
- `$upstream_header_time` (or `$upstream_bytes_received`, `$upstream_response_length`): a
  number when the upstream sent a response header, "-" when it never answered. With one of
  them, a 5xx whose last try has a header is the upstream's own answer, passed on.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

#: nginx's predefined format (ngx_http_log_module.c)
COMBINED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"'
)
_VAR = re.compile(r"\$(\{[A-Za-z0-9_]+\}|[A-Za-z0-9_]+)")
#: at most this many lines and this many characters of a line are read
MAX_LINES = 5000
MAX_LINE = 8192
#: fields that show the upstream answered (a response header arrived)
ANSWER_FIELDS = ("upstream_header_time", "upstream_bytes_received", "upstream_response_length")


def compile_format(fmt: str) -> list[tuple[str, str]]:
    """The format as ("lit", text) and ("var", name) parts, in order."""
    parts: list[tuple[str, str]] = []
    pos = 0
    for m in _VAR.finditer(fmt):
        if m.start() > pos:
            parts.append(("lit", fmt[pos : m.start()]))
        parts.append(("var", m.group(1).strip("{}")))
        pos = m.end()
    if pos < len(fmt):
        parts.append(("lit", fmt[pos:]))
    return parts


def read_line(parts: list[tuple[str, str]], line: str) -> dict[str, str] | None:
    """The variables of one line, or None when it does not follow the format."""
    values: dict[str, str] = {}
    pos = 0
    for i, (kind, text) in enumerate(parts):
        if kind == "lit":
            if not line.startswith(text, pos):
                return None
            pos += len(text)
            continue
        nxt = parts[i + 1][1] if i + 1 < len(parts) else None
        end = len(line) if nxt is None else line.find(nxt, pos)
        if end < 0:
            return None
        values[text] = line[pos:end]
        pos = end
    return values


def _tries(value: str | None) -> list[str]:
    if not value or value == "-":
        return []
    return [t.strip() for t in re.split(r"[,:](?=\s)", value) if t.strip() and t.strip() != "-"]


def parse_access_log(text: str, fmt: str | None = None) -> dict[str, Any]:
    """Entries and a summary: per upstream, the statuses of its tries; which 5xx the upstream
    answered itself (passed on) and which nginx made; and which fields the format lacks."""
    parts = compile_format(fmt or COMBINED)
    names = {text for kind, text in parts if kind == "var"}
    answer_field = next((f for f in ANSWER_FIELDS if f in names), None)
    has = {"upstream_addr": "upstream_addr" in names, "upstream_status": "upstream_status" in names}
    lines = (text or "").splitlines()[-MAX_LINES:]
    entries: list[dict[str, Any]] = []
    unparsed = 0
    for raw in lines:
        values = read_line(parts, raw[:MAX_LINE].rstrip("\r"))
        if values is None:
            unparsed += 1
            continue
        addrs = _tries(values.get("upstream_addr"))
        statuses = _tries(values.get("upstream_status"))
        answers = _tries(values.get(answer_field)) if answer_field else []
        status = int(values["status"]) if values.get("status", "").isdigit() else None
        answered = None
        if answer_field and addrs:
            last = values.get(answer_field, "-").replace(":", ",").split(",")[-1].strip()
            answered = last not in ("-", "", "0") if answer_field != "upstream_header_time" else last != "-"
        entries.append(
            {
                "status": status,
                "upstreams": addrs,
                "upstream_statuses": statuses,
                "answered": answered,
                "answers": answers,
            }
        )
    by_upstream: dict[str, Counter[str]] = {}
    passed_on: Counter[str] = Counter()
    made_by_nginx = 0
    for e in entries:
        for addr, st in zip(e["upstreams"], e["upstream_statuses"], strict=False):
            by_upstream.setdefault(addr, Counter())[st] += 1
        if e["status"] is not None and e["status"] >= 500:
            if e["answered"] and e["upstreams"]:
                passed_on[e["upstreams"][-1]] += 1
            elif e["answered"] is False or not e["upstreams"]:
                made_by_nginx += 1
    lacks = [f for f in ("upstream_addr", "upstream_status") if not has[f]]
    if not answer_field:
        lacks.append("upstream_header_time")
    return {
        "entries": entries[-200:],
        "total": len(entries),
        "unparsed": unparsed,
        "status_5xx": sum(1 for e in entries if e["status"] is not None and e["status"] >= 500),
        "upstreams": {a: dict(c) for a, c in by_upstream.items()},
        "passed_on": dict(passed_on),
        "made_by_nginx": made_by_nginx,
        "retried": sum(1 for e in entries if len(e["upstreams"]) > 1),
        "lacks": lacks,
    }
