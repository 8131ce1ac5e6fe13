"""Make a transport by name (`--transport`)."""

from __future__ import annotations

from typing import Any

from runbook.inventory.ssh_config import HostResolver
from runbook.transports.base import HostKeyPrompt, Transport

SSH_TRANSPORTS = ("asyncssh", "paramiko")


def make_transport(
    kind: str,
    *,
    accept_new_host_keys: bool = False,
    host_key_prompt: HostKeyPrompt | None = None,
    host_resolver: HostResolver | None = None,
    **options: Any,
) -> Transport:
    """`options` go to the SSH transports (max_concurrent_handshakes, keepalive_interval...)."""
    ssh_args: dict[str, Any] = {
        "accept_new_host_keys": accept_new_host_keys,
        "host_key_prompt": host_key_prompt,
        "host_resolver": host_resolver,
        **options,
    }
    # imported lazily: a replayed run should not need asyncssh or paramiko loaded
    if kind == "asyncssh":
        from runbook.transports.asyncssh_transport import AsyncSSHTransport

        return AsyncSSHTransport(**ssh_args)
    if kind == "paramiko":
        from runbook.transports.paramiko_transport import ParamikoTransport

        return ParamikoTransport(**ssh_args)
    raise ValueError(f"unknown transport {kind!r} (expected one of: {', '.join(SSH_TRANSPORTS)})")
