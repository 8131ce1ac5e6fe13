"""Gaps on the live lab: when a host cannot be inspected (a changed host key, an address where
nothing answers, a refused login, a missing tool), the run ends inconclusive (exit 1, no cause),
says which host, why and what to fix, and no warning or critical finding comes from a check that
could not run. Both transports."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from runbook.lab.lab import Lab
from tests.conftest import PLAYBOOK_502, runbook_cmd

pytestmark = [pytest.mark.lab, pytest.mark.slow]

TRANSPORTS = ["asyncssh", "paramiko"]


def new_key(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


def changed_gateway_key(lab: Lab, inv: dict[str, Any], tmp: Path) -> None:
    other = new_key(tmp / "other_host_key").with_suffix(".pub").read_text().split()
    lines = []
    for line in lab.known_hosts_path.read_text().splitlines():
        if line.split()[0] == inv["hosts"]["gw1"]["address"]:
            line = f"{line.split()[0]} {other[0]} {other[1]}"
        lines.append(line)
    (tmp / "known_hosts").write_text("\n".join(lines) + "\n")
    inv["defaults"]["known_hosts"] = str(tmp / "known_hosts")


def unknown_gateway_key(lab: Lab, inv: dict[str, Any], tmp: Path) -> None:
    gw = inv["hosts"]["gw1"]["address"]
    kept = [ln for ln in lab.known_hosts_path.read_text().splitlines() if ln.split()[0] != gw]
    (tmp / "known_hosts").write_text("\n".join(kept) + "\n")
    inv["defaults"]["known_hosts"] = str(tmp / "known_hosts")


def gateway_address_nobody_answers(lab: Lab, inv: dict[str, Any], tmp: Path) -> None:
    inv["hosts"]["gw1"]["address"] = "198.18.0.99"  # on the lab's bridge, no host there


def refused_login_on_app1(lab: Lab, inv: dict[str, Any], tmp: Path) -> None:
    inv["hosts"]["app1"]["identity_file"] = str(new_key(tmp / "not_authorized"))


def nginx_not_on_gateway_path(lab: Lab, inv: dict[str, Any], tmp: Path) -> None:
    ssh_dir = lab.fs("gw1") / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    (ssh_dir / "environment").write_text("PATH=/usr/bin:/bin\n")  # no /usr/sbin: no nginx


# (case, how to make it, the host the message must name, the reason, a piece of the fix)
CASES: list[tuple[str, Callable[[Lab, dict[str, Any], Path], None], str, str, str]] = [
    ("host-key-changed", changed_gateway_key, "gw1", "host-key-changed", "ssh-keygen -R"),
    # no --accept-new-host-keys: the exact commands to verify the key, then accept it
    ("host-key-unknown", unknown_gateway_key, "gw1", "host-key-unknown", "ssh-keyscan -p 22 198.18.0.2"),
    ("nobody-answers", gateway_address_nobody_answers, "gw1", "", "address:"),
    ("auth-refused", refused_login_on_app1, "app1", "auth-refused", "ssh -p 22"),
    ("nginx-missing", nginx_not_on_gateway_path, "gw1", "missing-tool", "install nginx"),
]


@pytest.fixture()
def clean_gateway_env(lab: Lab):
    yield
    (lab.fs("gw1") / "root/.ssh/environment").unlink(missing_ok=True)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("case", "make", "host", "reason", "fix"), CASES, ids=[c[0] for c in CASES])
def test_an_unseen_host_ends_inconclusive_with_the_fix(
    lab: Lab, tmp_path: Path, clean_gateway_env: None, transport: str, case: str, make, host, reason, fix
) -> None:
    lab.set_fault("healthy", probe=False)
    inv = yaml.safe_load(lab.inventory_path.read_text())
    make(lab, inv, tmp_path)
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(yaml.safe_dump(inv))
    out_json, out_md = tmp_path / "R.json", tmp_path / "R.md"
    run = runbook_cmd(
        "run", str(PLAYBOOK_502), "-i", str(inventory), "--headless", "--transport", transport,
        "--json", str(out_json), "--report", str(out_md), "--journal", str(tmp_path / "j.jsonl"),
        timeout=180,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr[-3000:]
    result = json.loads(out_json.read_text())
    assert result["status"] == "inconclusive" and result["conclusion"] is None
    # the message names the host, the reason and the fix, on stderr and in the report
    assert "what could not be seen" in run.stderr and host in run.stderr and fix in run.stderr, run.stderr[-3000:]
    gaps = [g for g in result["gaps"] if g["host"] == host]
    assert gaps and (not reason or all(g["reason"] == reason for g in gaps)), gaps
    assert "## What could not be seen" in out_md.read_text() and fix in out_md.read_text()
    # no warning or critical finding from a check that could not run
    gapped = {g["step_id"] for g in result["gaps"] if g["step_id"]}
    derived = [f for f in result["findings"] if f["step_id"] in gapped and f["id"] != "security_host_key_changed"]
    assert derived == []
    bad = [f for f in result["findings"] if f["severity"] in ("warning", "critical") and f["host"] == host]
    if case == "host-key-changed":
        # a security finding of its own, the first line of the report, and no step on gw1 afterwards
        assert [f["id"] for f in bad] == ["security_host_key_changed"]
        assert out_md.read_text().startswith("> **SECURITY: the SSH host key of gw1 changed")
    else:
        assert bad == [], bad
    if host == "gw1" and case != "nginx-missing":
        # the gateway could not be logged in to at all: the walk stops after the symptom
        assert {s["node"] for s in result["steps"]} == {"symptom"}, result["steps"]
    print(f"{case}/{transport}: {len(result['findings'])} findings, "
          f"{sum(f['severity'] in ('warning', 'critical') for f in result['findings'])} warning/critical, "
          f"{len(result['gaps'])} gaps")  # fmt: skip
