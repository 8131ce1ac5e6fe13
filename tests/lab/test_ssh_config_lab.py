"""On the live lab: an ssh_config with an Include and a ProxyJump through the lab's gateway gets
runbook to a backend over SSH, with both transports and both ssh_config readers; the backend
sees the connection coming from the gateway, so the path really goes through it."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.inventory import load_inventory
from runbook.lab.lab import Lab
from runbook.lab.topology import HOSTS
from runbook.transports.factory import make_transport

pytestmark = [pytest.mark.lab, pytest.mark.root]


def write_config(tmp: Path, lab: Lab) -> Path:
    gw, app2 = HOSTS["gw1"], HOSTS["app2"]
    (tmp / "conf.d").mkdir()
    # the gateway is defined only in an included file, found by a glob
    (tmp / "conf.d" / "10-gateway.conf").write_text(
        f"Host lab-gw\n  HostName {gw.address}\n  User root  # the lab's user\n"
        f"  IdentityFile {lab.key_path}\n  UserKnownHostsFile {lab.known_hosts_path}\n"
    )
    config = tmp / "config"
    config.write_text(
        f"Include {tmp}/conf.d/*.conf\n\n"
        f"Host lab-app2\n  HostName {app2.address}\n  ProxyJump lab-gw\n\n"
        f"Host lab-*\n  User root\n  IdentityFile {lab.key_path}\n  UserKnownHostsFile {lab.known_hosts_path}\n"
        "  StrictHostKeyChecking yes\n"
    )
    inventory = tmp / "inventory.yaml"
    inventory.write_text(
        f"hosts:\n  app2:\n    address: lab-app2\n    ssh_config: {config}\n    roles: [backend]\n"
        "    connect_timeout: 10\n"
    )
    return inventory


@pytest.mark.parametrize("reader", ["ssh", "builtin"])
@pytest.mark.parametrize("kind", ["asyncssh", "paramiko"])
async def test_include_and_proxyjump_through_the_gateway(
    healthy_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, reader: str
) -> None:
    monkeypatch.setenv("RUNBOOK_SSH_CONFIG", reader)
    inv = load_inventory(write_config(tmp_path, healthy_lab))
    host = inv.hosts["app2"]
    t = make_transport(kind)
    try:
        ep = t.endpoint(host)  # type: ignore[attr-defined]
        assert (ep.hostname, ep.user) == (HOSTS["app2"].address, "root")
        assert [(j.alias, j.hostname) for j in ep.chain()] == [("lab-gw", HOSTS["gw1"].address)]
        res = await t.run(host, 'hostname; echo "$SSH_CONNECTION"', timeout=20)
    finally:
        await t.close()
    assert res.exit_status == 0, res.stderr
    name, connection = res.stdout.splitlines()
    assert name == "app2"
    # SSH_CONNECTION = client-ip client-port server-ip server-port: the client is the gateway
    assert connection.split()[0] == HOSTS["gw1"].address
    assert connection.split()[2] == HOSTS["app2"].address
