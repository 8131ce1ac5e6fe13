"""Resolve an inventory host into the endpoint an SSH transport connects to, as OpenSSH would.

Both transports resolve through here. The configuration comes from `ssh -G` (OpenSSH's own
resolver) when an `ssh` binary exists, else from runbook's reader of ssh_config
(`runbook.inventory.sshconf`), which agrees with it on the cases the tests cover. What the
inventory says explicitly is passed as `ssh -l/-p/-i/-o` would pass it, so it wins over the
files; an explicit port 22 is explicit. A jump list `a,b` is resolved the way ssh runs it
(`ssh -J a -W host:port b`): `b` ignores its own ProxyJump, `a` keeps its own. `jump: gw1`
naming an inventory host uses that host (address, port, user, keys), never DNS for "gw1".
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from runbook.inventory import sshconf
from runbook.inventory.openssh import SSHG
from runbook.inventory.sshconf import CommandLine, ConfigProblem, Resolved

if TYPE_CHECKING:
    from runbook.inventory.model import Host

DEFAULT_CONFIG = "~/.ssh/config"
DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
DEFAULT_PORT = 22
MAX_JUMP_DEPTH = 8
#: `RUNBOOK_SSH_CONFIG=builtin` uses runbook's reader even where `ssh` exists (tests, or to compare)
READER_ENV = "RUNBOOK_SSH_CONFIG"

#: Maps a jump name to an inventory host, so `jump: gw1` can name another inventory host.
HostResolver = Callable[[str], "Host | None"]


class SSHConfigError(ValueError):
    """A host or jump specification that cannot be resolved (message starts with file:line)."""


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
    proxy_command: str | None = None  # expanded; used instead of a direct TCP connection
    known_hosts_files: tuple[str, ...] = ()  # every UserKnownHostsFile (known_hosts is the first)
    global_known_hosts: tuple[str, ...] = ()
    strict_host_key_checking: str = "ask"  # as ssh -G prints it: true, false, ask, accept-new
    alias: str = ""  # the name ssh_config was asked about
    sources: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    reader: str = "ssh -G"

    @property
    def key(self) -> tuple:
        """Identity of the connection this endpoint needs (jump chain included)."""
        return (self.user, self.hostname, self.port, self.proxy_command, self.jump.key if self.jump else None)

    @property
    def server(self) -> tuple[str, int]:
        return (self.hostname, self.port)

    def describe(self) -> str:
        return f"{self.name} ({self.hostname}:{self.port})"

    def chain(self) -> list[Endpoint]:
        """The jump hosts, first hop first."""
        hops: list[Endpoint] = []
        ep = self.jump
        while ep is not None:
            hops.insert(0, ep)
            ep = ep.jump
        return hops


def parse_jump_spec(spec: str) -> tuple[str | None, str, int | None]:
    """`[user@]host[:port]` (also `ssh://user@host:port`, `[v6addr]:port`)."""
    try:
        return sshconf.parse_user_host_port(spec.strip())
    except ValueError as exc:
        raise SSHConfigError(f"bad jump host {spec!r}: expected [user@]host[:port]") from exc


class SSHResolver:
    """One per session: asks `ssh -G` (cached) or runbook's reader, and builds endpoints."""

    def __init__(self, reader: str | None = None, ssh_g: SSHG | None = None):
        self.ssh_g = ssh_g or SSHG()
        choice = reader or os.environ.get(READER_ENV) or "auto"
        if choice not in ("auto", "ssh", "builtin"):
            raise ValueError(f"${READER_ENV} must be auto, ssh or builtin, not {choice!r}")
        self.use_ssh = choice == "ssh" or (choice == "auto" and self.ssh_g.available)
        self._builtin: dict[tuple, Resolved] = {}
        self._lock = threading.Lock()

    @property
    def reader(self) -> str:
        return "ssh -G" if self.use_ssh else "runbook ssh_config reader"

    def config(self, alias: str, config: str | None, cmd: CommandLine) -> Resolved:
        try:
            if self.use_ssh:
                return self.ssh_g.resolve(alias, config, cmd)
            key = (alias, config, tuple(cmd.argv()))
            with self._lock:
                hit = self._builtin.get(key)
            if hit is None:
                hit = sshconf.resolve(alias, config, cmd)
                with self._lock:
                    self._builtin[key] = hit
            return hit
        except ConfigProblem as exc:
            raise SSHConfigError(str(exc)) from exc

    def explain(self, alias: str, config: str | None, cmd: CommandLine) -> dict[str, str]:
        """file:line of each ssh_config value (runbook's reader knows lines; ssh -G does not)."""
        try:
            r = sshconf.resolve(alias, config, cmd)
        except (ConfigProblem, OSError):
            return {}
        out = dict(r.sources)
        if r.identity_sources:
            out["identityfile"] = ", ".join(dict.fromkeys(r.identity_sources))
        return out

    # --- endpoints -----------------------------------------------------------------------

    def resolve_host(self, host: Host, hosts: HostResolver | None = None, *, explain: bool = False) -> Endpoint:
        return self._host(host, hosts, 0, explain)

    def _host(self, host: Host, hosts: HostResolver | None, depth: int, explain: bool) -> Endpoint:
        hosts = hosts or host.peer
        if depth > MAX_JUMP_DEPTH:
            raise SSHConfigError(f"jump chain through {host.name} is too long (a loop?)")
        where = getattr(host, "origin", {}) or {}
        inv = f"inventory {host.name}"
        explicit_port = "port" in host.model_fields_set and host.port is not None
        # the inventory's key goes first, as `ssh -i` would put it (runbook checks it exists:
        # ssh would drop a missing -i file with a warning)
        cmd = CommandLine(user=host.user, port=host.port if explicit_port else None,
                          user_known_hosts=host.known_hosts, source=inv)  # fmt: skip
        jump_host = hosts(host.jump) if host.jump else None
        if jump_host is not None and jump_host.name == host.name:
            raise SSHConfigError(f"{host.name}: jump names the host itself")
        if jump_host is not None:
            # the inventory host replaces any proxy ssh_config names (`-o ProxyCommand=none` stops both)
            cmd = dataclasses.replace(cmd, proxy_command="none")
        elif host.jump:
            cmd = dataclasses.replace(cmd, jump=host.jump)
        ep = self._endpoint(
            host.name, host.address, host.ssh_config, cmd, depth, explain,
            password_env=host.password_env, connect_timeout=host.connect_timeout,
            fallback_identity=host.identity_file, inventory_where=where, own_identity=host.identity_file,
        )  # fmt: skip
        if jump_host is not None:
            hop = self._host(jump_host, hosts, depth + 1, explain)
            sources = {**ep.sources, "jump": f"{where.get('jump', inv)}: inventory host {jump_host.name}"}
            ep = dataclasses.replace(ep, jump=hop, sources=sources)
        return ep

    def _endpoint(
        self,
        name: str,
        alias: str,
        config: str | None,
        cmd: CommandLine,
        depth: int,
        explain: bool,
        *,
        password_env: str | None = None,
        connect_timeout: float = 10.0,
        fallback_identity: str | None = None,
        inventory_where: dict[str, str] | None = None,
        own_identity: str | None = None,
        fallback_known_hosts: str | None = None,
    ) -> Endpoint:
        if depth > MAX_JUMP_DEPTH:
            raise SSHConfigError(f"jump chain through {name} is too long (a loop?)")
        r = self.config(alias, config, cmd)
        lines = self.explain(alias, config, cmd) if explain else r.sources
        inv_where = inventory_where or {}
        tokens = sshconf.client_tokens(r.hostname, r.port, r.user, alias, r.host_key_alias)

        def origin(key: str, inv_field: str | None = None) -> str:
            src = lines.get(key)
            if src and not src.startswith("inventory "):
                return f"ssh_config {src}"
            if src or (inv_field and inv_field in inv_where):
                return inv_where.get(inv_field or "", src or cmd.source)
            return "ssh default" if not explain or key not in ("hostname",) else "the inventory address"

        identities: list[str] = [own_identity] if own_identity else []
        if r.identities_configured:
            for path in r.identity_files:
                try:
                    expanded = sshconf.expand_identity(path, tokens, lines.get("identityfile", "ssh_config"))
                except ConfigProblem as exc:
                    raise SSHConfigError(str(exc)) from exc
                # ssh skips a configured key file that is missing (with a warning)
                if expanded not in identities and Path(expanded).exists():
                    identities.append(expanded)
        elif fallback_identity and not own_identity:
            # a jump hop with no key of its own uses the inventory's key for the target
            identities.append(fallback_identity)
        proxy_command = None
        jump: Endpoint | None = None
        if r.proxy_command:
            try:
                proxy_command = sshconf.expand(
                    r.proxy_command,
                    {"h": r.hostname, "p": str(r.port), "r": r.user, "n": alias, "k": r.host_key_alias or alias},
                )
            except ValueError as exc:
                raise SSHConfigError(f"{lines.get('proxycommand', 'ssh_config')}: ProxyCommand: {exc}") from exc
        elif r.proxy_jump:
            jump = self._jump_list(
                r.proxy_jump, config, depth, explain, fallback_identity, connect_timeout,
                fallback_known_hosts or cmd.user_known_hosts,
            )  # fmt: skip
        known = r.user_known_hosts or [str(Path(DEFAULT_KNOWN_HOSTS).expanduser())]
        defaults = [sshconf.tilde(p) for p in sshconf.DEFAULT_USER_KNOWN_HOSTS]
        if fallback_known_hosts and known == defaults:
            # a jump hop with no UserKnownHostsFile of its own checks the target's known_hosts
            known = [fallback_known_hosts, *defaults]
        sources = {
            "hostname": origin("hostname", "address") if r.hostname != alias or "hostname" in lines else
            inv_where.get("address", f"inventory {name}" if name != alias else "jump spec"),
            "port": origin("port", "port"),
            "user": origin("user", "user") if "user" in lines else "local user (ssh default)",
            "identity_files": ", ".join(
                ([inv_where.get("identity_file", cmd.source)] if own_identity else [])
                + ([origin("identityfile")] if r.identities_configured else [])
            ) or ("the target's inventory key" if identities else "ssh defaults and the agent"),
            "known_hosts": origin("userknownhostsfile", "known_hosts"),
            "strict_host_key_checking": origin("stricthostkeychecking"),
        }  # fmt: skip
        if proxy_command:
            sources["proxy_command"] = origin("proxycommand")
        if jump is not None:
            sources["jump"] = origin("proxyjump", "jump")
        return Endpoint(
            name=name,
            hostname=r.hostname,
            port=r.port,
            user=r.user,
            identity_files=tuple(identities),
            known_hosts=known[0],
            password_env=password_env,
            connect_timeout=connect_timeout,
            jump=jump,
            proxy_command=proxy_command,
            known_hosts_files=tuple(known),
            global_known_hosts=tuple(r.global_known_hosts),
            strict_host_key_checking=r.strict_host_key_checking,
            alias=alias,
            sources=sources,
            reader=self.reader,
        )

    def _jump_list(
        self,
        spec: str,
        config: str | None,
        depth: int,
        explain: bool,
        fallback_identity: str | None,
        connect_timeout: float,
        fallback_known_hosts: str | None,
    ) -> Endpoint:
        """`a,b,c` as ssh runs it: `ssh -J a,b -W [%h]:%p c`, recursively."""
        extra, _, last = spec.rpartition(",")
        user, host, port = parse_jump_spec(last)
        cmd = CommandLine(user=user, port=port, jump=extra or None, source=f"jump spec {last}")
        return self._endpoint(
            last, host, config, cmd, depth + 1, explain,
            connect_timeout=connect_timeout, fallback_identity=fallback_identity,
            fallback_known_hosts=fallback_known_hosts,
        )  # fmt: skip


_default_lock = threading.Lock()
_default: SSHResolver | None = None


def default_resolver() -> SSHResolver:
    global _default
    with _default_lock:
        if _default is None:
            _default = SSHResolver()
        return _default


def resolve_host(host: Host, resolver: HostResolver | None = None, ssh: SSHResolver | None = None) -> Endpoint:
    """The endpoint for an inventory host, with ssh_config and the jump chain applied."""
    return (ssh or default_resolver()).resolve_host(host, resolver or host.peer)
