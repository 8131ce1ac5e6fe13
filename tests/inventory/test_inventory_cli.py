"""`runbook inventory -i SRC [--json]`, run as a user would: the JSON contract, file:line
errors with exit 2, "needs Ansible" and "needs ansible-vault"."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from runbook.inventory import load_inventory
from runbook.inventory.ansible_cli import ansible_inventory_binary
from runbook.yamlsource import SourceError
from tests.conftest import runbook_cmd

HAVE_ANSIBLE = ansible_inventory_binary() is not None
needs_ansible = pytest.mark.skipif(not HAVE_ANSIBLE, reason="needs ansible-core (pip install -e '.[test]')")

CONTRACT_HOST_KEYS = {
    "name", "address", "hostname", "port", "user", "identity_files", "jump", "proxy_command", "known_hosts",
    "global_known_hosts", "strict_host_key_checking", "roles", "vars", "sources", "origin", "sudo", "password_env",
}  # fmt: skip


def test_json_contract_and_sources(tmp_path: Path) -> None:
    cfg = tmp_path / "ssh_config"
    cfg.write_text("Host app-*\n  User deploy\n  Port 2200\n  ProxyJump bastion\nHost bastion\n  HostName 10.0.0.1\n")
    inv = tmp_path / "inv.yaml"
    inv.write_text(
        "defaults: {known_hosts: /tmp/kh}\n"
        "hosts:\n"
        f"  app1: {{address: app-1, ssh_config: {cfg}, roles: [backend], vars: {{service: app}}}}\n"
        "  gw1: {address: 10.0.0.2, port: 22, user: root, roles: [gateway]}\n"
    )
    out = runbook_cmd("inventory", "-i", str(inv), "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["format"] == 1 and doc["reader"] == "runbook"
    app1, gw1 = doc["hosts"]
    assert set(app1) >= CONTRACT_HOST_KEYS
    assert (app1["hostname"], app1["port"], app1["user"]) == ("app-1", 2200, "deploy")
    assert app1["sources"]["port"] == f"ssh_config {cfg}:3"
    assert app1["sources"]["user"] == f"ssh_config {cfg}:2"
    assert [(j["hostname"], j["port"]) for j in app1["jump"]] == [("10.0.0.1", 22)]
    assert app1["known_hosts"][0] == "/tmp/kh"
    assert app1["roles"] == ["backend"] and app1["vars"] == {"service": "app"}
    assert gw1["port"] == 22 and gw1["sources"]["port"].startswith(f"{inv}:")
    assert doc["resolution"]["hosts"] == 2
    text = runbook_cmd("inventory", "-i", str(inv))
    assert text.returncode == 0 and "app1" in text.stdout and f"ssh_config {cfg}:3" in text.stdout


@pytest.mark.parametrize("reader", ["builtin", "ansible"])
def test_bad_ini_is_file_line_exit_2(tmp_path: Path, reader: str) -> None:
    if reader == "ansible" and not HAVE_ANSIBLE:
        pytest.skip("needs ansible-core")
    inv = tmp_path / "hosts"
    inv.write_text("[web]\nok\nh1 novalue\n")
    out = runbook_cmd("inventory", "-i", str(inv), env={"RUNBOOK_ANSIBLE": reader})
    assert out.returncode == 2
    assert out.stderr.startswith(f"{inv}:3: "), out.stderr
    assert "Traceback" not in out.stderr


def test_bad_ssh_config_is_file_line_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "ssh_config"
    cfg.write_text("Host *\n  Port notaport\n")
    inv = tmp_path / "inv.yaml"
    inv.write_text(f"hosts:\n  a: {{address: a, ssh_config: {cfg}}}\n")
    for reader in ("ssh", "builtin"):
        out = runbook_cmd("inventory", "-i", str(inv), env={"RUNBOOK_SSH_CONFIG": reader})
        assert out.returncode == 2, (reader, out.stdout)
        assert f"{cfg}:2: " in out.stderr, (reader, out.stderr)


PLUGIN = (
    "plugin: ansible.builtin.generator\nhosts:\n  name: '{{ app }}-{{ env }}'\n"
    "layers:\n  app: [web, api]\n  env: [prod]\n"
)


def test_plugin_source_without_ansible_says_what_to_do(tmp_path: Path) -> None:
    src = tmp_path / "gen.yml"
    src.write_text(PLUGIN)
    out = runbook_cmd("inventory", "-i", str(src), env={"RUNBOOK_ANSIBLE": "builtin"})
    assert out.returncode == 2
    assert out.stderr.startswith(f"{src}:1: this inventory needs Ansible"), out.stderr
    assert "install ansible-core" in out.stderr


@needs_ansible
def test_plugin_and_script_sources_through_ansible(tmp_path: Path) -> None:
    src = tmp_path / "gen.yml"
    src.write_text(PLUGIN)
    inv = load_inventory(src)
    assert inv.reader == "ansible-inventory"
    assert sorted(inv.hosts) == ["api-prod", "web-prod"]
    script = tmp_path / "inventory.py"
    script.write_text(
        "#!/usr/bin/env python3\nimport json\nprint(json.dumps({'web': {'hosts': ['s1'], 'vars': {'port': 8080}},"
        " '_meta': {'hostvars': {'s1': {'ansible_host': '10.5.5.5', 'ansible_port': 2200}}}}))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    inv = load_inventory(script, role_map="backend=web")
    s1 = inv.hosts["s1"]
    assert (s1.address, s1.port, sorted(s1.roles)) == ("10.5.5.5", 2200, ["backend", "web"])
    assert s1.vars == {"port": 8080}


VAULTED = "$ANSIBLE_VAULT;1.1;AES256\n" + "3635".ljust(64, "0") + "\n"


@pytest.mark.parametrize("reader", ["builtin", "ansible"])
def test_vault_encrypted_values_need_ansible_vault(tmp_path: Path, reader: str) -> None:
    if reader == "ansible" and not HAVE_ANSIBLE:
        pytest.skip("needs ansible-core")
    inv = tmp_path / "inv.yml"
    inline = "".join(f"          {line}\n" for line in VAULTED.splitlines())
    inv.write_text(f"all:\n  hosts:\n    h1:\n      db_password: !vault |\n{inline}")
    loaded = load_inventory(inv, ansible=reader)
    assert loaded.hosts["h1"].vars["db_password"] == "<needs ansible-vault>"
    assert any("db_password is vault-encrypted: needs ansible-vault" in w for w in loaded.warnings), loaded.warnings
    inv.write_text(f"all:\n  hosts:\n    h1:\n      ansible_user: !vault |\n{inline}")
    with pytest.raises(SourceError) as info:
        load_inventory(inv, ansible=reader)
    assert "ansible_user is vault-encrypted: needs ansible-vault" in info.value.problems[0]


def test_vault_encrypted_group_vars_file_builtin(tmp_path: Path) -> None:
    (tmp_path / "hosts").write_text("[web]\nh1\n")
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "web.yml").write_text(VAULTED)
    inv = load_inventory(tmp_path / "hosts", ansible="builtin")
    assert any(w.startswith(f"{tmp_path}/group_vars/web.yml:1: ") and "needs ansible-vault" in w for w in inv.warnings)


@needs_ansible
def test_vault_encrypted_group_vars_file_through_ansible(tmp_path: Path) -> None:
    (tmp_path / "hosts").write_text("[web]\nh1\n")
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "web.yml").write_text(VAULTED)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_VAULT")}
    out = runbook_cmd("inventory", "-i", str(tmp_path / "hosts"), env=env)
    assert out.returncode == 2
    assert "needs ansible-vault" in out.stderr, out.stderr
