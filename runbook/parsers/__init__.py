"""Parsers: raw (sanitised) command output -> plain JSON-able dicts that playbook rules test.

Plain modules: no textual, no I/O. Every parser returns what it can and never raises; `parse`
adds a last guard so a parser bug becomes {"errors": [...]} in the step, not a traceback.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

from runbook.parsers.process import (
    CURL_WRITE_OUT,
    parse_curl_w,
    parse_getent,
    parse_pgrep,
    parse_ss_listen,
)
from runbook.parsers.resources import RESOURCES_COMMAND, parse_resources

# The nginx and firewall parsers (crossplane among them) are imported when a step's output is
# first parsed, not on the way to the first step: the engine imports this package for one constant.
_LAZY = {
    "parse_iptables_save": "firewall",
    "rules_affecting": "firewall",
    "parse_nginx_t": "nginx_config",
    "ERROR_LOG_PREAMBLE": "nginx_errors",
    "parse_error_log": "nginx_errors",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"runbook.parsers.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _nginx_config(text: str) -> dict[str, Any]:
    from runbook.parsers.nginx_config import parse_nginx_t

    return parse_nginx_t(text)


def _iptables(text: str) -> dict[str, Any]:
    from runbook.parsers.firewall import parse_iptables_save

    return parse_iptables_save(text)


def _fw_counters(text: str) -> dict[str, Any]:
    from runbook.parsers.fw_counters import parse_fw_counters

    return parse_fw_counters(text)


_WINDOW_RE = re.compile(r"^WINDOW\s+(\d+(?:\.\d+)?)\s*$", re.MULTILINE)


def _error_log(text: str) -> dict[str, Any]:
    """The playbook may print `WINDOW <seconds>` before the log: only lines that recent count."""
    from runbook.parsers.nginx_errors import parse_error_log

    m = _WINDOW_RE.search(text[:4096])
    return parse_error_log(text, window_s=float(m.group(1)) if m else None)


PARSERS: dict[str, Callable[[str], dict[str, Any]]] = {
    "nginx_error_log": _error_log,
    "nginx_config": _nginx_config,
    "iptables": _iptables,
    "firewall": _iptables,
    "fw_counters": _fw_counters,
    "resources": parse_resources,
    "ss_listen": lambda text: {"listening": parse_ss_listen(text)},
    "pgrep": lambda text: {"processes": parse_pgrep(text)},
    "getent": parse_getent,
    "curl": parse_curl_w,
}


def parse(name: str, text: str) -> dict[str, Any]:
    """Run the parser registered as `name`; never raises."""
    try:
        parser = PARSERS[name]
    except KeyError:
        return {"errors": [f"unknown parser {name!r}; known: {', '.join(sorted(PARSERS))}"]}
    try:
        result = parser(text if isinstance(text, str) else str(text or ""))
    except Exception as exc:
        return {"errors": [repr(exc)]}
    return result if isinstance(result, dict) else {"value": result, "errors": []}


__all__ = [
    "CURL_WRITE_OUT",
    "ERROR_LOG_PREAMBLE",
    "PARSERS",
    "RESOURCES_COMMAND",
    "parse",
    "parse_curl_w",
    "parse_error_log",
    "parse_getent",
    "parse_iptables_save",
    "parse_nginx_t",
    "parse_pgrep",
    "parse_resources",
    "parse_ss_listen",
    "rules_affecting",
]
