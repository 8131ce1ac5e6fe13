"""Inventory hosts over a real sshd: `jump: gw1` naming an inventory host (issue 12, item 6),
ssh_config with a ProxyCommand, and an explicit port 22 that ssh_config must not replace."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from runbook.inventory import Host, load_inventory

from .conftest import Keys, Sshd

pytestmark = pytest.mark.sshd

# stdin/stdout <-> TCP, as `nc %h %p` would be (nc is not on every machine)
PROXY = """
import os, socket, sys, threading
open(sys.argv[1], "w").close()
s = socket.create_connection((sys.argv[2], int(sys.argv[3])))
def up():
    while data := os.read(0, 65536):
        s.sendall(data)
    s.shutdown(socket.SHUT_WR)
threading.Thread(target=up, daemon=True).start()
while data := s.recv(65536):
    os.write(1, data)
"""


def test_jump_naming_an_inventory_host_uses_that_host_not_dns(tmp_path: Path) -> None:
    """On main the hop was the DNS name 'gw1' on port 22 as the local user."""
    inv_path = tmp_path / "inv.yaml"
    key = tmp_path / "gw_key"
    key.write_text("not a real key\n")
    inv_path.write_text(
        "hosts:\n"
        f"  gw1: {{address: 10.9.9.9, port: 2222, user: jumper, identity_file: {key}, roles: [gateway]}}\n"
        "  app1: {address: 10.0.0.5, user: root, jump: gw1, roles: [backend]}\n"
    )
    inv = load_inventory(inv_path)
    from runbook.transports.factory import make_transport

    for kind in ("asyncssh", "paramiko"):
        ep = make_transport(kind).endpoint(inv.hosts["app1"])  # type: ignore[attr-defined]
        assert ep.jump is not None
        hop = ep.jump
        assert (hop.hostname, hop.port, hop.user) == ("10.9.9.9", 2222, "jumper"), kind
        assert hop.identity_files[:1] == (str(key),), kind


async def test_inventory_jump_by_name_over_sshd(
    make, sshd: Sshd, jump_sshd: Sshd, ssh_keys: Keys, known_hosts: Path, tmp_path
):
    """No host_resolver passed: the inventory itself knows its hosts."""
    inv_path = tmp_path / "inv.yaml"
    inv_path.write_text(
        f"defaults: {{user: root, identity_file: {ssh_keys.user_key}, known_hosts: {known_hosts}}}\n"
        "hosts:\n"
        f"  gw1: {{address: 127.0.0.1, port: {jump_sshd.port}, roles: [gateway]}}\n"
        f"  app1: {{address: 127.0.0.1, port: {sshd.port}, jump: gw1, roles: [backend]}}\n"
    )
    inv = load_inventory(inv_path)
    res = await make().run(inv.hosts["app1"], 'echo "$SSH_CONNECTION"', timeout=15)
    assert res.exit_status == 0, res.stderr
    assert res.stdout.split()[-1] == str(sshd.port)


async def test_proxycommand_from_ssh_config(make, sshd: Sshd, ssh_keys: Keys, known_hosts: Path, tmp_path):
    """ProxyCommand before ProxyJump: OpenSSH uses the ProxyCommand, so does runbook."""
    marker = tmp_path / "proxy-ran"
    proxy = tmp_path / "proxy.py"
    proxy.write_text(PROXY)
    cfg = tmp_path / "config"
    cfg.write_text(
        "Host via-proxy\n  HostName 127.0.0.1\n"
        f"  Port {sshd.port}\n  User root\n  IdentityFile {ssh_keys.user_key}\n"
        f"  ProxyCommand {sys.executable} {proxy} {marker} %h %p\n"
        "  ProxyJump nowhere.invalid\n"
    )
    host = Host(name="app1", address="via-proxy", ssh_config=str(cfg), known_hosts=str(known_hosts))
    t = make()
    ep = t.endpoint(host)
    assert ep.jump is None and ep.proxy_command and f"{marker} 127.0.0.1 {sshd.port}" in ep.proxy_command
    res = await t.run(host, "echo through-proxy", timeout=15)
    assert res.stdout == "through-proxy\n", res.stderr
    assert marker.exists()


def test_explicit_port_22_is_kept(tmp_path: Path) -> None:
    cfg = tmp_path / "config"
    cfg.write_text("Host *\n  Port 2222\n")
    from runbook.transports.factory import make_transport

    explicit = Host(name="a", address="h.example", port=22, ssh_config=str(cfg))
    implicit = Host(name="b", address="h.example", ssh_config=str(cfg))
    t = make_transport("asyncssh")
    assert t.endpoint(explicit).port == 22  # type: ignore[attr-defined]
    assert t.endpoint(implicit).port == 2222  # type: ignore[attr-defined]
