"""Hosts and roles: the YAML inventory of DESIGN.md.

`load_inventory` accepts the YAML inventory; `~/.ssh/config` aliases and Ansible inventories
are resolved by `runbook.inventory.ssh_config` / `runbook.inventory.ansible_static` when present.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from runbook.yamlsource import SourceError, YamlSource, pydantic_problems

LOCAL = "local"


class HostSpec(BaseModel):
    """What an inventory may say about a host (also allowed under `defaults`)."""

    model_config = ConfigDict(extra="forbid")

    address: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    user: str | None = None
    roles: list[str] = Field(default_factory=list)
    vars: dict[str, Any] = Field(default_factory=dict)
    identity_file: str | None = None
    known_hosts: str | None = None
    ssh_config: str | None = None
    jump: str | None = None
    password_env: str | None = None
    sudo: bool | None = None
    connect_timeout: float | None = None


class InventoryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    defaults: HostSpec = Field(default_factory=HostSpec)
    hosts: dict[str, HostSpec] = Field(default_factory=dict)
    vars: dict[str, Any] = Field(default_factory=dict)


class Host(BaseModel):
    """A resolved host: defaults applied, ready for a transport."""

    model_config = ConfigDict(frozen=False)

    name: str
    address: str
    port: int = 22
    user: str | None = None
    roles: list[str] = Field(default_factory=list)
    vars: dict[str, Any] = Field(default_factory=dict)
    identity_file: str | None = None
    known_hosts: str | None = None
    ssh_config: str | None = None
    jump: str | None = None
    password_env: str | None = None
    sudo: bool | None = None
    connect_timeout: float = 10.0
    #: where each value came from (field -> "file:line", "group web", ...), for `runbook inventory`
    origin: dict[str, str] = Field(default_factory=dict, exclude=True, repr=False)
    # the inventory's other hosts, so `jump: gw1` resolves to the inventory host gw1
    _peers: dict[str, Host] | None = PrivateAttr(default=None)

    def peer(self, name: str) -> Host | None:
        return self._peers.get(name) if self._peers else None

    @property
    def is_local(self) -> bool:
        return self.name == LOCAL

    def __hash__(self) -> int:
        return hash(self.name)


class Inventory(BaseModel):
    hosts: dict[str, Host] = Field(default_factory=dict)
    vars: dict[str, Any] = Field(default_factory=dict)
    source: str | None = None
    #: how it was read: "runbook", "ansible-inventory", "ansible (built-in reader)"
    reader: str = "runbook"
    warnings: list[str] = Field(default_factory=list)

    def model_post_init(self, __context: Any) -> None:
        for h in self.hosts.values():
            h._peers = self.hosts

    def resolver(self, name: str) -> Host | None:
        return self.hosts.get(name)

    def with_role(self, role: str) -> list[Host]:
        if role == LOCAL:
            return [self.local_host()]
        return [h for h in self.hosts.values() if role in h.roles or h.name == role]

    def local_host(self) -> Host:
        return self.hosts.get(LOCAL) or Host(name=LOCAL, address="localhost", roles=[LOCAL])

    def host_for_address(self, address: str, port: int | None = None) -> Host | None:
        """The inventory host an upstream address points at (by address, then by port var)."""
        matches = [h for h in self.hosts.values() if h.address == address]
        if port is not None and len(matches) > 1:
            by_port = [h for h in matches if str(h.vars.get("port")) == str(port)]
            matches = by_port or matches
        return matches[0] if matches else None

    def summary(self) -> list[dict[str, Any]]:
        return [{"name": h.name, "address": h.address, "port": h.port, "roles": h.roles} for h in self.hosts.values()]


def _expand(path: str | None, base: Path) -> str | None:
    if not path:
        return path
    p = Path(path).expanduser()
    if not p.is_absolute():
        p = base / p
    return str(p)


def inventory_from_source(source: YamlSource) -> Inventory:
    data = source.data if source.data is not None else {}
    if not isinstance(data, dict):
        raise SourceError([f"{source.where(())}: an inventory is a mapping with 'hosts:'"])
    try:
        parsed = InventoryFile.model_validate(data)
    except ValidationError as exc:
        raise SourceError(pydantic_problems(source, exc)) from exc
    base = Path(source.path).resolve().parent
    defaults = parsed.defaults.model_dump(exclude_none=True)
    hosts: dict[str, Host] = {}
    problems: list[str] = []
    for name, spec in parsed.hosts.items():
        merged: dict[str, Any] = {**defaults}
        for key, value in spec.model_dump(exclude_none=True).items():
            if key == "vars":
                merged["vars"] = {**defaults.get("vars", {}), **value}
            elif key == "roles" and not value:
                merged.setdefault("roles", [])
            else:
                merged[key] = value
        merged.setdefault("address", name)
        for key in ("identity_file", "known_hosts", "ssh_config"):
            merged[key] = _expand(merged.get(key), base)
        if merged.get("jump") and merged["jump"] not in parsed.hosts:
            # a jump may also be user@host:port or an ssh_config alias; keep it as given
            pass
        origin = {k: source.where(("hosts", name, k)) for k in merged if k != "vars"}
        origin.setdefault("address", source.where(("hosts", name)))
        origin.update({k: source.where(("defaults", k)) for k in defaults if k not in spec.model_fields_set})
        origin["roles"] = source.where(("hosts", name, "roles")) if spec.roles else "no roles"
        try:
            hosts[name] = Host(name=name, origin=origin, **merged)
        except ValidationError as exc:
            problems += pydantic_problems(source, exc, ("hosts", name))
    if problems:
        raise SourceError(problems)
    if not hosts:
        raise SourceError([f"{source.where(('hosts',))}: the inventory names no hosts"])
    return Inventory(hosts=hosts, vars=parsed.vars, source=source.path)
