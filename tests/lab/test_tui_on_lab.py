"""The app on live hosts: unknown host keys reach the engineer as a modal, over a real sshd."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from runbook.journal import read_journal
from runbook.lab.lab import Lab
from runbook.wiring import RunConfig
from tests.conftest import PLAYBOOK_502

pytestmark = [pytest.mark.lab]


async def test_unknown_host_keys_are_asked_for_then_recorded(lab: Lab, tmp_path: Path) -> None:
    from runbook.tui.app import RunbookApp
    from runbook.tui.screens.modals import HostKeyScreen

    lab.set_fault("healthy", probe=False)
    inventory = yaml.safe_load(lab.inventory_path.read_text())
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")  # nothing trusted yet
    inventory["defaults"]["known_hosts"] = str(known_hosts)
    inv_path = tmp_path / "inventory.yaml"
    inv_path.write_text(yaml.safe_dump(inventory))

    cfg = RunConfig(playbook=str(PLAYBOOK_502), inventory=str(inv_path), journal=str(tmp_path / "j.jsonl"))
    app = RunbookApp(cfg, export_dir=tmp_path, ask_incident=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("r")  # symptom from the runner; meanwhile the gateway's login is tried
        asked_gateway = 0
        for _ in range(400):
            if isinstance(app.screen, HostKeyScreen):
                asked_gateway += 1
                await pilot.press("r")  # trust and record
            elif app.session.current != "symptom" and app.session.status != "running":
                break
            await pilot.pause(0.05)
        assert asked_gateway == 1  # gw1, asked while the first node runs
        await pilot.pause(0.3)
        await pilot.press("enter")  # on from symptom's result, which stays on screen until then
        await pilot.pause(0.3)
        if app.session.current == "load-probe":  # symptom first: a healthy gateway gets a burst
            await pilot.press("r")
            for _ in range(400):
                if app.session.status != "running":
                    break
                await pilot.pause(0.05)
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause(0.3)
        assert app.session.current == "backend-health"
        await pilot.press("r")  # backend-health: ssh to app1 and app2, whose keys are unknown
        asked = 0
        for _ in range(400):
            if isinstance(app.screen, HostKeyScreen):
                asked += 1
                await pilot.press("r")  # trust and record
            elif app.session.current != "backend-health" and app.session.status != "running":
                break
            await pilot.pause(0.05)
        assert asked >= 2
    decisions = [(e["host"], e["decision"]) for e in read_journal(tmp_path / "j.jsonl") if e["type"] == "host-key"]
    assert {h for h, _ in decisions} >= {"gw1", "app1", "app2"}
    assert all(d == "trust-recorded" for _, d in decisions)
    recorded = known_hosts.read_text()
    assert "198.18.0.3" in recorded or "|1|" in recorded
    results = [e for e in read_journal(tmp_path / "j.jsonl") if e["type"] == "step-result" and e["host"] == "app1"]
    assert results and all(r["error"] is None for r in results)
