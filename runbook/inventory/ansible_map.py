"""Ansible hosts as runbook hosts: the documented mapping of variables and groups.

    ansible_host, ansible_ssh_host                      -> address
    ansible_port, ansible_ssh_port                      -> port (explicit, even 22)
    ansible_user, ansible_ssh_user                      -> user
    ansible_ssh_private_key_file, ansible_private_key_file -> identity_file
    ansible_ssh_common_args, ansible_ssh_extra_args     -> jump (-J X, -o ProxyJump=X), known_hosts
                                                           (-o UserKnownHostsFile=X), ssh_config (-F X)
    ansible_become                                      -> sudo
    runbook_jump, runbook_password_env, runbook_known_hosts, runbook_ssh_config -> as named
    every other variable                                -> vars
    groups (ancestors included, not all/ungrouped)      -> roles, plus --role-map ROLE=GROUP
Passwords are never read from an inventory (use runbook_password_env); vault-encrypted values
are reported as "needs ansible-vault".
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from runbook.inventory.ansible_static import NEEDS_VAULT, HostView
from runbook.inventory.model import Host

CONNECTION_KEYS = {
    "ansible_host": "address",
    "ansible_ssh_host": "address",
    "ansible_port": "port",
    "ansible_ssh_port": "port",
    "ansible_user": "user",
    "ansible_ssh_user": "user",
    "ansible_ssh_private_key_file": "identity_file",
    "ansible_private_key_file": "identity_file",
    "ansible_become": "sudo",
    "runbook_jump": "jump",
    "runbook_password_env": "password_env",
    "runbook_known_hosts": "known_hosts",
    "runbook_ssh_config": "ssh_config",
}
SSH_ARGS = ("ansible_ssh_common_args", "ansible_ssh_extra_args")
PASSWORDS = ("ansible_password", "ansible_ssh_pass", "ansible_ssh_password", "ansible_become_password")


def parse_role_map(text: str | None) -> dict[str, list[str]]:
    """`gateway=lbs,backend=web,backend=api` -> {gateway: [lbs], backend: [web, api]}."""
    out: dict[str, list[str]] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        role, sep, group = item.partition("=")
        if not sep or not role.strip() or not group.strip():
            raise ValueError(f"--role-map expects ROLE=GROUP[,ROLE=GROUP...], got {item!r}")
        out.setdefault(role.strip(), []).append(group.strip())
    return out


def is_vaulted(value: Any) -> bool:
    return isinstance(value, dict) and "__ansible_vault" in value


def ssh_args(text: str, where: str) -> tuple[dict[str, str], list[str]]:
    """The runbook fields an Ansible ssh argument string sets, and what was ignored."""
    fields: dict[str, str] = {}
    ignored: list[str] = []
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        return {}, [f"{where}: cannot split ssh arguments: {exc}"]
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        value: str | None = None
        if tok in ("-o", "-J", "-F") and i + 1 < len(tokens):
            value = tokens[i + 1]
            i += 1
        elif tok.startswith(("-o", "-J", "-F")) and len(tok) > 2:
            value = tok[2:]
        flag = tok[:2]
        if value is not None and flag == "-J":
            fields["jump"] = value
        elif value is not None and flag == "-F":
            fields["ssh_config"] = value
        elif value is not None and flag == "-o":
            key, _, val = value.replace(" ", "=", 1).partition("=")
            k = key.strip().lower()
            if k == "proxyjump":
                fields["jump"] = val.strip()
            elif k == "userknownhostsfile":
                fields["known_hosts"] = val.strip().split()[0] if val.strip() else ""
            elif k in ("stricthostkeychecking", "controlmaster", "controlpersist", "controlpath"):
                pass  # runbook keeps its own host-key policy and connections
            else:
                ignored.append(f"{where}: ssh option -o {value} is not used by runbook")
        elif tok.startswith("-"):
            ignored.append(f"{where}: ssh argument {tok} is not used by runbook")
        i += 1
    return fields, ignored


def to_host(view: HostView, base: Path, role_map: dict[str, list[str]]) -> tuple[Host | None, list[str], list[str]]:
    """(host, problems, warnings) for one Ansible host."""
    problems: list[str] = []
    warnings: list[str] = []
    fields: dict[str, Any] = {"name": view.name, "address": view.name}
    origin: dict[str, str] = {"address": view.where or "ansible inventory"}
    extra: dict[str, Any] = {}
    values = dict(view.vars)

    def where(key: str) -> str:
        return view.var_where.get(key) or view.where or "ansible inventory"

    for key in PASSWORDS:
        if key in values:
            problems.append(
                f"{where(key)}: {view.name}: passwords are not read from inventories; use runbook_password_env=VARIABLE"
            )
    for key in SSH_ARGS:
        if key in values and isinstance(values[key], str):
            got, ignored = ssh_args(values[key], where(key))
            warnings += ignored
            for field, value in got.items():
                fields[field] = value
                origin[field] = f"{where(key)} ({key})"
    for key, value in values.items():
        target = CONNECTION_KEYS.get(key)
        if is_vaulted(value):
            if target:
                problems.append(f"{where(key)}: {view.name}: {key} is vault-encrypted: {NEEDS_VAULT}")
            else:
                warnings.append(f"{where(key)}: {view.name}: {key} is vault-encrypted: {NEEDS_VAULT}")
                extra[key] = f"<{NEEDS_VAULT}>"
            continue
        if target is None:
            if key not in SSH_ARGS and key not in PASSWORDS:
                extra[key] = value
            continue
        if target == "sudo":
            fields["sudo"] = value if isinstance(value, bool) else str(value).strip().lower() in ("yes", "true", "1")
        elif target in ("identity_file", "known_hosts", "ssh_config") and value:
            p = Path(str(value)).expanduser()
            fields[target] = str(p if p.is_absolute() else base / p)
        else:
            fields[target] = value
        origin[target] = f"{where(key)} ({key})"
    roles = [g for g in view.groups]
    for role, groups in role_map.items():
        if set(groups) & set(view.groups) and role not in roles:
            roles.append(role)
            origin.setdefault("roles", "")
            origin["roles"] = (origin["roles"] + f"; {role} from --role-map").lstrip("; ")
    origin.setdefault("roles", "Ansible groups" if view.groups else "no group")
    if problems:
        return None, problems, warnings
    try:
        host = Host(**fields, roles=roles, vars=extra, origin=origin)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            key = next((k for k, t in CONNECTION_KEYS.items() if t == loc and k in values), loc)
            problems.append(f"{where(key)}: {view.name}: {key}: {err['msg']}")
        return None, problems, warnings
    return host, [], warnings
