"""Ansible inventory import: groups to roles, connection variables, file:line errors."""

from __future__ import annotations

import pytest

from runbook.inventory import load_inventory
from runbook.yamlsource import SourceError

INI = """\
# ungrouped hosts first: still an INI inventory
gw1 ansible_host=10.0.0.1 ansible_port=2222 ansible_user=ops

[backend]
app[01:03] ansible_ssh_private_key_file=keys/id service=app port=8080

[backend:vars]
health_path=/health

[web:children]
backend

[all:vars]
public_url=http://gw/
"""


def test_ini_groups_roles_and_vars(tmp_path):
    path = tmp_path / "hosts"
    path.write_text(INI)
    inv = load_inventory(path)
    assert sorted(inv.hosts) == ["app01", "app02", "app03", "gw1"]
    gw = inv.hosts["gw1"]
    assert (gw.address, gw.port, gw.user, gw.roles) == ("10.0.0.1", 2222, "ops", [])
    app = inv.hosts["app02"]
    assert set(app.roles) == {"backend", "web"}
    assert app.identity_file == str(tmp_path / "keys/id")
    assert app.vars == {
        "public_url": "http://gw/",
        "health_path": "/health",
        "service": "app",
        "port": 8080,
    }
    assert inv.vars == {"public_url": "http://gw/"}
    assert [h.name for h in inv.with_role("web")] == ["app01", "app02", "app03"]


def test_yaml_nested_children_and_precedence(tmp_path):
    path = tmp_path / "inv.yml"
    path.write_text(
        "all:\n"
        "  vars: {tier: all, region: eu}\n"
        "  children:\n"
        "    backend:\n"
        "      vars: {tier: backend}\n"
        "      children:\n"
        "        api:\n"
        "          vars: {tier: api}\n"
        "          hosts:\n"
        "            api1: {ansible_host: 10.0.0.5, tier: host}\n"
        "            api2: {ansible_host: 10.0.0.6}\n"
    )
    inv = load_inventory(path)
    assert set(inv.hosts["api1"].roles) == {"backend", "api"}
    assert inv.hosts["api1"].vars == {"tier": "host", "region": "eu"}
    assert inv.hosts["api2"].vars["tier"] == "api"
    assert inv.hosts["api2"].address == "10.0.0.6"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("[backend\napp1\n", 1, "bad section header"),
        ("[backend]\napp1 ansible_port=notaport\n", 2, "port"),
        ("[backend]\napp1 foo\n", 2, "key=value"),
        ("[backend]\napp1 ansible_password=hunter2\n", 2, "passwords are not read"),
        ("[backend:vars]\njust-a-word\n", 2, "key=value"),
    ],
)
def test_ini_errors_have_file_and_line(tmp_path, text, line, words):
    path = tmp_path / "hosts.ini"
    path.write_text(text)
    with pytest.raises(SourceError) as info:
        load_inventory(path)
    assert any(p.startswith(f"{path}:{line}: ") and words in p for p in info.value.problems), info.value.problems


@pytest.mark.parametrize("reader", ["ansible", "builtin"])
def test_unknown_yaml_group_key_is_a_warning_as_in_ansible(tmp_path, reader):
    path = tmp_path / "inv.yml"
    path.write_text("all:\n  children:\n    web:\n      hostz:\n        a: {}\n      hosts:\n        b: {}\n")
    inv = load_inventory(path, ansible=reader)
    assert sorted(inv.hosts) == ["b"]
    assert any("hostz" in w for w in inv.warnings), inv.warnings
    if reader == "builtin":
        assert any(w.startswith(f"{path}:4: ") for w in inv.warnings), inv.warnings
