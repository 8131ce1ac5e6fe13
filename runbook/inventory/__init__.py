"""Hosts and roles: the runbook inventory YAML, ssh_config (via `ssh -G`), Ansible inventories
(via `ansible-inventory`), and where each value a transport uses came from.

`load_inventory` (and the Ansible readers behind it) loads on first use: a replayed run builds
its hosts from the scenario and never reads an inventory file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runbook.inventory.model import LOCAL, Host, HostSpec, Inventory, InventoryFile

if TYPE_CHECKING:
    from runbook.inventory.load import load_inventory

__all__ = ["LOCAL", "Host", "HostSpec", "Inventory", "InventoryFile", "load_inventory"]


def __getattr__(name: str) -> Any:
    if name == "load_inventory":
        from runbook.inventory.load import load_inventory

        globals()[name] = load_inventory
        return load_inventory
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
