"""Healthy variants on the live lab: the tree meets systems it was not built against. A healthy
site concludes `no-fault-found` with no warning or critical finding about a healthy host,
whatever naming style the gateway config and the inventory use. Both transports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from runbook.lab.lab import Lab
from tests.conftest import PLAYBOOK_502, runbook_cmd

pytestmark = [pytest.mark.lab, pytest.mark.slow]


def addresses_only(inv: dict[str, Any]) -> None:
    """The gateway proxies to names (app1.lab.internal:8080); the inventory knows addresses only."""
    for host in inv["hosts"].values():
        (host.get("vars") or {}).pop("hostname", None)


@pytest.mark.parametrize("transport", ["asyncssh", "paramiko"])
@pytest.mark.parametrize("variant", [addresses_only], ids=["names-in-config-addresses-in-inventory"])
def test_a_healthy_variant_finds_no_fault(lab: Lab, tmp_path: Path, variant, transport: str) -> None:
    lab.set_fault("healthy", probe=False)
    inv = yaml.safe_load(lab.inventory_path.read_text())
    variant(inv)
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(yaml.safe_dump(inv))
    out = tmp_path / "R.json"
    run = runbook_cmd(
        "run", str(PLAYBOOK_502), "-i", str(inventory), "--headless", "--transport", transport,
        "--json", str(out), "--journal", str(tmp_path / "j.jsonl"), timeout=180,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["conclusion"]["cause"] == "no-fault-found", run.stderr[-3000:]
    loud = [f for f in result["findings"] if f["severity"] in ("warning", "critical")]
    assert loud == [], loud
    assert result["gaps"] == []
