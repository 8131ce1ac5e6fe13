"""The preflight probes only the hosts the playbook's checks target (issue 24 item 10)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from runbook.inventory import load_inventory
from runbook.playbook import load_playbook
from runbook.preflight import targeted_hosts
from tests.conftest import runbook_cmd

LOCAL_ONLY = """\
id: local-only
title: Checks that all run here
start: here
nodes:
  here:
    title: Ask this machine
    checks:
      - {id: hello, on: local, shell: echo hello}
    findings:
      - {id: said_hello, check: hello, severity: info, match: "^hello", title: said hello}
    next:
      - goto: end-ok
  end-ok:
    needs: [hello]
    conclusion: {cause: no-fault-found, title: All good}
"""


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unreachable_inventory(tmp_path: Path) -> Path:
    inv = tmp_path / "inv.yaml"
    inv.write_text(
        f"defaults: {{user: root, known_hosts: {tmp_path / 'kh'}}}\n"
        "hosts:\n"
        f"  gw1: {{address: 127.0.0.1, port: {_closed_port()}, roles: [gateway]}}\n"
        f"  app1: {{address: 127.0.0.1, port: {_closed_port()}, roles: [backend]}}\n"
        f"  mon1: {{address: 127.0.0.1, port: {_closed_port()}, roles: [monitoring]}}\n"
        f"  db1: {{address: 127.0.0.1, port: {_closed_port()}, roles: [database]}}\n"
    )
    return inv


def test_only_hosts_a_check_targets_are_probed(tmp_path: Path) -> None:
    inventory = load_inventory(str(_unreachable_inventory(tmp_path)))
    playbook = load_playbook("502-bad-gateway")
    assert [h.name for h in targeted_hosts(playbook, inventory)] == ["gw1", "app1"]
    local_only = tmp_path / "local.yaml"
    local_only.write_text(LOCAL_ONLY)
    assert targeted_hosts(load_playbook(local_only), inventory) == []


def test_a_local_only_playbook_runs_with_an_unreachable_inventory(tmp_path: Path, data_home: Path) -> None:
    playbook = tmp_path / "local.yaml"
    playbook.write_text(LOCAL_ONLY)
    out = tmp_path / "result.json"
    result = runbook_cmd(
        "run", str(playbook), "-i", str(_unreachable_inventory(tmp_path)), "--headless", "--json", str(out), timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "can be reached" not in result.stderr
    assert json.loads(out.read_text())["conclusion"]["cause"] == "no-fault-found"


def test_hosts_no_check_targets_do_not_count(tmp_path: Path, data_home: Path) -> None:
    # gw1 and app1 refuse, the other two are never asked: the message names the targeted two only
    inventory = _unreachable_inventory(tmp_path)
    result = runbook_cmd("run", "502-bad-gateway", "-i", str(inventory), "--headless", timeout=60)
    assert result.returncode == 2, result.stderr
    assert "none of the 2 inventory hosts can be reached" in result.stderr
    assert "mon1" not in result.stderr and "db1" not in result.stderr
