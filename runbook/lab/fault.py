"""What a lab fault is, as data (DESIGN.md, "Lab"); runbook/lab/faults.py holds the registry.

A fault belongs to a stack (the gateway and app software it breaks), is made by a function of
the lab and the backends it targets, and is undone by a function that returns that stack to
healthy. It declares what a client sees, the gateway log line it produces and, in `proofs`,
the cases the proof tests run: where it is made and the cause and hosts a correct diagnosis
names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runbook.lab.lab import Lab

#: makes a fault on the targeted backends; True when DNS answers changed (nginx's resolver
#: cache must expire before the symptom is stable)
MakeFault = Callable[["Lab", list[str]], bool]
#: undoes any fault of its stack; `keep_dns` leaves dns1's records as they are (a per-host DNS
#: fault keeps the other name's records, and nginx's cache of them); True when they changed
UndoFault = Callable[["Lab", bool], bool]


@dataclass(frozen=True)
class Proof:
    """One proof case: the fault made on `hosts` (None: every backend, or lab-wide) and what
    a correct diagnosis names."""

    hosts: tuple[str, ...] | None
    #: the hosts the conclusion must name
    named: tuple[str, ...]
    #: a string the report must contain (None: nothing in particular)
    evidence: str | None = None

    @property
    def id(self) -> str:
        return "+".join(self.hosts) if self.hosts else "all"


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    #: the conclusion a correct diagnosis reaches (DESIGN.md's vocabulary)
    cause: str
    #: what a client sees through the gateway when every targeted backend has the fault
    client_status: int
    #: matches the gateway error-log line the fault produces
    log_pattern: str | None
    #: the fault is made on backends (so --host picks which); otherwise it is lab-wide
    per_backend: bool = True
    stack: str = field(default="nginx+http-app", kw_only=True)
    make: MakeFault = field(kw_only=True, compare=False)
    undo: UndoFault = field(kw_only=True, compare=False)
    #: a DNS fault: switching to or from it waits out nginx's resolver cache
    dns: bool = field(default=False, kw_only=True)
    proofs: tuple[Proof, ...] = field(default=(), kw_only=True)
    #: the gateway site style the fault needs (None: any of configs.SITE_STYLES)
    site: str | None = field(default=None, kw_only=True)
    #: the targets answer nothing: SSH to them fails, and a diagnosis records those gaps
    silent: bool = field(default=False, kw_only=True)
    #: the fault shows only when the gateway's config names its backends (a DNS fault)
    needs_names: bool = field(default=False, kw_only=True)
