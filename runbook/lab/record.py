"""`runbook lab record FAULT`: run the 502 playbook on the live lab and keep the session as a
replay scenario. Shipped scenarios (the demo, the training set) are made this way."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from runbook.headless import run_headless
from runbook.journal import read_journal
from runbook.lab.faults import FAULTS
from runbook.lab.lab import Lab, lab_lock
from runbook.scenario import SCENARIO_DIR, write_scenario
from runbook.wiring import RunConfig, build_session

TITLES = {
    "healthy": "All quiet: users report 502s, but is anything wrong?",
    "backend-down": "The app service stopped on a backend",
    "backend-crash": "A backend drops requests mid-flight",
    "backend-slow": "A backend answers too slowly for the gateway",
    "gateway-misconfigured": "502s right after a gateway deploy",
    "dns-failure": "An upstream name stopped resolving",
    "malformed-response": "A backend sends broken HTTP",
    "firewall": "502s after a network change",
}


def record(
    fault: str,
    hosts: list[str] | None,
    name: str,
    out_dir: Path,
    *,
    transport: str = "asyncssh",
    description: str | None = None,
) -> Path:
    lab = Lab()
    with lab_lock(timeout=600), tempfile.TemporaryDirectory(prefix="rb-record-") as tmp:
        lab.set_fault(fault, hosts, probe=False)
        journal = Path(tmp) / "journal.jsonl"
        cfg = RunConfig(
            playbook="502-bad-gateway", inventory=str(lab.inventory_path), transport=transport, journal=str(journal)
        )
        code = asyncio.run(run_headless(build_session(cfg)))
        events = read_journal(journal)
    conclusion = next((e for e in events if e["type"] == "conclusion"), None)
    if code != 0 or conclusion is None:
        raise SystemExit(f"runbook: the run on fault {fault} did not conclude; nothing recorded")
    header = {
        "name": name,
        "title": TITLES.get(fault, fault),
        "playbook": "502-bad-gateway",
        "description": description or FAULTS[fault].description,
        "fault": fault,
        "fault_hosts": hosts or [],
        "expected_cause": conclusion["cause"],
        "expected_hosts": conclusion.get("hosts", []),
        "expected_node": conclusion["node"],
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "recorded_from": "runbook lab",
    }
    # the recording's start must not point at this machine's temporary inventory
    for e in events:
        if e["type"] == "session-start":
            e["run"] = {**e.get("run", {}), "inventory": None}
            e["mode"] = "recorded"
    out = out_dir / f"{name}.jsonl"
    write_scenario(out, header, events)
    return out


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="runbook lab record")
    p.add_argument("fault", choices=sorted(FAULTS))
    p.add_argument("--host", action="append", help="backend(s) with the fault (default: the fault's own choice)")
    p.add_argument("--name", help="scenario name (default: the fault's name)")
    p.add_argument("-o", "--out-dir", default=str(SCENARIO_DIR))
    p.add_argument("--transport", default="asyncssh", choices=["asyncssh", "paramiko"])
    args = p.parse_args(argv)
    out = record(args.fault, args.host, args.name or args.fault, Path(args.out_dir), transport=args.transport)
    print(f"scenario: {out}")
    return 0
