"""The transport contract: run one command on one host, stream its output, bound it.

Every transport (local, replay, asyncssh, paramiko) implements `Transport.run`. Failures of
the transport itself (unreachable host, refused key, timeout...) are mapped onto
`TransportError` with a `kind` from `ErrorKind`, so callers never see a library exception.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runbook.inventory import Host

#: Called with (stream, text) as output arrives; stream is "stdout" or "stderr".
OutputCallback = Callable[[str, str], None]

#: Asked when a host presents a key that known_hosts does not hold: (host, fingerprint) ->
#: "trust-once" | "trust-recorded" | "abort". Without a prompt, unknown keys are refused
#: unless the transport was made with accept_new_host_keys=True.
HostKeyPrompt = Callable[["Host", str], Awaitable[str]]

#: Output kept per stream; the excess is counted, not kept.
DEFAULT_MAX_OUTPUT = 1_000_000


class ErrorKind(StrEnum):
    UNREACHABLE = "unreachable"  # name does not resolve, connection refused, no route
    TIMEOUT = "timeout"  # connect or command timed out
    AUTH = "auth-refused"
    HOSTKEY_UNKNOWN = "host-key-unknown"
    HOSTKEY_CHANGED = "host-key-changed"
    CHANNEL = "channel-refused"
    DISCONNECTED = "disconnected"
    NOT_RECORDED = "not-recorded"  # replay has no recording for this host and command
    CANCELLED = "cancelled"
    OTHER = "error"


class TransportError(Exception):
    """A failure of the transport, not of the command: the command did not run to completion."""

    def __init__(self, kind: ErrorKind, message: str, *, fingerprint: str | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.fingerprint = fingerprint


@dataclass
class CommandResult:
    """What one command on one host gave back."""

    exit_status: int | None
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.0
    timed_out: bool = False
    #: bytes dropped because the output exceeded the bound
    truncated_bytes: int = 0
    #: structured data, for checks that are not plain shell (http, dns, tcp)
    data: dict[str, Any] = field(default_factory=dict)


class Transport(abc.ABC):
    """Runs commands on hosts. One instance serves many hosts and may keep connections open."""

    name: str = "base"

    @abc.abstractmethod
    async def run(
        self,
        host: Host,
        command: str,
        *,
        timeout: float,
        on_output: OutputCallback | None = None,
        max_output: int = DEFAULT_MAX_OUTPUT,
        stdin: str | None = None,
    ) -> CommandResult:
        """Run `command` through the host's shell.

        A command that runs and exits non-zero is a normal result. A command that does not
        finish within `timeout` is killed and returns with `timed_out=True` and
        `exit_status=None`. Cancelling the awaiting task stops the command. Anything that
        prevents the command from running raises `TransportError`.
        """

    def needs_sudo(self, host: Host) -> bool:
        """True when commands that need root must be wrapped in `sudo -n` on this host."""
        return False

    def connection_state(self, host: Host) -> str:
        """Short state for the host bar: idle, connecting, connected, unreachable, key-unknown."""
        return "idle"

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class OutputBuffer:
    """Collects streamed text up to a bound, counting what it drops."""

    def __init__(self, limit: int = DEFAULT_MAX_OUTPUT):
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def add(self, text: str) -> str:
        """Keep what fits; return the part kept (what a live view should show)."""
        room = self.limit - self.size
        if room <= 0:
            self.dropped += len(text.encode("utf-8", "replace"))
            return ""
        kept = text[:room]
        self.dropped += len(text[room:].encode("utf-8", "replace"))
        self.parts.append(kept)
        self.size += len(kept)
        return kept

    def text(self) -> str:
        return "".join(self.parts)
