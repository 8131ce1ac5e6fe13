"""Healthy variants on the live lab: the tree meets systems it was not built against. A healthy
site concludes `no-fault-found` with no warning or critical finding about a healthy host,
whatever naming style the gateway config and the inventory use, with a keepalive pool, with a
backend on the gateway itself, and with errors in the gateway's log from before it healed.
Both transports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook.lab.lab import Lab
from tests.conftest import PLAYBOOK_502, runbook_cmd
from tests.lab.styles import inventory_for

pytestmark = [pytest.mark.lab, pytest.mark.slow]

#: (gateway site style, inventory naming style)
VARIANTS = [
    ("names-runtime", "addresses-only"),  # names in the config, addresses in the inventory
    ("pool-names", "as-built"),  # an upstream pool with keepalive, names resolved at load
    ("pool-names", "addresses-only"),
    ("pool-addresses", "names-only"),  # addresses in the config, names in the inventory
    ("pool-colocated", "colocated"),  # one host with both roles
]


def diagnose(inventory: Path, tmp_path: Path, transport: str) -> tuple[dict, str]:
    out = tmp_path / "R.json"
    run = runbook_cmd(
        "run", str(PLAYBOOK_502), "-i", str(inventory), "--headless", "--transport", transport,
        "--json", str(out), "--journal", str(tmp_path / "j.jsonl"), timeout=180,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(out.read_text()), run.stderr


def assert_no_fault(result: dict, stderr: str) -> None:
    assert result["conclusion"]["cause"] == "no-fault-found", stderr[-3000:]
    loud = [f for f in result["findings"] if f["severity"] in ("warning", "critical")]
    assert loud == [], loud
    assert result["gaps"] == []


@pytest.mark.parametrize("transport", ["asyncssh", "paramiko"])
@pytest.mark.parametrize(("site", "naming"), VARIANTS, ids=[f"{s}-{n}" for s, n in VARIANTS])
def test_a_healthy_variant_finds_no_fault(lab: Lab, tmp_path: Path, site: str, naming: str, transport: str) -> None:
    lab.set_fault("healthy", probe=False, site=site)
    result, stderr = diagnose(inventory_for(lab, naming, tmp_path), tmp_path, transport)
    assert_no_fault(result, stderr)


@pytest.mark.parametrize("transport", ["asyncssh", "paramiko"])
def test_errors_from_before_the_site_healed_are_history(lab: Lab, tmp_path: Path, transport: str) -> None:
    """app2 was down and the gateway logged refusals; it is back, and the log still holds them.
    The site answers well, also under load: no fault, and the log's errors are told as history
    (how many, first and last time, which upstream)."""
    lab.set_fault("backend-down", ["app2"], probe=True)
    assert "Connection refused" in lab.error_log().read_text()
    lab.reset()  # healed, without starting a fresh log
    lab.wait_ready()
    result, stderr = diagnose(lab.inventory_path, tmp_path, transport)
    assert_no_fault(result, stderr)
    history = [f for f in result["findings"] if f["id"] == "log_history"]
    assert history and history[0]["severity"] == "info", result["findings"]
    assert "connect-refused" in history[0]["evidence"] and "198.18.0.4:8080" in history[0]["evidence"]
    assert "first 20" in history[0]["evidence"] and "last 20" in history[0]["evidence"]
