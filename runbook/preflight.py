"""Before a live walk: can any of the hosts the playbook's checks target be reached at all?

Only those hosts are probed: a playbook whose checks all run `on: local` runs with any
inventory, and a host no check targets cannot stop a run. When none of them can be reached,
walking every node would only pile up gaps; the run stops early (exit 2) and says which hosts
failed and why. When some can, the walk goes on and the unreachable ones become gaps, as
everywhere else.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from runbook.inventory import LOCAL, Host, Inventory
from runbook.playbook.model import Playbook
from runbook.transports.base import ErrorKind, Transport, TransportError

#: errors that mean the host cannot be used at all (an unknown key is still reachable: it is asked about)
FATAL = {ErrorKind.UNREACHABLE, ErrorKind.TIMEOUT, ErrorKind.AUTH, ErrorKind.HOSTKEY_CHANGED, ErrorKind.DISCONNECTED}
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Unreachable:
    host: str
    address: str
    kind: str
    message: str

    def line(self) -> str:
        # transport messages often start with "host (address):" already
        detail = self.message.removeprefix(f"{self.host} ({self.address}):").strip()
        return f"  {self.host} ({self.address}): {self.kind}: {detail}"


async def _probe(transport: Transport, host: Host) -> Unreachable | None:
    try:
        await transport.run(host, "true", timeout=TIMEOUT_S)
    except TransportError as exc:
        if exc.kind in FATAL:
            return Unreachable(host.name, f"{host.address}:{host.port}", str(exc.kind), exc.message)
    except Exception as exc:  # a transport that fails in a way it does not map: still not reachable
        return Unreachable(host.name, f"{host.address}:{host.port}", "error", str(exc) or type(exc).__name__)
    return None


def targeted_hosts(playbook: Playbook, inventory: Inventory) -> list[Host]:
    """The inventory hosts some check of the playbook runs on (by role or by name), in inventory order."""
    roles = {check.on for node in playbook.nodes.values() for check in node.checks if check.on != LOCAL}
    wanted = {h.name for role in roles for h in inventory.with_role(role)}
    return [h for h in inventory.hosts.values() if h.name in wanted]


async def unreachable_hosts(transport: Transport, hosts: list[Host]) -> list[Unreachable] | None:
    """Every host's failure when none of `hosts` can be reached, else None."""
    remote = [h for h in hosts if not h.is_local]
    if not remote:
        return None
    results = await asyncio.gather(*(_probe(transport, h) for h in remote))
    failed = [r for r in results if r is not None]
    return failed if len(failed) == len(remote) else None


def message(failed: list[Unreachable]) -> str:
    lines = [f"runbook: none of the {len(failed)} inventory hosts can be reached; nothing to diagnose:"]
    lines += [f.line() for f in failed]
    lines.append("check the addresses, ports, keys and known_hosts in the inventory (runbook inventory -i ...)")
    return "\n".join(lines)
