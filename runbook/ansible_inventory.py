"""Import Ansible inventories (INI and YAML) as runbook inventories.

Groups become roles (a host in a child group also gets the parent groups' roles);
`ansible_host`, `ansible_port`, `ansible_user`, `ansible_ssh_private_key_file` (and the old
`ansible_ssh_*` spellings) fill the connection fields; every other variable, from groups and
from the host, goes to `Host.vars` (host vars win over child-group vars over parent-group
vars over `all`). Passwords are never taken from an inventory: use `password_env`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from runbook.inventory import Host, Inventory
from runbook.yamlsource import SourceError, YamlSource

_CONNECTION_KEYS = {
    "ansible_host": "address",
    "ansible_ssh_host": "address",
    "ansible_port": "port",
    "ansible_ssh_port": "port",
    "ansible_user": "user",
    "ansible_ssh_user": "user",
    "ansible_ssh_private_key_file": "identity_file",
    "ansible_private_key_file": "identity_file",
    # runbook's own extras, for hosts reached through a bastion or with a password
    "runbook_jump": "jump",
    "runbook_password_env": "password_env",
    "runbook_known_hosts": "known_hosts",
}
_IGNORED_ROLES = {"all", "ungrouped"}


@dataclass
class _Group:
    name: str
    line: int
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)  # host -> its own vars
    vars: dict[str, Any] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)


@dataclass
class _Tree:
    path: str
    groups: dict[str, _Group] = field(default_factory=dict)
    host_lines: dict[str, int] = field(default_factory=dict)

    def group(self, name: str, line: int) -> _Group:
        if name not in self.groups:
            self.groups[name] = _Group(name, line)
        return self.groups[name]


# --- INI ----------------------------------------------------------------------------------

_SECTION = re.compile(r"^\[([^\]:\s]+)(?::(vars|children))?\]$")
_RANGE = re.compile(r"\[([0-9]+|[a-z]):([0-9]+|[a-z])(?::([0-9]+))?\]")


def expand_hosts(pattern: str) -> list[str]:
    """`web[01:03]` -> web01, web02, web03 (Ansible host ranges, numeric or alphabetic)."""
    m = _RANGE.search(pattern)
    if not m:
        return [pattern]
    start, end, step = m.group(1), m.group(2), int(m.group(3) or 1)
    head, tail = pattern[: m.start()], pattern[m.end() :]
    if start.isdigit() and end.isdigit():
        width = len(start) if start.startswith("0") else 0
        items = [str(i).zfill(width) for i in range(int(start), int(end) + 1, step)]
    elif start.isalpha() and end.isalpha():
        items = [chr(c) for c in range(ord(start), ord(end) + 1, step)]
    else:
        raise ValueError(f"bad host range {m.group(0)!r}")
    if not items:
        raise ValueError(f"empty host range {m.group(0)!r}")
    return [h for item in items for h in expand_hosts(head + item + tail)]


def _literal(value: str) -> Any:
    """Host-line values are Python literals in Ansible's INI (numbers, booleans, lists)."""
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def _split_assignments(text: str, where: str) -> tuple[str, dict[str, Any]]:
    import shlex

    try:
        tokens = shlex.split(text, comments=True)
    except ValueError as exc:
        raise SourceError([f"{where}: {exc}"]) from exc
    if not tokens:
        return "", {}
    name, values = tokens[0], {}
    for token in tokens[1:]:
        key, sep, value = token.partition("=")
        if not sep or not key:
            raise SourceError([f"{where}: expected key=value, got {token!r}"])
        values[key] = _literal(value)
    return name, values


def load_ansible_ini(path: str | Path, text: str) -> Inventory:
    tree = _Tree(str(path))
    problems: list[str] = []
    section, kind = "ungrouped", "hosts"
    tree.group("all", 1)
    tree.group("ungrouped", 1)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        where = f"{path}:{number}"
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            m = _SECTION.match(line)
            if not m:
                problems.append(f"{where}: bad section header {line!r}")
                section, kind = "", "skip"
                continue
            section, kind = m.group(1), m.group(2) or "hosts"
            tree.group(section, number)
            continue
        if kind == "skip":
            continue
        try:
            if kind == "vars":
                key, sep, value = line.partition("=")
                if not sep or not key.strip():
                    raise SourceError([f"{where}: expected key=value in [{section}:vars]"])
                tree.groups[section].vars[key.strip()] = value.strip()
            elif kind == "children":
                child = line.split()[0]
                tree.group(child, number)
                tree.groups[section].children.append(child)
            else:
                name, values = _split_assignments(line, where)
                for host in expand_hosts(name):
                    tree.groups[section].hosts.setdefault(host, {}).update(values)
                    tree.host_lines.setdefault(host, number)
        except SourceError as exc:
            problems += exc.problems
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    if problems:
        raise SourceError(problems)
    return _build(tree, lambda host: f"{path}:{tree.host_lines.get(host, 1)}")


# --- YAML ---------------------------------------------------------------------------------


def load_ansible_yaml(source: YamlSource) -> Inventory:
    tree = _Tree(source.path)
    problems: list[str] = []

    def walk(name: str, body: Any, loc: tuple) -> None:
        group = tree.group(name, source.line_of(loc))
        if body is None:
            return
        if not isinstance(body, dict):
            problems.append(f"{source.where(loc)}: group {name!r} must be a mapping")
            return
        for key in body:
            if key not in ("hosts", "vars", "children"):
                problems.append(
                    f"{source.where((*loc, key))}: {name}: unknown key {key!r} (expected hosts, vars or children)"
                )
        hosts = body.get("hosts") or {}
        if not isinstance(hosts, dict):
            problems.append(f"{source.where((*loc, 'hosts'))}: {name}.hosts must be a mapping")
            hosts = {}
        for host_pattern, host_vars in hosts.items():
            hloc = (*loc, "hosts", host_pattern)
            if host_vars is not None and not isinstance(host_vars, dict):
                problems.append(f"{source.where(hloc)}: vars of host {host_pattern!r}: mapping")
                continue
            try:
                names = expand_hosts(str(host_pattern))
            except ValueError as exc:
                problems.append(f"{source.where(hloc)}: {exc}")
                continue
            for host in names:
                group.hosts.setdefault(host, {}).update(host_vars or {})
                tree.host_lines.setdefault(host, source.line_of(hloc))
        gvars = body.get("vars") or {}
        if not isinstance(gvars, dict):
            problems.append(f"{source.where((*loc, 'vars'))}: {name}.vars must be a mapping")
        else:
            group.vars.update(gvars)
        children = body.get("children") or {}
        if not isinstance(children, dict):
            problems.append(f"{source.where((*loc, 'children'))}: {name}.children: mapping")
            return
        for child, child_body in children.items():
            group.children.append(str(child))
            walk(str(child), child_body, (*loc, "children", child))

    data = source.data
    if not isinstance(data, dict) or "all" not in data:
        raise SourceError([f"{source.where(())}: an Ansible YAML inventory starts with 'all:'"])
    for top, body in data.items():
        walk(str(top), body, (top,))
    if problems:
        raise SourceError(problems)
    return _build(tree, lambda host: f"{source.path}:{tree.host_lines.get(host, 1)}")


# --- common -------------------------------------------------------------------------------


def _build(tree: _Tree, where_host) -> Inventory:
    groups = tree.groups
    # every group's ancestors, nearest last, to layer vars from the outside in
    parents: dict[str, set[str]] = {name: set() for name in groups}
    for g in groups.values():
        for child in g.children:
            parents.setdefault(child, set()).add(g.name)

    def ancestors(name: str, seen: frozenset[str] = frozenset()) -> list[str]:
        out: list[str] = []
        for parent in sorted(parents.get(name, ())):
            if parent in seen:
                continue
            out += [a for a in ancestors(parent, seen | {name}) if a not in out] + [parent]
        return out

    memberships: dict[str, list[str]] = {}
    own: dict[str, dict[str, Any]] = {}
    for g in groups.values():
        for host, values in g.hosts.items():
            memberships.setdefault(host, []).append(g.name)
            own.setdefault(host, {}).update(values)
    base = Path(tree.path).resolve().parent
    hosts: dict[str, Host] = {}
    problems: list[str] = []
    for host, direct in memberships.items():
        chain: list[str] = ["all"]
        for name in direct:
            for a in [*ancestors(name), name]:
                if a not in chain:
                    chain.append(a)
        merged: dict[str, Any] = {}
        for name in chain:
            merged.update(groups[name].vars if name in groups else {})
        merged.update(own.get(host, {}))
        fields: dict[str, Any] = {"name": host, "address": host}
        vars_: dict[str, Any] = {}
        for key, value in merged.items():
            target = _CONNECTION_KEYS.get(key)
            if target is None:
                vars_[key] = value
            elif target in ("identity_file", "known_hosts") and value:
                p = Path(str(value)).expanduser()
                fields[target] = str(p if p.is_absolute() else base / p)
            else:
                fields[target] = value
        if "ansible_password" in merged or "ansible_ssh_pass" in merged:
            problems.append(
                f"{where_host(host)}: {host}: passwords are not read from inventories;"
                " use runbook_password_env=VARIABLE"
            )
            continue
        try:
            hosts[host] = Host(**fields, roles=[g for g in chain if g not in _IGNORED_ROLES], vars=vars_)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                problems.append(f"{where_host(host)}: {host}: {loc}: {err['msg']}")
    if problems:
        raise SourceError(problems)
    if not hosts:
        raise SourceError([f"{tree.path}:1: the inventory names no hosts"])
    all_vars = dict(groups["all"].vars) if "all" in groups else {}
    return Inventory(hosts=hosts, vars=all_vars, source=tree.path)
