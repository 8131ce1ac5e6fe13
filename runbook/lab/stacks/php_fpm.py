"""The "nginx+php-fpm" stack: the users API is a PHP script that php-fpm runs on the gateway
itself, behind a unix socket nginx's workers (www-data) connect to (`fastcgi_pass unix:…`).
The backends app1 and app2 keep running but take no traffic (the inventory still lists them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runbook.lab.fault import Fault, Proof
from runbook.lab.stacks.http_app import reset
from runbook.lab.topology import GATEWAY, PHP_SOCKET

if TYPE_CHECKING:
    from runbook.lab.lab import Lab

STACK = "nginx+php-fpm"
SITE = "php-socket"


def undo(lab: Lab, keep_dns: bool) -> bool:
    """Any fault of this stack undone: the lab reset, and php-fpm's socket given back to nginx's
    workers (a running php-fpm does not set its socket's owner and mode again)."""
    changed = reset(lab, keep_dns)
    if "php-fpm" in lab.service_status(GATEWAY.name).get("running", {}):
        lab.exec_in(GATEWAY.name, ["chown", "www-data:www-data", PHP_SOCKET], check=False)
        lab.exec_in(GATEWAY.name, ["chmod", "0660", PHP_SOCKET], check=False)
    return changed


def nothing(lab: Lab, targets: list[str]) -> bool:
    return False


def stop_php_fpm(lab: Lab, targets: list[str]) -> bool:
    """php-fpm stops; its socket goes with it."""
    lab.reconcile(GATEWAY.name, [s for s in lab.services(GATEWAY.name) if s != "php-fpm"])
    return False


def lock_socket(lab: Lab, targets: list[str]) -> bool:
    """The socket's owner and mode leave nginx's workers out (root:root 0600)."""
    lab.exec_in(GATEWAY.name, ["chown", "root:root", PHP_SOCKET])
    lab.exec_in(GATEWAY.name, ["chmod", "0600", PHP_SOCKET])
    return False


GW = ("gw1",)

FAULTS = (
    Fault(
        "php-healthy",
        "(php-fpm) no fault: the API is PHP behind php-fpm on a unix socket on the gateway",
        "no-fault-found",
        200,
        None,
        per_backend=False,
        stack=STACK,
        site=SITE,
        make=nothing,
        undo=undo,
        proofs=(Proof(None, ()),),
    ),
    Fault(
        "php-socket-missing",
        "(php-fpm) php-fpm is stopped: the socket nginx connects to does not exist",
        "backend-down",
        502,
        r"connect\(\) to unix:/run/php/php-fpm.sock failed \(2: No such file or directory\)",
        per_backend=False,
        stack=STACK,
        site=SITE,
        make=stop_php_fpm,
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
        site=SITE,
        make=lock_socket,
        undo=undo,
        proofs=(Proof(None, GW, "listen.owner"),),
    ),
)
