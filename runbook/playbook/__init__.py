"""Playbooks: the decision trees as data (model, loader with file:line errors, expressions)."""

from runbook.playbook.loader import find_playbook, load_playbook, shipped_playbooks
from runbook.playbook.model import CAUSES, CheckSpec, Node, Playbook

__all__ = ["CAUSES", "CheckSpec", "Node", "Playbook", "find_playbook", "load_playbook", "shipped_playbooks"]
