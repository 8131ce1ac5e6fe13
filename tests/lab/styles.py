"""Naming styles on the live lab: how the gateway's config and the inventory name the backends.

The lab was built with names in the config (resolved at run time) and an inventory that gives
each backend's address and its name (`hostname` var). The tree must not depend on that: every
fault is proven in the other styles too, and every style's healthy lab finds no fault.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from runbook.lab.lab import Lab
from runbook.lab.topology import HOSTS

#: naming style -> the gateway site style it runs with (runbook/lab/configs.py SITE_STYLES)
NAMINGS: dict[str, str] = {
    # names in the config, resolved at run time; the inventory has addresses and names
    "as-built": "names-runtime",
    # names in the config; the inventory knows addresses only
    "addresses-only": "names-runtime",
    # addresses in the config (an upstream pool with keepalive); the inventory knows names only,
    # which ssh_config aliases turn into addresses for SSH
    "names-only": "pool-addresses",
    # names in a pool that also holds the gateway's own app on loopback: the gateway is a backend
    # too (one host, both roles, in the lab's inventory)
    "colocated": "pool-colocated",
}


def inventory_for(lab: Lab, naming: str, tmp_path: Path) -> Path:
    """The lab's inventory rewritten in `naming` style (the lab's own file for as-built)."""
    if naming in ("as-built", "colocated"):
        return lab.inventory_path
    inv = yaml.safe_load(lab.inventory_path.read_text())
    for host in inv["hosts"].values():
        (host.get("vars") or {}).pop("hostname", None)
    if naming == "names-only":
        aliases = []
        for name, host in inv["hosts"].items():
            fqdn = HOSTS[name].fqdn
            aliases.append(f"Host {fqdn}\n  HostName {host['address']}\n")
            host["address"] = fqdn
        config = tmp_path / "ssh_config"
        config.write_text("".join(aliases))
        inv["defaults"]["ssh_config"] = str(config)
    path = tmp_path / f"inventory-{naming}.yaml"
    path.write_text(yaml.safe_dump(inv))
    return path
