"""Ask Ansible itself: `ansible-inventory -i SRC --list` reads any source Ansible reads (INI,
YAML, directories with group_vars/host_vars, plugins such as amazon.aws.aws_ec2, scripts) and
prints every host's final variables."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from runbook.inventory.ansible_static import NEEDS_VAULT, HostView, Tree, depths, finish
from runbook.yamlsource import SourceError

TIMEOUT_S = 120.0
#: `RUNBOOK_ANSIBLE=builtin` uses runbook's reader even where Ansible is installed
READER_ENV = "RUNBOOK_ANSIBLE"


def ansible_inventory_binary() -> str | None:
    found = shutil.which("ansible-inventory")
    if found:
        return found
    beside = Path(sys.executable).parent / "ansible-inventory"  # installed in runbook's own venv
    return str(beside) if beside.exists() else None


def run_list(source: Path, binary: str) -> tuple[dict[str, Any], list[str]]:
    env = {
        **os.environ,
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",  # an unreadable source is an error, not "no hosts"
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "True",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCALHOST_WARNING": "False",
    }
    try:
        out = subprocess.run(
            [binary, "-i", str(source), "--list"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise SourceError([f"{source}:1: ansible-inventory did not answer within {exc.timeout:g}s"]) from exc
    if out.returncode != 0:
        raise SourceError([_error(source, out.stderr)])
    try:
        data = json.loads(out.stdout)
    except ValueError as exc:
        raise SourceError([f"{source}:1: ansible-inventory printed no JSON: {exc}"]) from exc
    if not isinstance(data, dict):
        raise SourceError([f"{source}:1: ansible-inventory printed {type(data).__name__}, not a mapping"])
    warnings = [
        f"{source}: ansible-inventory: {m.strip()}"
        for m in re.findall(r"\[WARNING\]: (.*)", re.sub(r"\x1b\[[0-9;]*m", "", out.stderr))
    ]
    return data, warnings


def _error(source: Path, stderr: str) -> str:
    text = " ".join(ln.strip() for ln in stderr.splitlines() if ln.strip() and "[WARNING]" not in ln)
    text = re.sub(r"\s+", " ", re.sub(r"\x1b\[[0-9;]*m", "", text))
    if "vault" in text.lower() and ("secret" in text.lower() or "decrypt" in text.lower()):
        return f"{source}:1: {NEEDS_VAULT}: {text[:400]}"
    m = re.search(r"Origin: (\S+?):(\d+)", text) or re.search(r"(/\S+?):(\d+):\d+", text)
    where = f"{m.group(1)}:{m.group(2)}" if m else f"{source}:1"
    return f"{where}: ansible-inventory: {text[:400] or 'failed'}"


def tree_from_list(data: dict[str, Any], where: str) -> Tree:
    """The group tree and final hostvars from `--list` output."""
    tree = Tree()
    hostvars = (data.get("_meta") or {}).get("hostvars") or {}
    for name, body in data.items():
        if name == "_meta" or not isinstance(body, dict):
            continue
        tree.group(name, where)
        for host in body.get("hosts") or []:
            tree.add_host(str(host), name, where)
        for child in body.get("children") or []:
            tree.add_child(name, str(child), where)
        tree.groups[name].vars.update(body.get("vars") or {})
    for host, values in hostvars.items():
        tree.host_vars.setdefault(host, {}).update(values or {})
        tree.host_where.setdefault(host, where)
    return tree


def views_from_list(data: dict[str, Any], where: str) -> list[HostView]:
    tree = tree_from_list(data, where)
    finish(tree)
    depth = depths(tree)
    member: dict[str, set[str]] = {}
    for g in tree.groups.values():
        for h in g.hosts:
            stack, seen = [g.name], {g.name}
            while stack:
                for p in tree.groups[stack.pop()].parents:
                    if p not in seen:
                        seen.add(p)
                        stack.append(p)
            member.setdefault(h, set()).update(seen)
    views = []
    for host, values in tree.host_vars.items():
        groups = sorted((g for g in member.get(host, ()) if g not in ("all", "ungrouped")), key=lambda g: (depth[g], g))
        views.append(HostView(host, dict(values), groups, where, {k: "ansible-inventory hostvars" for k in values}))
    return views
