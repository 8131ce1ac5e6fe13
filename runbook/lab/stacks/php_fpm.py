"""The "nginx+php-fpm" stack: the users API is a PHP script run by Debian's php-fpm, on the
gateway behind a unix socket nginx's workers (www-data) connect to (`fastcgi_pass unix:…`, the
php-socket site), or on the backends over TCP port 9000 in an `upstream` pool (php-tcp).

In the php-socket site app1 and app2 keep running their HTTP app but take no traffic (the
inventory still lists them): the service at fault is on the gateway, and no inventory host
is its backend."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from runbook.lab.appservers import PORTS, SOCKETS
from runbook.lab.fault import Fault, Proof
from runbook.lab.hosts import write_file
from runbook.lab.stacks.http_app import ON_APP2, reset
from runbook.lab.topology import GATEWAY, HOSTS

if TYPE_CHECKING:
    from runbook.lab.lab import Lab

STACK = "nginx+php-fpm"
GW = (GATEWAY.name,)
#: connections a hog holds: more than php-fpm's workers (2) and its listen backlog (8) together
HOG_CONNECTIONS = 16


def undo(lab: Lab, keep_dns: bool) -> bool:
    """Any fault of this stack or the uwsgi one undone: the lab reset (which stops a hog and
    starts a stopped service), a pool the hog held restarted, and a socket given back to
    nginx's workers (a running server does not set its socket's owner and mode again)."""
    hogged = [h for h in HOSTS if "hog" in lab.service_status(h).get("running", {})]
    changed = reset(lab, keep_dns)
    for h in hogged:  # its workers still sleep in the hog's requests: restart the pool
        wanted = lab.services(h)
        lab.reconcile(h, [s for s in wanted if s != "php-fpm"])
        lab.reconcile(h, wanted)
    for service, socket in SOCKETS.items():
        if service in lab.service_status(GATEWAY.name).get("running", {}):
            lab.exec_in(GATEWAY.name, ["chown", "www-data:www-data", socket], check=False)
            lab.exec_in(GATEWAY.name, ["chmod", "0660", socket], check=False)
    return changed


def nothing(lab: Lab, targets: list[str]) -> bool:
    return False


def stop(service: str) -> Callable[[Lab, list[str]], bool]:
    """`service` stops on the targets (the gateway when none): its socket or port goes with it."""

    def make(lab: Lab, targets: list[str]) -> bool:
        for h in targets or list(GW):
            lab.reconcile(h, [s for s in lab.services(h) if s != service])
        return False

    return make


def lock_socket(service: str) -> Callable[[Lab, list[str]], bool]:
    """The service's socket is given to root with mode 0600: nginx's workers are left out."""

    def make(lab: Lab, targets: list[str]) -> bool:
        lab.exec_in(GATEWAY.name, ["chown", "root:root", SOCKETS[service]])
        lab.exec_in(GATEWAY.name, ["chmod", "0600", SOCKETS[service]])
        return False

    return make


def hog(service: str) -> Callable[[Lab, list[str]], bool]:
    """Connections that send nothing take every worker of `service` and fill its listen queue
    (php-fpm's pm.max_children reached): on the gateway's unix socket when there are no
    targets, else on each target's TCP port. A `hog` service of the host holds them, so the
    lab's reset ends them."""

    def make(lab: Lab, targets: list[str]) -> bool:
        lab.wait_ready()  # the service listens (a reset may have just started it)
        for h in targets or list(GW):
            where = f"unix:{SOCKETS[service]}" if not targets else f"127.0.0.1:{PORTS[service]}"
            held = lab.fs(h) / "run/hog/held"
            held.unlink(missing_ok=True)
            write_file(lab.fs(h) / "run/hog/target", where)
            lab.reconcile(h, [*lab.services(h), "hog"])
            deadline = time.monotonic() + 10
            while not held.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
        return False

    return make


LOG_MISSING = r"connect\(\) to unix:/run/php/php-fpm.sock failed \(2: No such file or directory\)"

FAULTS = (
    Fault(
        "php-healthy",
        "(php-fpm) no fault: the API is PHP behind php-fpm on a unix socket on the gateway",
        "no-fault-found",
        200,
        None,
        per_backend=False,
        stack=STACK,
        site="php-socket",
        make=nothing,
        undo=undo,
        proofs=(Proof(None, ()),),
    ),
    Fault(
        "php-socket-missing",
        "(php-fpm) php-fpm is stopped: the socket nginx connects to does not exist",
        "backend-down",
        502,
        LOG_MISSING,
        per_backend=False,
        stack=STACK,
        site="php-socket",
        make=stop("php-fpm"),
        undo=undo,
        proofs=(Proof(None, GW, "php-fpm.sock"),),
    ),
    Fault(
        "php-socket-permission",
        "(php-fpm) the socket belongs to root with mode 0600: nginx's workers (www-data) may not connect",
        "gateway-misconfigured",
        502,
        r"connect\(\) to unix:/run/php/php-fpm.sock failed \(13: Permission denied\)",
        per_backend=False,
        stack=STACK,
        site="php-socket",
        make=lock_socket("php-fpm"),
        undo=undo,
        proofs=(Proof(None, GW, "listen.owner"),),
    ),
    Fault(
        "php-socket-backlog",
        "(php-fpm) every php-fpm worker is busy and the socket's listen queue is full",
        "backend-overloaded",
        502,
        r"connect\(\) to unix:/run/php/php-fpm.sock failed \(11: Resource temporarily unavailable\)",
        per_backend=False,
        stack=STACK,
        site="php-socket",
        make=hog("php-fpm"),
        undo=undo,
        proofs=(Proof(None, GW, "pm.max_children"),),
    ),
    Fault(
        "php-tcp-healthy",
        "(php-fpm) no fault: the API is PHP behind php-fpm on the backends, over TCP port 9000",
        "no-fault-found",
        200,
        None,
        per_backend=False,
        stack=STACK,
        site="php-tcp",
        make=nothing,
        undo=undo,
        proofs=(Proof(None, ()),),
    ),
    Fault(
        "fastcgi-down",
        "(php-fpm) php-fpm is stopped on the backend: nothing listens on port 9000",
        "backend-down",
        502,
        r"connect\(\) failed \(111: Connection refused\) while connecting to upstream.*fastcgi://",
        stack=STACK,
        site="php-tcp",
        make=stop("php-fpm"),
        undo=undo,
        proofs=(Proof(ON_APP2, ON_APP2, "app2"),),
    ),
    Fault(
        "php-pool-exhausted",
        "(php-fpm) every php-fpm worker on the backend is busy (pm.max_children reached) and its listen queue is full",
        "backend-overloaded",
        504,
        r"upstream timed out \(110: Connection timed out\)",
        stack=STACK,
        site="php-tcp",
        make=hog("php-fpm"),
        undo=undo,
        proofs=(Proof(ON_APP2, ON_APP2, "pm.max_children"),),
    ),
)
