"""Proof: the 502 playbook, run headless over SSH on the live lab, concludes the right cause
and names the right host, for every fault in the guide (and the healthy lab)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook.lab.fault import Fault, Proof
from runbook.lab.faults import FAULTS, proof_cases
from runbook.lab.lab import Lab
from tests.conftest import PLAYBOOK_502, runbook_cmd
from tests.lab.styles import NAMINGS, inventory_for

pytestmark = [pytest.mark.lab, pytest.mark.slow]

# every proof case of every fault in the registry: (fault, where it is made, what is named),
# in the styles with names in the gateway's config
CASES = [(fault, case, naming) for fault, case in proof_cases() for naming in ("as-built", "addresses-only")]


def whole_pool(fault: Fault) -> Proof:
    """The fault on every backend at once, and what a diagnosis names then. A pool retries a
    failed request on the next server, so a fault on one backend of two is masked there."""
    whole = [c for c in fault.proofs if c.hosts is None]
    named = whole[0].named if whole else ("app1", "app2")
    return Proof(None, named, fault.proofs[0].evidence)


# and every fault that does not need names in the config, with addresses in it and names only
# in the inventory (ssh_config aliases)
CASES += [(f, whole_pool(f), "names-only") for f in FAULTS.values() if not f.needs_names and not f.site]
# a backend on the gateway itself: the faults of the app, on the whole pool with the gateway's own
CASES += [
    (FAULTS[name], Proof(None, named, FAULTS[name].proofs[0].evidence), "colocated")
    for name, named in (("healthy", ()), ("backend-down", ("app1", "app2", "gw1")),
                        ("backend-crash", ("app1", "app2", "gw1")))
]  # fmt: skip


def diagnose(lab: Lab, tmp_path: Path, *extra: str, inventory: Path | None = None) -> tuple[dict, str]:
    out_json, out_md = tmp_path / "R.json", tmp_path / "R.md"
    result = runbook_cmd(
        "run",
        str(PLAYBOOK_502),
        "-i",
        str(inventory or lab.inventory_path),
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
@pytest.mark.parametrize(("fault", "case", "naming"), CASES, ids=[f"{f.name}-{c.id}-{n}" for f, c, n in CASES])
def test_playbook_concludes_the_fault(
    lab: Lab, tmp_path: Path, fault: Fault, case: Proof, naming: str, transport: str
) -> None:
    site = None if fault.site else NAMINGS[naming]
    lab.set_fault(fault.name, list(case.hosts) if case.hosts else None, probe=True, site=site)
    inventory = inventory_for(lab, naming, tmp_path)
    result, report = diagnose(lab, tmp_path, "--transport", transport, inventory=inventory)
    check_conclusion(fault, case, result, report, transport)


def check_conclusion(fault: Fault, case: Proof, result: dict, report: str, transport: str) -> None:
    where = f"{transport}: "
    assert result["status"] != "inconclusive", where + json.dumps(result["inconclusive"])
    if fault.silent:  # the host that answers nothing cannot be logged in to: those are its gaps
        assert result["gaps"] and {g["host"] for g in result["gaps"]} <= set(case.named), where + str(result["gaps"])
    else:
        assert result["gaps"] == [], where + str(result["gaps"])
    conclusion = result["conclusion"]
    assert conclusion["cause"] == fault.cause, where + json.dumps(result["findings"], indent=1)[:4000]
    named, hosts = sorted(case.named), sorted(conclusion["hosts"])
    assert hosts == named or set(named) <= set(hosts), where + str(conclusion)
    if fault.cause == "no-fault-found":
        assert not [f for f in result["findings"] if f["severity"] in ("warning", "critical")], where
    if case.evidence:
        assert case.evidence in report, where + case.evidence
    assert conclusion["remediation"]


def test_registry_keeps_every_proof_case() -> None:
    """The cases proven before faults became data: none may silently drop out of the registry."""
    ids = {f"{f.name}-{c.id}" for f, c, _ in CASES}
    assert ids >= {
        "healthy-all", "backend-down-app2", "backend-crash-app2", "backend-slow-app2",
        "gateway-misconfigured-all", "dns-failure-app2", "malformed-response-app2", "firewall-app2",
        "backend-down-all", "firewall-all", "dns-wrong-address-app2", "dns-down-all", "firewall-reject-app2",
    }  # fmt: skip
    assert all(fault.proofs for fault in FAULTS.values()), "every registered fault is proven"
    # every fault in at least one naming style besides the one the lab was built with
    for fault in FAULTS.values():
        assert {n for f, _, n in CASES if f is fault} - {"as-built"}, fault.name


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
