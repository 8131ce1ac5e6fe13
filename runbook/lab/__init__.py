"""The live 502 lab: real nginx, backends, DNS and firewalls in network namespaces.

    runbook lab up | down | status | faults | fault NAME [--host app1|app2]
    python -m runbook.lab ...                (the same, without the rest of the CLI)

Linux and root only (anything else: a message saying what is needed, exit 2).

Topology (fixed; addresses in 198.18.0.0/15 only):

    root namespace  rb-br0 198.18.0.1/24   (the runner: reaches every host directly)
    rb-gw1   198.18.0.2   nginx (reverse proxy, public http://198.18.0.2/api/users), sshd
    rb-app1  198.18.0.3   app (backend_app.py on :8080, `pgrep -x app`), sshd
    rb-app2  198.18.0.4   app, sshd
    rb-dns1  198.18.0.53  dnsmasq (lab.internal: gw1/app1/app2/dns1), sshd

Each host has its own network, PID, mount, UTS and IPC namespaces (PID 1 is hostinit.py)
and private /etc/{nginx,ssh,hosts,resolv.conf,hostname}, /var/log, /root, /tmp and /run,
bind-mounted from /run/runbook-lab/hosts/HOST/fs. Root logs in by key only.

`up` writes /run/runbook-lab/inventory.yaml, known_hosts and id_ed25519 (the lab user key).

The gateway resolves app1.lab.internal / app2.lab.internal at run time through dns1
(`resolver 198.18.0.53 valid=1s`, names in a `split_clients` variable), with
proxy_connect_timeout 2s and proxy_read_timeout 3s. Each request goes to one backend name;
a name has one address, so proxy_next_upstream has no other peer to retry: with one bad
backend of two (`--host`), about half the client requests fail and half succeed. Without
`--host` every backend has the fault and every request fails. The faults are a registry
(faults.py), made by one module per stack (stacks/http_app.py) and declaring what each shows
a client and logs on the gateway; hosts.py builds the namespaces and runs the processes.
"""

from runbook.lab.faults import FAULTS, Fault

__all__ = ["FAULTS", "Fault"]
