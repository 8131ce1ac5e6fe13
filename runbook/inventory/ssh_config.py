"""Resolve an inventory host into the endpoint an SSH transport connects to.

Both transports resolve through here so that `~/.ssh/config` aliases (HostName, User, Port,
IdentityFile, ProxyJump, UserKnownHostsFile) behave the same whichever library connects.
What the inventory says explicitly wins over ssh_config, as `ssh -p/-l/-i` would.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import paramiko

if TYPE_CHECKING:
    from runbook.inventory.model import Host

DEFAULT_CONFIG = "~/.ssh/config"
DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
DEFAULT_PORT = 22

#: Maps a jump name to an inventory host, so `jump: gw1` can name another inventory host.
HostResolver = Callable[[str], "Host | None"]


class SSHConfigError(ValueError):
    """A host or jump specification that cannot be resolved."""


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom to connect; `jump` is the hop this endpoint is reached through."""

    name: str  # what the user called it (inventory name or jump spec), for messages
    hostname: str
    port: int
    user: str
    identity_files: tuple[str, ...] = ()
    known_hosts: str = str(Path(DEFAULT_KNOWN_HOSTS).expanduser())
    password_env: str | None = None
    connect_timeout: float = 10.0
    jump: Endpoint | None = None

    @property
    def key(self) -> tuple:
        """Identity of the connection this endpoint needs (jump chain included)."""
        return (self.user, self.hostname, self.port, self.jump.key if self.jump else None)

    @property
    def server(self) -> tuple[str, int]:
        return (self.hostname, self.port)

    def describe(self) -> str:
        return f"{self.name} ({self.hostname}:{self.port})"


_config_cache: dict[tuple[str, float], paramiko.SSHConfig] = {}


def _load_config(path: str | None) -> paramiko.SSHConfig | None:
    p = Path(path or DEFAULT_CONFIG).expanduser()
    try:
        mtime = p.stat().st_mtime
    except OSError:
        if path:  # an explicitly named config that is missing is an error, the default is not
            raise SSHConfigError(f"ssh_config {p} does not exist") from None
        return None
    cached = _config_cache.get((str(p), mtime))
    if cached is None:
        try:
            cached = paramiko.SSHConfig.from_path(str(p))
        except Exception as exc:  # paramiko raises several types for bad files
            raise SSHConfigError(f"cannot parse ssh_config {p}: {exc}") from exc
        _config_cache[(str(p), mtime)] = cached
    return cached


def _lookup(config: paramiko.SSHConfig | None, alias: str) -> dict:
    if config is None:
        return {}
    try:
        return dict(config.lookup(alias))
    except Exception as exc:  # e.g. a failing `Match exec`
        raise SSHConfigError(f"ssh_config lookup of {alias!r} failed: {exc}") from exc


_JUMP_RE = re.compile(r"^(?:(?P<user>[^@]+)@)?(?P<host>\[[^\]]+\]|[^:]+)(?::(?P<port>\d+))?$")


def parse_jump_spec(spec: str) -> tuple[str | None, str, int | None]:
    """`[user@]host[:port]` (also `ssh://user@host:port`, `[v6addr]:port`)."""
    spec = spec.strip().removeprefix("ssh://")
    m = _JUMP_RE.match(spec)
    if not m:
        raise SSHConfigError(f"bad jump host {spec!r}: expected [user@]host[:port]")
    host = m["host"].strip("[]")
    return m["user"], host, int(m["port"]) if m["port"] else None


def resolve_host(host: Host, resolver: HostResolver | None = None, _depth: int = 0) -> Endpoint:
    """The endpoint for an inventory host, with ssh_config and the jump chain applied."""
    if _depth > 8:
        raise SSHConfigError(f"jump chain through {host.name} is too long (a loop?)")
    config = _load_config(host.ssh_config)
    cfg = _lookup(config, host.address)
    port = host.port
    if port == DEFAULT_PORT and cfg.get("port"):
        port = int(cfg["port"])
    identity = (
        (host.identity_file,)
        if host.identity_file
        else tuple(os.path.expanduser(p) for p in cfg.get("identityfile", []))
    )
    known = host.known_hosts or (cfg.get("userknownhostsfile") or "").split(" ")[0] or None
    jump_spec = host.jump or cfg.get("proxyjump")
    jump = None
    if jump_spec and jump_spec.lower() != "none":
        # "a,b" means: reach a, from a reach b, from b reach the host
        for hop in (h.strip() for h in jump_spec.split(",")):
            jump = _resolve_jump(hop, host, resolver, jump, _depth)
    return Endpoint(
        name=host.name,
        hostname=cfg.get("hostname") or host.address,
        port=port,
        user=host.user or cfg.get("user") or getpass.getuser(),
        identity_files=identity,
        known_hosts=os.path.expanduser(known or DEFAULT_KNOWN_HOSTS),
        password_env=host.password_env,
        connect_timeout=host.connect_timeout,
        jump=jump,
    )


def _resolve_jump(
    spec: str,
    target: Host,
    resolver: HostResolver | None,
    previous: Endpoint | None,
    depth: int,
) -> Endpoint:
    from runbook.inventory.model import Host

    inv_host = resolver(spec) if resolver else None
    if inv_host is not None:
        ep = resolve_host(inv_host, resolver, depth + 1)
    else:
        user, alias, port = parse_jump_spec(spec)
        # a jump host is looked up in the same ssh_config, as OpenSSH does
        hop = Host(
            name=spec,
            address=alias,
            port=port or DEFAULT_PORT,
            user=user,
            known_hosts=target.known_hosts,
            ssh_config=target.ssh_config,
            connect_timeout=target.connect_timeout,
        )
        ep = resolve_host(hop, resolver, depth + 1)
        if not ep.identity_files and target.identity_file:
            # a bare user@host:port jump uses the inventory's key unless ssh_config names one
            ep = _replace(ep, identity_files=(target.identity_file,))
    if previous is not None:
        if ep.jump is not None:
            raise SSHConfigError(f"jump host {spec} has its own ProxyJump inside a jump list")
        ep = _replace(ep, jump=previous)
    return ep


def _replace(ep: Endpoint, **changes) -> Endpoint:
    return dataclasses.replace(ep, **changes)
