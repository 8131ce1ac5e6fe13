"""Transports run commands on hosts: local, replay, asyncssh (default) and paramiko."""

from runbook.transports.base import (
    CommandResult,
    ErrorKind,
    OutputCallback,
    Transport,
    TransportError,
)

__all__ = ["CommandResult", "ErrorKind", "OutputCallback", "Transport", "TransportError"]
