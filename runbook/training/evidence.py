"""Which findings support a cause, which rule it out, and the output lines that show it.

Support is read from the playbook itself: a finding named in a branch that leads to a
conclusion of cause C supports C. What rules a cause out is the healthy side of the same
checks (a backend that answers its own health check is not down), kept here as data.
"""

from __future__ import annotations

import re
from typing import Any

from runbook.playbook.model import Playbook
from runbook.safety import clean

_WORD = re.compile(r"\b[a-z][a-z0-9_]*\b")
_NOT_FINDINGS = {"and", "or", "not", "true", "false", "none", "in", "is", "r"}

#: healthy findings that contradict a cause (besides the evidence of another cause)
HEALTHY_AGAINST: dict[str, set[str]] = {
    "backend-down": {"backend_healthy", "reach_open", "direct_ok"},
    "backend-overloaded": {"backend_healthy", "load_clean", "direct_ok"},
    "gateway-misconfigured": {"log_quiet", "gw_ok"},
    "dns-failure": {"reach_open", "log_quiet"},
    "malformed-response": {"backend_healthy", "direct_ok", "log_quiet"},
    "network-blocked": {"reach_open", "direct_ok", "log_quiet"},
}
#: findings that show the site answering normally contradict every fault
HEALTHY_SITE = {"gw_ok", "load_clean"}
NO_FAULT = "no-fault-found"


def support_map(playbook: Playbook) -> dict[str, set[str]]:
    """cause -> the finding ids the playbook's branches take to a conclusion of that cause."""
    finding_ids = {f.id for n in playbook.nodes.values() for f in n.findings}
    out: dict[str, set[str]] = {}
    for node in playbook.nodes.values():
        for branch in node.next:
            target = playbook.nodes.get(branch.goto or "")
            if target is None or target.conclusion is None or not branch.when:
                continue
            clause = branch.when.split(" and not ")[0]  # "x and not y": y does not support it
            words = {w for w in _WORD.findall(clause) if w not in _NOT_FINDINGS and w in finding_ids}
            out.setdefault(target.conclusion.cause, set()).update(words)
    return out


def supports(playbook: Playbook, cause: str, finding_id: str, severity: str | None = None) -> bool:
    if cause == NO_FAULT:
        return finding_id in HEALTHY_SITE or (severity == "info" and finding_id not in _faulty(playbook))
    return finding_id in support_map(playbook).get(cause, set())


def _faulty(playbook: Playbook) -> set[str]:
    return {f for ids in support_map(playbook).values() for f in ids}


def rules_out(playbook: Playbook, cause: str, finding: dict[str, Any], hosts: list[str] | None = None) -> bool:
    """Does this finding contradict `cause` on `hosts` (the hosts the cause is claimed for)?

    A healthy answer counts against a cause only on the host it came from; decisive
    evidence of another cause counts against this one wherever it is."""
    fid, severity, host = str(finding.get("id")), finding.get("severity"), finding.get("host")
    if cause == NO_FAULT:
        return severity == "critical"
    if fid in HEALTHY_AGAINST.get(cause, set()):
        return hosts is not None and host in hosts
    support = support_map(playbook)
    return (
        severity == "critical"
        and fid not in support.get(cause, set())
        and any(fid in ids for c, ids in support.items() if c != cause)
    )


def needed_for(playbook: Playbook, cause: str) -> list[str]:
    """The findings that would support `cause` (what the trainee's cause needed and lacked)."""
    if cause == NO_FAULT:
        return sorted(HEALTHY_SITE)
    return sorted(support_map(playbook).get(cause, set()))


def quote(evidence: Any, limit: int = 3, width: int = 140) -> list[str]:
    """The telling lines of a finding's evidence (error lines first), sanitised."""
    text = clean(str(evidence or ""))
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    telling = [ln for ln in lines if re.search(r"(?i)error|fail|refus|timed? ?out|denied|DROP|REJECT|not |5\d\d", ln)]
    picked = (telling or lines)[:limit]
    return [ln if len(ln) <= width else ln[: width - 1] + "…" for ln in picked]
