"""Runbook's own reader of static Ansible inventories (INI, YAML, directories of them, with
`group_vars/` and `host_vars/`), for machines without ansible-core. Where Ansible is installed,
`runbook.inventory.ansible_cli` asks `ansible-inventory --list` instead.

It computes what `ansible-inventory --list` prints: every host's variables with Ansible's
precedence (all < groups by depth, then name < group_vars/all < group_vars/GROUP by depth, then
name < the host's own < host_vars/HOST) and the group tree. Dynamic sources (plugin configs,
scripts) need Ansible; a saved `ansible-inventory --list` JSON is read as is.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runbook.inventory.limits import MAX_FILE_BYTES, MAX_GROUP_DEPTH, MAX_HOSTS, MAX_RANGE_HOSTS
from runbook.yamlsource import SourceError

VAULT_MARK = "$ANSIBLE_VAULT"
NEEDS_VAULT = "needs ansible-vault"
#: what Ansible skips in an inventory directory (INVENTORY_IGNORE_EXTS, INVENTORY_IGNORE_PATTERNS)
_IGNORE_EXTS = ("~", ".orig", ".bak", ".cfg", ".retry", ".pyc", ".pyo", ".rst", ".md", ".txt")
_VARS_EXTS = ("", ".yml", ".yaml", ".json")


class NeedsAnsible(SourceError):
    """A source only Ansible can read (a plugin config, a script, an encrypted file)."""


class LimitError(SourceError):
    """A bound of runbook.inventory.limits was hit; checked before Ansible is asked too."""


@dataclass
class Group:
    name: str
    where: str
    vars: dict[str, Any] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)


@dataclass
class Tree:
    """Groups and hosts as Ansible's InventoryData holds them."""

    groups: dict[str, Group] = field(default_factory=dict)
    host_vars: dict[str, dict[str, Any]] = field(default_factory=dict)
    host_where: dict[str, str] = field(default_factory=dict)
    var_where: dict[tuple[str, str], str] = field(default_factory=dict)  # (group or host, key) -> file:line
    warnings: list[str] = field(default_factory=list)

    def group(self, name: str, where: str) -> Group:
        g = self.groups.get(name)
        if g is None:
            g = self.groups[name] = Group(name, where)
        return g

    def add_child(self, parent: str, child: str, where: str) -> None:
        p, c = self.group(parent, where), self.group(child, where)
        if child not in p.children:
            p.children.append(child)
            c.parents.append(parent)

    def add_host(self, host: str, group: str, where: str, port: int | None = None) -> None:
        if host not in self.host_vars:
            if len(self.host_vars) >= MAX_HOSTS:
                raise LimitError([f"{where}: more than {MAX_HOSTS} hosts (runbook's limit on one inventory)"])
            self.host_vars[host] = {}
            self.host_where[host] = where
        g = self.group(group, where)
        if host not in g.hosts:
            g.hosts.append(host)
        if port is not None:
            self.host_vars[host]["ansible_port"] = port
            self.var_where[(host, "ansible_port")] = where


# --- host patterns ---------------------------------------------------------------------------

_RANGE = re.compile(r"\[(?P<a>[0-9]+|[a-zA-Z]):(?P<b>[0-9]+|[a-zA-Z])(?::(?P<s>[0-9]+))?\]")


def range_size(pattern: str) -> int:
    total = 1
    for m in _RANGE.finditer(pattern):
        a, b, step = m["a"], m["b"], int(m["s"] or 1)
        lo, hi = (int(a), int(b)) if a.isdigit() and b.isdigit() else (ord(a), ord(b))
        total *= max(0, (hi - lo) // max(step, 1) + 1)
    return total


def expand_hosts(pattern: str, where: str) -> list[str]:
    """`web[01:03]` -> web01..web03, bounded (MAX_RANGE_HOSTS) before anything is built."""
    m = _RANGE.search(pattern)
    if not m:
        return [pattern]
    size = range_size(pattern)
    if size > MAX_RANGE_HOSTS:
        raise LimitError([f"{where}: host range {pattern!r} expands to {size} hosts (limit {MAX_RANGE_HOSTS})"])
    a, b, step = m["a"], m["b"], int(m["s"] or 1)
    head, tail = pattern[: m.start()], pattern[m.end() :]
    if a.isdigit() and b.isdigit():
        if int(a) > int(b):
            raise SourceError([f"{where}: host range {m.group(0)!r}: start is past the end"])
        width = len(a) if a.startswith("0") and len(a) > 1 else 0
        items = [str(i).zfill(width) for i in range(int(a), int(b) + 1, step)]
    elif a.isalpha() and b.isalpha():
        items = [chr(c) for c in range(ord(a), ord(b) + 1, step)]
    else:
        raise SourceError([f"{where}: bad host range {m.group(0)!r}"])
    return [h for item in items for h in expand_hosts(head + item + tail, where)]


def split_host_port(pattern: str) -> tuple[str, int | None]:
    """`host:port`, `[v6]:port`, `1.2.3.4:22`; a bare IPv6 address has no port (parse_address)."""
    m = re.fullmatch(r"\[([^\]]*:[^\]]*)\](?::(\d+))?", pattern)
    if m and not _RANGE.fullmatch(f"[{m.group(1)}]"):
        return m.group(1), int(m.group(2)) if m.group(2) else None
    outside = _RANGE.sub("", pattern)
    if outside.count(":") == 1:
        head, _, port = pattern.rpartition(":")
        if port.isdigit() and head:
            return head, int(port)
    return pattern, None


# --- INI -------------------------------------------------------------------------------------

_SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$")
_GROUPNAME = re.compile(r"^([^:\]\s]+)\s*(?:#.*)?$")


def ini_value(text: str) -> Any:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text
    if value is ... or isinstance(value, complex | bytes):
        return str(text)
    return value


def read_ini(tree: Tree, path: str, text: str) -> None:
    group, state = "ungrouped", "hosts"
    tree.group("all", f"{path}:1")
    tree.group("ungrouped", f"{path}:1")
    pending: dict[str, tuple[str, str, list[str]]] = {}  # group -> (where, state, parents)
    for number, raw in enumerate(text.splitlines(), 1):
        where = f"{path}:{number}"
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        m = _SECTION.match(line)
        if m:
            group, state = m.group(1), m.group(2) or "hosts"
            if state not in ("hosts", "children", "vars"):
                raise SourceError([f"{where}: section [{group}:{state}] has unknown type: {state}"])
            if group not in tree.groups:
                if state == "vars" and group not in pending:
                    pending[group] = (where, "vars", [])
                tree.group(group, where)
            if group in pending and state != "vars":
                if pending[group][1] == "children":
                    _settle(tree, group, pending)
                elif pending[group][1] == "vars":
                    del pending[group]
            continue
        if line.startswith("[") and line.endswith("]"):
            raise SourceError([f"{where}: invalid section entry {line!r} (no spaces or other characters allowed)"])
        if state == "hosts":
            try:
                tokens = shlex.split(line, comments=True)
            except ValueError as exc:
                raise SourceError([f"{where}: cannot parse host line: {exc}"]) from exc
            if not tokens:
                continue
            pattern, port = split_host_port(tokens[0])
            if pattern.startswith("[") and not _RANGE.match(pattern):
                raise SourceError([f"{where}: bad section header or host pattern {tokens[0]!r}"])
            if tokens[0].endswith(":") and port is None:
                raise SourceError([f"{where}: host pattern {tokens[0]!r} ends in ':' (reserved for a port)"])
            if pattern.strip() == "---":
                raise SourceError([f"{where}: '---' looks like YAML: is this a YAML inventory?"])
            values: dict[str, Any] = {}
            for token in tokens[1:]:
                key, sep, value = token.partition("=")
                if not sep:
                    raise SourceError([f"{where}: expected key=value host variable assignment, got {token!r}"])
                values[key] = ini_value(value)
            for host in expand_hosts(pattern, where):
                tree.add_host(host, group, where, port)
                tree.host_vars[host].update(values)
                for key in values:
                    tree.var_where[(host, key)] = where
        elif state == "vars":
            key, sep, value = line.partition("=")
            if not sep:
                raise SourceError([f"{where}: expected key=value, got {line!r}"])
            tree.groups[group].vars[key.strip()] = ini_value(value.strip())
            tree.var_where[(group, key.strip())] = where
        else:
            gm = _GROUPNAME.match(line)
            if not gm:
                raise SourceError([f"{where}: expected a group name, got {line!r}"])
            child = gm.group(1)
            if child not in tree.groups:
                pending.setdefault(child, (where, "children", []))[2].append(group)
            else:
                _link(tree, group, child, where)
    for name, (where, kind, parents) in pending.items():
        if kind == "vars":
            raise SourceError([f"{where}: section [{name}:vars] is not valid for undefined group {name!r}"])
        raise SourceError([f"{where}: section [{parents[-1]}:children] includes undefined group {name!r}"])


def _settle(tree: Tree, group: str, pending: dict[str, tuple[str, str, list[str]]]) -> None:
    stack = [group]
    while stack:
        g = stack.pop()
        where, _, parents = pending.pop(g)
        for parent in parents:
            _link(tree, parent, g, where)
            if parent in pending and pending[parent][1] == "children":
                stack.append(parent)


def _link(tree: Tree, parent: str, child: str, where: str) -> None:
    if parent == child or child in ancestors_of(tree, parent):
        raise SourceError([f"{where}: adding group {child!r} to {parent!r} makes a loop"])
    tree.add_child(parent, child, where)


def ancestors_of(tree: Tree, name: str) -> set[str]:
    seen: set[str] = set()
    stack = list(tree.groups[name].parents) if name in tree.groups else []
    while stack:
        g = stack.pop()
        if g not in seen:
            seen.add(g)
            stack.extend(tree.groups[g].parents)
    return seen


# --- YAML ------------------------------------------------------------------------------------


MAX_YAML_DEPTH = 200


MAX_YAML_EXPANDED = 1_000_000  # nodes once aliases are expanded: an alias bomb stops here


def check_yaml_depth(text: str, path: str) -> None:
    """PyYAML composes recursively and expands aliases: refuse deep nesting, alias cycles and
    alias bombs from the event stream, before any loader builds (or recurses through) a thing."""
    depth = 0
    sizes: dict[str, int] = {}  # anchor -> nodes it stands for, once its collection is complete
    stack: list[list[Any]] = []  # [anchor, nodes so far] per open collection
    total = 0

    def fail(event: yaml.Event, message: str) -> LimitError:
        line = event.start_mark.line + 1 if event.start_mark else 1
        return LimitError([f"{path}:{line}: {message} (runbook's limit)"])

    def count(event: yaml.Event, nodes: int) -> None:
        nonlocal total
        total += nodes
        if total > MAX_YAML_EXPANDED:
            raise fail(event, f"YAML expands to more than {MAX_YAML_EXPANDED:,} nodes through aliases")

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise fail(event, f"YAML nested deeper than {MAX_YAML_DEPTH} levels")
                count(event, 1)
                stack.append([event.anchor, 1])
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
                anchor, nodes = stack.pop()
                if stack:
                    stack[-1][1] += nodes
                if anchor:
                    sizes[anchor] = nodes
            elif isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
                if isinstance(event, yaml.AliasEvent):
                    if event.anchor not in sizes:
                        if any(event.anchor == open_anchor for open_anchor, _ in stack):
                            raise fail(event, f"YAML alias *{event.anchor} refers to a node that contains it")
                        return  # an undefined alias: the loader reports it with its line
                    nodes = sizes[event.anchor]
                else:
                    nodes = 1
                    if event.anchor:
                        sizes[event.anchor] = 1
                count(event, nodes)
                if stack:
                    stack[-1][1] += nodes
    except yaml.YAMLError as exc:
        problem = str(getattr(exc, "problem", "") or "")
        if "nesting depth" not in problem:
            return  # not YAML (an INI file, say), or broken: the loader reports it with its line
        # libyaml stops at its own nesting bound (1,000); the pure-Python loader that would
        # report it recurses past Python's stack, so it is said here, with its line.
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise LimitError([f"{path}:{line}: YAML nested deeper than {MAX_YAML_DEPTH} levels (runbook's limit)"]) from exc


class _LineLoader(yaml.SafeLoader):
    """Keeps each mapping key's line, and turns `!vault` into a marker."""


def _vault(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, str]:
    return {"__ansible_vault": str(loader.construct_scalar(node))}  # type: ignore[arg-type]


_LineLoader.add_constructor("!vault", _vault)
_LineLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))  # type: ignore[arg-type]


def quick_load(text: str) -> Any:
    """The data, with Ansible's tags (`!vault`, `!unsafe`) understood; None when it is not YAML."""
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError:
        return None


def load_yaml_lines(text: str, path: str) -> tuple[Any, dict[int, int]]:
    """(data, {id(mapping): line}) with a file:line error for bad YAML."""
    lines: dict[int, int] = {}
    check_yaml_depth(text, path)
    loader = _LineLoader(text)
    loader.name = path  # marks (and so every error) name the file, not "<unicode string>"
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines
        data = _construct(loader, node, lines)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise SourceError([f"{path}:{line}: invalid YAML: {getattr(exc, 'problem', None) or exc}"]) from exc
    finally:
        loader.dispose()
    return data, lines


def _construct(loader: yaml.SafeLoader, node: yaml.Node, lines: dict[int, int]) -> Any:
    # iterative enough: depth is bounded by the YAML loader limits of yamlsource for runbook files;
    # here a plain recursive construct with a depth check
    def build(n: yaml.Node, depth: int) -> Any:
        if depth > 200:
            raise LimitError([f"{n.start_mark.name}:{n.start_mark.line + 1}: nesting deeper than 200 levels"])
        if isinstance(n, yaml.MappingNode):
            out: dict[Any, Any] = {}
            key_lines: dict[Any, int] = {}
            for k, v in n.value:
                key = build(k, depth + 1)
                out[key] = build(v, depth + 1)
                key_lines[key] = k.start_mark.line + 1
            lines[id(out)] = n.start_mark.line + 1
            out_lines[id(out)] = key_lines
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(v, depth + 1) for v in n.value]
        return loader.construct_object(n, deep=True)

    out_lines: dict[int, dict[Any, int]] = {}
    data = build(node, 0)
    _KEY_LINES.update(out_lines)
    return data


_KEY_LINES: dict[int, dict[Any, int]] = {}


def key_line(mapping: Any, key: Any, default: int = 1) -> int:
    return _KEY_LINES.get(id(mapping), {}).get(key, default)


def read_yaml(tree: Tree, path: str, data: Any) -> None:
    if data is None:
        return
    if not isinstance(data, dict):
        raise SourceError([f"{path}:1: an Ansible YAML inventory is a mapping of groups"])
    stack: list[tuple[str, Any, int, str | None, int]] = []
    for name, body in reversed(list(data.items())):
        stack.append((str(name), body, key_line(data, name), None, 1))
    while stack:
        name, body, line, parent, depth = stack.pop()
        where = f"{path}:{line}"
        if depth > MAX_GROUP_DEPTH:
            raise LimitError([f"{where}: groups nested deeper than {MAX_GROUP_DEPTH} levels (runbook's limit)"])
        tree.group(name, where)
        if parent is not None:
            _link(tree, parent, name, where)
        if body is None:
            continue
        if not isinstance(body, dict):
            tree.warnings.append(f"{where}: skipping group {name!r}: its body is not a mapping")
            continue
        for key in body:
            if key not in ("hosts", "vars", "children"):
                tree.warnings.append(
                    f"{path}:{key_line(body, key, line)}: skipping unexpected key {key!r} in group {name!r},"
                    " only 'vars', 'children' and 'hosts' are valid"
                )
        hosts = body.get("hosts")
        if isinstance(hosts, dict):
            for pattern, hvars in hosts.items():
                hwhere = f"{path}:{key_line(hosts, pattern, line)}"
                host_pattern, port = split_host_port(str(pattern))
                for host in expand_hosts(host_pattern, hwhere):
                    tree.add_host(host, name, hwhere, port)
                    if isinstance(hvars, dict):
                        tree.host_vars[host].update(hvars)
                        for key in hvars:
                            tree.var_where[(host, key)] = f"{path}:{key_line(hvars, key, line)}"
                    elif hvars is not None:
                        raise SourceError([f"{hwhere}: the variables of host {pattern!r} must be a mapping"])
        elif hosts is not None:
            raise SourceError([f"{where}: {name}: hosts must be a mapping"])
        gvars = body.get("vars")
        if isinstance(gvars, dict):
            tree.groups[name].vars.update(gvars)
            for key in gvars:
                tree.var_where[(name, key)] = f"{path}:{key_line(gvars, key, line)}"
        elif gvars is not None:
            raise SourceError([f"{where}: {name}: vars must be a mapping"])
        children = body.get("children")
        if isinstance(children, dict):
            for child, cbody in reversed(list(children.items())):
                stack.append((str(child), cbody, key_line(children, child, line), name, depth + 1))
        elif children is not None:
            raise SourceError([f"{where}: {name}: children must be a mapping"])


# --- sources ---------------------------------------------------------------------------------


def read_text(path: Path) -> str:
    """UTF-8 text, or a file:line error naming the first bad byte's line."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LimitError([f"{path}:1: {size} bytes is more than the {MAX_FILE_BYTES} an inventory may have"])
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError([f"{path}:1: cannot read: {exc.strerror or exc}"]) from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise LimitError([f"{path}:{line}: not UTF-8 (byte {raw[exc.start]:#04x} at offset {exc.start})"]) from exc


def kind_of(path: Path, text: str) -> str:
    """'script', 'plugin', 'list-json', 'yaml' or 'ini', as Ansible's plugins would take it."""
    if text.startswith(VAULT_MARK):
        raise NeedsAnsible([f"{path}:1: the inventory file is vault-encrypted: {NEEDS_VAULT} (install ansible-core)"])
    if os.access(path, os.X_OK) and text.startswith("#!"):
        return "script"
    suffix = path.suffix.lower()
    if suffix in ("", ".yml", ".yaml", ".json"):
        check_yaml_depth(text, str(path))
        try:
            data = quick_load(text) if suffix != ".json" else json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            if "plugin" in data:
                return "plugin"
            if "_meta" in data:
                return "list-json"
            return "yaml"
        if suffix in (".yml", ".yaml", ".json"):
            return "yaml"
    return "ini"


def sources_in(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    out = []
    for p in sorted(path.iterdir()):
        if p.name in ("group_vars", "host_vars") or p.name.startswith(".") or p.name.endswith(_IGNORE_EXTS):
            continue
        if p.is_dir():
            out += sources_in(p)
        else:
            out.append(p)
    return out


def read_source(tree: Tree, path: Path) -> None:
    text = read_text(path)
    kind = kind_of(path, text)
    if kind in ("script", "plugin"):
        what = "an inventory script" if kind == "script" else "an inventory plugin configuration"
        raise NeedsAnsible(
            [
                f"{path}:1: this inventory needs Ansible ({what}): install ansible-core, or run"
                f" `ansible-inventory -i {path} --list > hosts.json` where it is installed and pass hosts.json"
            ]
        )
    if kind == "list-json":
        read_list_json(tree, str(path), json.loads(text))
    elif kind == "yaml":
        data, _ = load_yaml_lines(text, str(path))
        read_yaml(tree, str(path), data)
    else:
        read_ini(tree, str(path), text)


def read_list_json(tree: Tree, path: str, data: dict[str, Any]) -> None:
    """A saved `ansible-inventory --list`: hostvars are final already (see ansible_cli)."""
    from runbook.inventory.ansible_cli import tree_from_list

    other = tree_from_list(data, path)
    tree.groups.update(other.groups)
    tree.host_vars.update(other.host_vars)
    tree.host_where.update(other.host_where)


def vars_files(base: Path, kind: str, name: str) -> list[Path]:
    """group_vars/NAME, NAME.yml|.yaml|.json, or every file under the directory NAME (sorted)."""
    root = base / kind
    out: list[Path] = []
    for ext in _VARS_EXTS:
        p = root / f"{name}{ext}"
        if p.is_file():
            out.append(p)
    d = root / name
    if d.is_dir():
        out += sorted(f for f in d.rglob("*") if f.is_file() and not f.name.startswith(".") and f.suffix in _VARS_EXTS)
    return out


def load_vars_file(path: Path, tree: Tree, owner: str) -> dict[str, Any]:
    text = read_text(path)
    if text.startswith(VAULT_MARK):
        tree.warnings.append(f"{path}:1: vault-encrypted variables for {owner}: {NEEDS_VAULT}")
        return {}
    data, _ = load_yaml_lines(text, str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SourceError([f"{path}:1: variables for {owner} must be a mapping"])
    for key in data:
        tree.var_where[(f"{owner}@{path}", key)] = f"{path}:{key_line(data, key)}"
    return data


# --- what ansible-inventory --list would print -----------------------------------------------


@dataclass
class HostView:
    name: str
    vars: dict[str, Any]
    groups: list[str]  # every group the host is in (ancestors included), all and ungrouped excepted
    where: str
    var_where: dict[str, str] = field(default_factory=dict)


def finish(tree: Tree) -> None:
    """Ansible's reconcile: top groups under all, ungrouped holds hosts of no other group."""
    tree.group("all", "")
    tree.group("ungrouped", "")
    for g in list(tree.groups.values()):
        if g.name != "all" and not g.parents:
            tree.add_child("all", g.name, g.where)
    in_group = {h for g in tree.groups.values() if g.name not in ("all", "ungrouped") for h in g.hosts}
    ungrouped = tree.groups["ungrouped"]
    ungrouped.hosts = [h for h in ungrouped.hosts if h not in in_group]
    for h in tree.host_vars:
        if h not in in_group and h not in ungrouped.hosts:
            ungrouped.hosts.append(h)


def depths(tree: Tree) -> dict[str, int]:
    """Longest path from all (Ansible's Group.depth), without recursion."""
    order: list[str] = []
    indeg = {n: len(g.parents) for n, g in tree.groups.items()}
    ready = [n for n, d in indeg.items() if d == 0]
    while ready:
        n = ready.pop()
        order.append(n)
        for c in tree.groups[n].children:
            indeg[c] -= 1
            if indeg[c] == 0:
                ready.append(c)
    depth = dict.fromkeys(tree.groups, 0)
    for n in order:
        for c in tree.groups[n].children:
            depth[c] = max(depth[c], depth[n] + 1)
    worst = max(depth.values(), default=0)
    if worst > MAX_GROUP_DEPTH:
        deep = max(depth, key=lambda k: depth[k])
        raise LimitError(
            [f"{tree.groups[deep].where}: groups nested {worst} levels deep (limit {MAX_GROUP_DEPTH}) at {deep!r}"]
        )
    return depth


def host_views(tree: Tree, base: Path | None) -> list[HostView]:
    """Each host's variables with Ansible's precedence (VariableManager.get_vars, stage all)."""
    finish(tree)
    depth = depths(tree)
    memo: dict[str, frozenset[str]] = {}

    def ancestry(group: str) -> frozenset[str]:
        # memoised: a 26-level diamond stays linear
        if group in memo:
            return memo[group]
        stack, seen = [group], {group}
        while stack:
            for p in tree.groups[stack.pop()].parents:
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        memo[group] = frozenset(seen)
        return memo[group]

    priorities: dict[str, int] = {}
    for g in tree.groups.values():
        # a property of the group, not a variable: Ansible does not pass it on to hosts
        raw = g.vars.pop("ansible_group_priority", 1)
        try:
            priorities[g.name] = int(raw)
        except (TypeError, ValueError):
            priorities[g.name] = 1

    def priority(g: str) -> int:
        return priorities.get(g, 1)

    file_cache: dict[tuple[str, str], list[tuple[Path, dict[str, Any]]]] = {}

    def files(kind: str, name: str) -> list[tuple[Path, dict[str, Any]]]:
        """group_vars/NAME or host_vars/NAME, each file read once."""
        if base is None:
            return []
        key = (kind, name)
        if key not in file_cache:
            file_cache[key] = [(f, load_vars_file(f, tree, name)) for f in vars_files(base, kind, name)]
        return file_cache[key]

    member: dict[str, set[str]] = {}
    for g in tree.groups.values():
        for h in g.hosts:
            member.setdefault(h, set()).update(ancestry(g.name))
    views = []
    for host in tree.host_vars:
        groups = member.get(host, set()) | {"all"}
        ordered = sorted((g for g in groups if g != "all"), key=lambda g: (depth[g], priority(g), g))
        merged: dict[str, Any] = {}
        where: dict[str, str] = {}
        layers: list[tuple[dict[str, Any], str, str]] = [(tree.groups["all"].vars, "group all", "all")]
        layers += [(tree.groups[g].vars, f"group {g}", g) for g in ordered]
        layers += [(values, str(f), f"all@{f}") for f, values in files("group_vars", "all")]
        layers += [(values, str(f), f"{g}@{f}") for g in ordered for f, values in files("group_vars", g)]
        layers.append((tree.host_vars[host], tree.host_where[host], host))
        layers += [(values, str(f), f"{host}@{f}") for f, values in files("host_vars", host)]
        for values, origin, owner in layers:
            for k, v in values.items():
                merged[k] = v
                where[k] = tree.var_where.get((owner, k), origin)
        views.append(
            HostView(
                host,
                merged,
                [g for g in ordered if g != "ungrouped"],
                tree.host_where.get(host, ""),
                where,
            )
        )
    return views


def read_static(source: Path) -> tuple[list[HostView], Tree]:
    """Every static source under `source`, merged, with group_vars/host_vars beside it."""
    tree = Tree()
    for path in sources_in(source):
        read_source(tree, path)
    base = source if source.is_dir() else source.parent
    return host_views(tree, base), tree
