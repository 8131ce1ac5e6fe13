"""Gaps: a check that could not run is never evidence, and a conclusion whose `needs:` were not
all seen is not reached (the run ends inconclusive)."""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runbook.engine import Observation, PlannedStep
from runbook.gaps import classify, missing_tool
from runbook.inventory import Host
from runbook.journal import read_journal
from runbook.playbook import load_playbook
from runbook.report import build_result, render_markdown
from runbook.walk import fold_json
from runbook.wiring import RunConfig, build_session
from tests.conftest import PLAYBOOK_502

PB = load_playbook(PLAYBOOK_502)
HOST = Host(name="gw1", address="198.18.0.2", roles=["gateway"], user="ops", origin={"address": "inv.yaml:7"})


def result(check: str, **kw: Any) -> Observation:
    node = next(n for n, node in PB.nodes.items() if any(c.id == check for c in node.checks))
    return Observation(step_id="s001", node=node, check=check, host="gw1", command="nginx -T 2>&1", **kw)


def gap_of(check: str, **kw: Any):
    return classify(result(check, **kw), PB.check(check)[1], HOST)


@pytest.mark.parametrize(
    ("check", "kw", "reason", "in_fix"),
    [
        ("nginx_config", {"error": {"kind": "host-key-changed", "message": "key changed"}}, "host-key-changed",
         "ssh-keygen -R 198.18.0.2"),
        ("nginx_config", {"error": {"kind": "host-key-unknown", "message": "not in known_hosts"}}, "host-key-unknown",
         "ssh-keyscan -p 22 198.18.0.2"),
        ("nginx_config", {"error": {"kind": "unreachable", "message": "No route to host"}}, "unreachable",
         "fix `address:` of gw1 in inv.yaml:7"),
        ("nginx_config", {"error": {"kind": "unreachable", "message": "[Errno -2] Name or service not known"}},
         "unresolvable", "inv.yaml:7"),
        ("nginx_config", {"error": {"kind": "auth-refused", "message": "Permission denied (publickey)"}},
         "auth-refused", "ops@198.18.0.2"),
        ("nginx_config", {"exit_status": 127, "stdout": "sh: 1: nginx: not found\n"}, "missing-tool", "install nginx"),
        ("nginx_config", {"exit_status": 1, "stdout": 'nginx: [alert] could not open error log file: open() '
         '"/var/log/nginx/error.log" failed (13: Permission denied)'}, "needs-root", "passwordless sudo"),
        ("error_log", {"exit_status": 1, "stderr": "tail: cannot open '/var/log/nginx/error.log' for reading: "
         "No such file or directory"}, "command-failed", "by hand"),
        ("error_log", {"exit_status": 1, "stderr": "sudo: ops is not in the sudoers file."}, "sudo-refused", "sudoers"),
        ("error_log", {"exit_status": None, "timed_out": True}, "timed-out", "timeout"),
        ("fw_gateway", {"exit_status": 1, "stderr": "iptables v1.8.9 (nf_tables): Could not fetch rule set "
         "generation id: Permission denied (you must be root)"}, "needs-root", "root"),
    ],
)  # fmt: skip
def test_each_kind_of_failure_is_a_gap_with_its_fix(check: str, kw: dict, reason: str, in_fix: str) -> None:
    gap = gap_of(check, **kw)
    assert gap is not None and gap.reason == reason, gap
    assert in_fix in gap.fix, gap.fix
    assert gap.host == "gw1" and gap.check == check and gap.step_id == "s001"


@pytest.mark.parametrize(
    ("check", "kw"),
    [
        ("nginx_config", {"exit_status": 1, "stdout": 'nginx: [emerg] unknown directive "proxy_pas"'}),
        ("nginx_config", {"exit_status": 0, "stdout": "# configuration file /etc/nginx/nginx.conf:"}),
        ("service_status", {"exit_status": 3, "stdout": "inactive (dead)"}),
        ("health_inside", {"exit_status": 7, "stderr": "curl: (7) Failed to connect"}),  # refused: evidence
        ("health_inside", {"exit_status": 28, "timed_out": True}),  # slow: evidence, not a gap
        ("reach_upstream", {"exit_status": 124}),
        ("through_gateway", {"exit_status": 1, "data": {"error": "connect failed"}}),  # local probe
    ],
)
def test_answers_are_evidence_not_gaps(check: str, kw: dict) -> None:
    assert gap_of(check, **kw) is None


def test_missing_tool_names_the_tool() -> None:
    assert missing_tool("sh: 1: nginx: not found") == "nginx"
    assert missing_tool("bash: line 1: iptables-save: command not found") == "iptables-save"
    assert missing_tool("exec: /usr/sbin/nft: No such file or directory") == "nft"
    assert missing_tool("") == "a tool"


# ---- random walks in which any step may become a gap --------------------------------------
GAP_KINDS = [
    {"error": {"kind": "unreachable", "message": "No route to host"}},
    {"error": {"kind": "auth-refused", "message": "Permission denied (publickey)"}},
    {"error": {"kind": "host-key-changed", "message": "the host key changed"}},
    {"exit_status": 127, "stdout": "", "stderr": "sh: 1: tool: not found"},
    {"exit_status": None, "timed_out": True, "stdout": "", "stderr": ""},
]


class GappyIO:
    """The replayed steps, of which a random share come back as gaps."""

    def __init__(self, inner: Any, rng: random.Random, share: float):
        self.inner, self.rng, self.share = inner, rng, share

    async def run_step(self, step: PlannedStep, step_id: str, on_output: Any = None) -> Observation:
        obs = await self.inner.run_step(step, step_id, on_output)
        if self.rng.random() < self.share:
            kind = self.rng.choice(GAP_KINDS[:4] if step.kind != "shell" else GAP_KINDS)
            obs.exit_status, obs.stdout, obs.stderr, obs.data, obs.error = None, "", "", {}, None
            for key, value in kind.items():
                setattr(obs, key, value)
        return obs


def seen_on_every_host(events: list[dict[str, Any]], upto: int, check: str, hosts: list[str]) -> bool:
    gapped = {e.get("step_id") for e in events[:upto] if e["type"] == "gap"}
    ran = {e["host"] for e in events[:upto] if e["type"] == "step-result" and e["check"] == check
           and e["step_id"] not in gapped}  # fmt: skip
    return set(hosts) <= ran


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    share=st.sampled_from([0.05, 0.2, 0.5, 1.0]),
    scenario=st.sampled_from(["demo", "firewall", "healthy", "backend-down"]),
)
def test_no_finding_comes_from_a_gap_and_conclusions_have_their_needs(seed: int, share: float, scenario: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = RunConfig(playbook="502-bad-gateway", scenario=scenario, journal=str(Path(tmp) / "j.jsonl"))
        s = build_session(cfg)
        s.io = GappyIO(s.io, random.Random(seed), share)
        s.start()
        asyncio.run(s.run_to_end())
        s.finish()
        events = read_journal(s.journal.path)
        s.journal.close()
    gapped = {e["step_id"] for e in events if e["type"] == "gap" and e.get("step_id")}
    for e in events:
        if e["type"] == "finding" and e.get("step_id") in gapped:
            assert e["id"] == "security_host_key_changed", e  # the only finding a failed login makes
    start = next(e for e in events if e["type"] == "session-start")
    inventory = {h["name"]: h for h in start["inventory"]}
    for i, e in enumerate(events):
        if e["type"] != "conclusion":
            continue
        node = PB.nodes[e["node"]]
        cited = set(e["hosts"])
        for need in node.needs:
            found = PB.check(need.name)
            if found is None:  # a finding
                continue
            check = found[1]
            hosts = [n for n, h in inventory.items() if check.on in h["roles"]] or ["local"]
            if need.hosts == "cited" and cited & set(hosts):
                hosts = [h for h in hosts if h in cited]
            assert seen_on_every_host(events, i, check.id, hosts), (e["node"], need, hosts)
    walk = fold_json(events)
    if walk.status == "inconclusive":
        out = build_result(events)
        assert out["status"] == "inconclusive" and out["conclusion"] is None
        assert out["inconclusive"]["missing"] or out["inconclusive"]["node"] == "gateway-unseen"


def test_a_run_that_cannot_see_ends_inconclusive_with_the_fix(tmp_path: Path) -> None:
    cfg = RunConfig(playbook="502-bad-gateway", scenario="healthy", journal=str(tmp_path / "j.jsonl"))
    s = build_session(cfg)
    s.io = GappyIO(s.io, random.Random(1), 0.0)

    class NoNginx(GappyIO):
        async def run_step(self, step: PlannedStep, step_id: str, on_output: Any = None) -> Observation:
            obs = await self.inner.run_step(step, step_id, on_output)
            if step.check.id == "nginx_config":
                obs.exit_status, obs.stdout, obs.data = 127, "sh: 1: nginx: not found\n", {}
            return obs

    s.io = NoNginx(s.io.inner, random.Random(0), 0)
    s.start()
    asyncio.run(s.run_to_end())
    s.finish()
    events = read_journal(s.journal.path)
    s.journal.close()
    out = build_result(events)
    assert out["status"] == "inconclusive" and out["conclusion"] is None
    missing = out["inconclusive"]["missing"]
    assert any(m["need"] == "nginx_config" and m["reason"] == "missing-tool" and "install nginx" in m["fix"]
               for m in missing), missing  # fmt: skip
    assert not [f for f in out["findings"] if f["severity"] != "info" and f["step_id"] in
                {g["step_id"] for g in out["gaps"]}]  # fmt: skip
    report = render_markdown(events)
    assert "## What could not be seen" in report and "install nginx" in report
    assert json.loads(json.dumps(out))  # the result stays plain JSON
