"""Proof: the 502 playbook, run headless over SSH on the live lab, concludes the right cause
and names the right host, for every fault in the guide (and the healthy lab)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook.lab.lab import Lab
from tests.conftest import PLAYBOOK_502, runbook_cmd

pytestmark = [pytest.mark.lab, pytest.mark.slow]

# (fault, backends with the fault, expected cause, hosts the conclusion must name, evidence in the report)
CASES = [
    ("healthy", None, "no-fault-found", [], None),
    ("backend-down", ["app2"], "backend-down", ["app2"], "app2"),
    ("backend-crash", ["app2"], "backend-down", ["app2"], "Empty reply from server"),
    ("backend-slow", ["app2"], "backend-overloaded", ["app2"], "timed out"),
    ("gateway-misconfigured", None, "gateway-misconfigured", ["gw1"], "8081"),
    ("dns-failure", ["app2"], "dns-failure", ["app2"], "could not be resolved"),
    ("malformed-response", ["app2"], "malformed-response", ["app2"], "invalid header"),
    ("firewall", ["app2"], "network-blocked", ["app2"], "DROP"),
    # the same faults on every backend: the pool is down, not masked by a healthy peer
    ("backend-down", None, "backend-down", ["app1", "app2"], None),
    ("firewall", None, "network-blocked", ["app1", "app2"], "DROP"),
    # causes the fault list of the issue does not name, diagnosed from the same evidence
    ("dns-wrong-address", ["app2"], "dns-failure", ["app2"], "198.19.0."),
    ("dns-down", None, "dns-failure", ["app1", "app2"], "could not be resolved"),
    ("firewall-reject", ["app2"], "network-blocked", ["app2"], "REJECT"),
]


def diagnose(lab: Lab, tmp_path: Path, *extra: str) -> tuple[dict, str]:
    out_json, out_md = tmp_path / "R.json", tmp_path / "R.md"
    result = runbook_cmd(
        "run",
        str(PLAYBOOK_502),
        "-i",
        str(lab.inventory_path),
        "--headless",
        "--json",
        str(out_json),
        "--report",
        str(out_md),
        "--journal",
        str(tmp_path / "j.jsonl"),
        *extra,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(out_json.read_text()), out_md.read_text()


@pytest.mark.parametrize("transport", ["asyncssh", "paramiko"])
@pytest.mark.parametrize(
    ("fault", "hosts", "cause", "named", "evidence"),
    CASES,
    ids=[f"{c[0]}-{'+'.join(c[1]) if c[1] else 'all'}" for c in CASES],
)
def test_playbook_concludes_the_fault(
    lab: Lab,
    tmp_path: Path,
    fault: str,
    hosts: list[str] | None,
    cause: str,
    named: list[str],
    evidence: str | None,
    transport: str,
) -> None:
    lab.set_fault(fault, hosts, probe=True)
    result, report = diagnose(lab, tmp_path, "--transport", transport)
    assert result["status"] != "inconclusive" and result["gaps"] == [], result["gaps"]
    conclusion = result["conclusion"]
    assert conclusion["cause"] == cause, json.dumps(result["findings"], indent=1)[:4000]
    assert sorted(conclusion["hosts"]) == sorted(named) or set(named) <= set(conclusion["hosts"]), conclusion
    if cause == "no-fault-found":
        assert not [f for f in result["findings"] if f["severity"] == "critical"]
    if evidence:
        assert evidence in report
    assert conclusion["remediation"]


@pytest.mark.parametrize("fault", ["backend-down", "dns-failure", "firewall"])
def test_paramiko_transport_concludes_the_same(lab: Lab, tmp_path: Path, fault: str) -> None:
    lab.set_fault(fault, ["app1"], probe=True)
    asyncssh_result, _ = diagnose(lab, tmp_path)
    paramiko_result, _ = diagnose(lab, tmp_path / "p", "--transport", "paramiko")
    assert paramiko_result["conclusion"]["cause"] == asyncssh_result["conclusion"]["cause"]
    assert paramiko_result["conclusion"]["hosts"] == asyncssh_result["conclusion"]["hosts"] == ["app1"]


async def test_local_dns_check_asks_the_lab_resolver(lab: Lab) -> None:
    from runbook.checks.dns import resolve

    data, _ = await resolve({"name": "app1.lab.internal", "type": "A", "server": "198.18.0.53"}, 3)
    assert data["rcode"] == "NOERROR" and data["answers"] == ["198.18.0.3"]
    data, _ = await resolve({"name": "gone.lab.internal", "type": "A", "server": "198.18.0.53"}, 3)
    assert data["rcode"] == "NXDOMAIN" and data["answers"] == []
