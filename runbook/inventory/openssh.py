"""Ask OpenSSH itself: `ssh -G` prints the configuration it would use for a host, after every
Host/Match/Include rule. One subprocess per (host, options) per session, cached."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

from runbook.inventory.sshconf import (
    DEFAULT_IDENTITIES,
    CommandLine,
    ConfigProblem,
    Resolved,
    tilde,
)

SSH_G_TIMEOUT_S = 10.0


def ssh_binary() -> str | None:
    return shutil.which("ssh")


def parse_ssh_g(host_arg: str, text: str) -> Resolved:
    values: dict[str, str] = {}
    identities: list[str] = []
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        key = key.lower()
        if key == "identityfile":
            identities.append(value)
        else:
            values.setdefault(key, value)
    # ssh -G lists the default identities when none is configured; they are optional to ssh
    configured = [tilde(p) for p in identities] != [tilde(p) for p in DEFAULT_IDENTITIES]
    proxy_command = values.get("proxycommand")
    return Resolved(
        host=host_arg,
        hostname=values.get("hostname", host_arg),
        user=values.get("user", ""),
        port=int(values.get("port", "22")),
        identity_files=identities,
        identities_configured=configured,
        proxy_jump=values.get("proxyjump"),
        proxy_command=None if proxy_command in (None, "none") else proxy_command,
        user_known_hosts=[p for p in values.get("userknownhostsfile", "").split() if p != "none"],
        global_known_hosts=values.get("globalknownhostsfile", "").split(),
        strict_host_key_checking=values.get("stricthostkeychecking", "ask"),
        host_key_alias=values.get("hostkeyalias"),
        identities_only=values.get("identitiesonly", "no") in ("yes", "true"),
        ciphers=values.get("ciphers"),
        sources={},
    )


class SSHG:
    """`ssh -G` with a per-session cache; `calls` and `seconds` measure what it cost."""

    def __init__(self, binary: str | None = None):
        self.binary = binary or ssh_binary()
        self._cache: dict[tuple, Resolved] = {}
        self._lock = threading.Lock()
        self._gates: dict[tuple, threading.Lock] = {}
        self.calls = 0
        self.seconds = 0.0

    @property
    def available(self) -> bool:
        return self.binary is not None

    def resolve(self, host_arg: str, config: str | None, cmdline: CommandLine | None = None) -> Resolved:
        cmd = cmdline or CommandLine()
        key = (host_arg, config, tuple(cmd.argv()))
        with self._lock:
            hit = self._cache.get(key)
            if hit is None:
                # threads asking for the same key wait for the first one's answer
                gate = self._gates.setdefault(key, threading.Lock())
        if hit is not None:
            return hit
        with gate:
            with self._lock:
                hit = self._cache.get(key)
            if hit is not None:
                return hit
            return self._run(host_arg, config, cmd, key)

    def _run(self, host_arg: str, config: str | None, cmd: CommandLine, key: tuple) -> Resolved:
        if self.binary is None:
            raise RuntimeError("no ssh binary")
        argv = [self.binary, "-G", *(["-F", config] if config else []), *cmd.argv(), "--", host_arg]
        started = time.perf_counter()
        try:
            out = subprocess.run(
                argv, capture_output=True, text=True, timeout=SSH_G_TIMEOUT_S, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired as exc:
            raise ConfigProblem(
                config or "ssh_config", f"ssh -G {host_arg} did not answer within {exc.timeout}s"
            ) from exc
        finally:
            with self._lock:
                self.calls += 1
                self.seconds += time.perf_counter() - started
        if out.returncode != 0:
            message = " ".join(
                ln.strip() for ln in out.stderr.splitlines() if ln.strip() and not ln.startswith("Pseudo-terminal")
            )
            raise ConfigProblem(_where(message, config), f"ssh -G {host_arg}: {message or f'exit {out.returncode}'}")
        resolved = parse_ssh_g(host_arg, out.stdout)
        with self._lock:
            self._cache[key] = resolved
        return resolved


def _where(message: str, config: str | None) -> str:
    """OpenSSH says `FILE line N: ...`; make it file:line."""
    import re

    m = re.search(r"(\S+) line (\d+):", message)
    if m:
        return f"{m.group(1)}:{m.group(2)}"
    return f"{config or '~/.ssh/config'}:1"
