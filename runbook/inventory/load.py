"""`load_inventory(SRC)`: runbook's inventory YAML, or any Ansible inventory.

An Ansible source goes to `ansible-inventory --list` when Ansible is installed (so plugins,
scripts, vaults and every Ansible rule are Ansible's own), else to runbook's reader of static
INI/YAML. `RUNBOOK_ANSIBLE=builtin|ansible` forces one. Every problem is `file:line: message`
(SourceError, exit 2).
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from runbook.inventory import ansible_static
from runbook.inventory.ansible_map import parse_role_map, to_host
from runbook.inventory.model import Host, Inventory, inventory_from_source
from runbook.yamlsource import SourceError, load_yaml

_RUNBOOK_KEYS = {"defaults", "hosts", "vars"}


def is_runbook_yaml(path: Path, text: str) -> bool:
    """runbook's format: top-level `hosts:` (a mapping of hosts) and only defaults/vars beside it."""
    if path.suffix.lower() not in ("", ".yml", ".yaml", ".json"):
        return False
    ansible_static.check_yaml_depth(text, str(path))
    try:
        data = yaml.load(text, Loader=ansible_static._LineLoader)
    except yaml.YAMLError:
        return path.suffix.lower() in (".yml", ".yaml")  # let the YAML loader say where it is broken
    if not isinstance(data, dict) or "hosts" not in data or not set(data) <= _RUNBOOK_KEYS:
        return False
    hosts = data.get("hosts")
    if not isinstance(hosts, dict):
        return True  # runbook's loader says what is wrong
    # an Ansible group named "hosts" would hold hosts/vars/children mappings, not host specs
    return not (set(hosts) & {"hosts", "children"} and "address" not in str(hosts))


def load_inventory(
    path: str | Path, *, role_map: str | dict[str, list[str]] | None = None, ansible: str | None = None
) -> Inventory:
    """Load an inventory; errors are SourceError with file:line messages."""
    path = Path(path)
    roles = parse_role_map(role_map) if isinstance(role_map, str) or role_map is None else role_map
    if not path.exists():
        raise SourceError([f"{path}:1: cannot read inventory: no such file or directory"])
    if path.is_file():
        text = ansible_static.read_text(path)
        if not text.strip():
            raise SourceError([f"{path}:1: the inventory is empty"])
        if is_runbook_yaml(path, text):
            return inventory_from_source(load_yaml(path, text))
    return load_ansible(path, roles, ansible)


def load_ansible(path: Path, role_map: dict[str, list[str]], ansible: str | None = None) -> Inventory:
    # here, not at the top: a runbook inventory or a scenario never needs the Ansible CLI's reader
    from runbook.inventory import ansible_cli

    choice = ansible or os.environ.get(ansible_cli.READER_ENV) or "auto"
    binary = ansible_cli.ansible_inventory_binary() if choice != "builtin" else None
    if choice == "ansible" and binary is None:
        raise SourceError([f"{path}:1: ansible-inventory is not installed (pip install ansible-core)"])
    base = (path if path.is_dir() else path.parent).resolve()
    # runbook's own reader first: its bounds (ranges, depth, size, UTF-8) hold before Ansible is
    # asked, and it knows the file:line of what Ansible reports without one
    static: list[ansible_static.HostView] | None = None
    static_error: SourceError | None = None
    try:
        static, tree = ansible_static.read_static(path)
    except ansible_static.LimitError:
        raise
    except SourceError as exc:
        static_error = exc
        if binary is None:
            raise
    if binary is not None:
        try:
            data, warnings = ansible_cli.run_list(path, binary)
        except SourceError as exc:
            if static_error is not None and not isinstance(static_error, ansible_static.NeedsAnsible):
                raise SourceError([*static_error.problems, *exc.problems]) from exc
            raise
        views = ansible_cli.views_from_list(data, str(path))
        if static is not None:
            _annotate(views, static)
        reader = "ansible-inventory"
    else:
        assert static is not None
        views = static
        reader = "runbook's Ansible reader"
        warnings = list(tree.warnings)
    hosts: dict[str, Host] = {}
    problems: list[str] = []
    for view in views:
        host, errs, warns = to_host(view, base, role_map)
        problems += errs
        warnings += warns
        if host is not None:
            hosts[host.name] = host
    if problems and binary is not None and static is not None:
        problems = _locate(static, views, base, role_map) or problems
    if problems:
        raise SourceError(problems)
    if not hosts:
        raise SourceError([f"{path}:1: the inventory names no hosts"])
    # inventory-wide vars: what every host has, with one value (Ansible's `all` as the playbook sees it)
    first, *rest = hosts.values()
    all_vars = {k: v for k, v in first.vars.items() if all(k in h.vars and h.vars[k] == v for h in rest)}
    return Inventory(hosts=hosts, vars=all_vars, source=str(path), reader=reader, warnings=warnings)


def _locate(static: list, views: list, base: Path, role_map: dict[str, list[str]]) -> list[str]:
    """ansible-inventory gives final values, not lines: find them with runbook's static reader."""
    where = {v.name: v for v in static}
    problems: list[str] = []
    for view in views:
        if view.name in where:
            view.var_where = where[view.name].var_where
            view.where = where[view.name].where
        problems += to_host(view, base, role_map)[1]
    return problems


def _annotate(views: list, static: list) -> None:
    """Name the file:line of each value Ansible gave, where runbook's reader finds the same value."""
    by_name = {v.name: v for v in static}
    for view in views:
        mine = by_name.get(view.name)
        if mine is None:
            continue
        view.where = mine.where or view.where
        for key, value in view.vars.items():
            if key in mine.var_where and mine.vars.get(key) == value:
                view.var_where[key] = mine.var_where[key]
