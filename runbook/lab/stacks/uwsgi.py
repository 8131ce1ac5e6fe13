"""The "nginx+uwsgi" stack: the users API is a WSGI app run by Debian's uwsgi with its python3
plugin, on the backends over TCP port 3031 in an `upstream` pool (`uwsgi_pass`, the uwsgi-tcp
site), or on the gateway behind a unix socket (uwsgi-socket)."""

from __future__ import annotations

from runbook.lab.fault import Fault, Proof
from runbook.lab.stacks.http_app import ON_APP2
from runbook.lab.stacks.php_fpm import GW, nothing, stop, undo

STACK = "nginx+uwsgi"

FAULTS = (
    Fault(
        "uwsgi-healthy",
        "(uwsgi) no fault: the API is a WSGI app behind uwsgi on the backends, over TCP port 3031",
        "no-fault-found",
        200,
        None,
        per_backend=False,
        stack=STACK,
        site="uwsgi-tcp",
        make=nothing,
        undo=undo,
        proofs=(Proof(None, ()),),
    ),
    Fault(
        "uwsgi-down",
        "(uwsgi) uwsgi is stopped on the backend: nothing listens on port 3031",
        "backend-down",
        502,
        r"connect\(\) failed \(111: Connection refused\) while connecting to upstream.*uwsgi://",
        stack=STACK,
        site="uwsgi-tcp",
        make=stop("uwsgi"),
        undo=undo,
        proofs=(Proof(ON_APP2, ON_APP2, "app2"),),
    ),
    Fault(
        "uwsgi-socket-healthy",
        "(uwsgi) no fault: the API is a WSGI app behind uwsgi on a unix socket on the gateway",
        "no-fault-found",
        200,
        None,
        per_backend=False,
        stack=STACK,
        site="uwsgi-socket",
        make=nothing,
        undo=undo,
        proofs=(Proof(None, ()),),
    ),
    Fault(
        "uwsgi-socket-stale",
        "(uwsgi) uwsgi is stopped and its socket file is left behind: nothing listens on it",
        "backend-down",
        502,
        r"connect\(\) to unix:/run/uwsgi/app.sock failed \(111: Connection refused\)",
        per_backend=False,
        stack=STACK,
        site="uwsgi-socket",
        make=stop("uwsgi"),
        undo=undo,
        proofs=(Proof(None, GW, "app.sock"),),
    ),
)
