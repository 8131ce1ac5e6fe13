"""Hosts and roles: the runbook inventory YAML, ssh_config (via `ssh -G`), Ansible inventories
(via `ansible-inventory`), and where each value a transport uses came from."""

from runbook.inventory.load import load_inventory
from runbook.inventory.model import LOCAL, Host, HostSpec, Inventory, InventoryFile

__all__ = ["LOCAL", "Host", "HostSpec", "Inventory", "InventoryFile", "load_inventory"]
