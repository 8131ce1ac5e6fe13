"""What must not show before the diagnosis: a scenario's title, faults, cause and conclusion.

Words the playbook itself shows on every exercise (node ids such as `firewall`, words of the
node titles) are not leaks: they are the same whatever the incident is.
"""

from __future__ import annotations

from runbook.playbook import load_playbook
from runbook.scenario import Scenario


def _playbook_text() -> str:
    pb = load_playbook("502-bad-gateway")
    parts = []
    for nid, n in pb.nodes.items():
        if n.conclusion is None and n.unresolved is None:
            parts += [nid, n.title, n.why]
            parts += [f.title for f in n.findings]
    return " ".join(parts).lower()


def leaks_of(s: Scenario) -> list[str]:
    pb = load_playbook("502-bad-gateway")
    h = s.header
    out = [str(h.get("title") or ""), str(h.get("description") or ""), str(h.get("expected_cause") or "")]
    out += [str(h.get("expected_node") or "")]
    node = pb.nodes.get(str(h.get("expected_node")))
    if node is not None and node.conclusion is not None:
        out.append(node.conclusion.title)
    out += [str(f.get("fault")) for f in h.get("faults") or []] + [str(h.get("fault") or "")]
    common = _playbook_text()
    return sorted({x for x in out if x and x.lower() not in common})
