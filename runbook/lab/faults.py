"""The registry of lab faults: every stack's faults by name (see runbook/lab/fault.py).

`runbook lab fault NAME` and Lab.set_fault look faults up here, and the proof tests iterate it.
"""

from __future__ import annotations

from runbook.lab.fault import Fault, Proof
from runbook.lab.stacks import http_app, php_fpm, uwsgi

#: every stack module, each exporting FAULTS
STACKS = (http_app, php_fpm, uwsgi)


def _registry() -> dict[str, Fault]:
    faults: dict[str, Fault] = {}
    for stack in STACKS:
        for fault in stack.FAULTS:
            if fault.name in faults:
                raise ValueError(f"lab fault {fault.name!r} is registered twice")
            faults[fault.name] = fault
    return faults


FAULTS: dict[str, Fault] = _registry()

#: the faults issue 4 lists, one per cause in the guide (the others are extras)
GUIDE_FAULTS = [
    "healthy",
    "backend-down",
    "backend-crash",
    "backend-slow",
    "gateway-misconfigured",
    "dns-failure",
    "malformed-response",
    "firewall",
]


def proof_cases() -> list[tuple[Fault, Proof]]:
    """Every (fault, proof case) of every stack, in registry order."""
    return [(fault, proof) for fault in FAULTS.values() for proof in fault.proofs]


def fault_lines() -> list[str]:
    width = max(len(n) for n in FAULTS)
    return [f"{f.name:<{width}}  {f.description}" for f in FAULTS.values()]
