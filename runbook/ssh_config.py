"""Moved to runbook.inventory.ssh_config; this alias keeps branches in flight importing."""

from runbook.inventory.ssh_config import *  # noqa: F403
from runbook.inventory.ssh_config import Endpoint, HostResolver, SSHConfigError, parse_jump_spec, resolve_host

__all__ = ["Endpoint", "HostResolver", "SSHConfigError", "parse_jump_spec", "resolve_host"]
