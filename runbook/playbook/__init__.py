"""Playbooks: the decision trees as data (model, loader with file:line errors, expressions).

The names below load on first use: finding a playbook (find) needs neither pydantic nor Jinja2."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runbook.playbook.find import find_playbook, shipped_playbooks
    from runbook.playbook.loader import load_playbook
    from runbook.playbook.model import CAUSES, CheckSpec, Node, Playbook

__all__ = ["CAUSES", "CheckSpec", "Node", "Playbook", "find_playbook", "load_playbook", "shipped_playbooks"]

_HOMES = {
    "find_playbook": "find",
    "shipped_playbooks": "find",
    "load_playbook": "loader",
    "CAUSES": "model",
    "CheckSpec": "model",
    "Node": "model",
    "Playbook": "model",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"runbook.playbook.{home}"), name)
    globals()[name] = value
    return value
