"""The "nginx+http-app" stack: nginx on gw1 proxies to backend_app.py on app1/app2, resolving
their names through dnsmasq on dns1. One fault per 502 cause in the guide, plus extras."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from runbook.lab.fault import Fault, Proof
from runbook.lab.hosts import release_stamp, write_file
from runbook.lab.topology import APP_PORT, BACKENDS, BRIDGE_ADDRESS, DNS, GATEWAY, HOSTS, MOVED_ADDRESSES, SLOW_DELAY_S

if TYPE_CHECKING:
    from runbook.lab.lab import Lab

STACK = "nginx+http-app"
#: where dns-wrong-address sends each backend's name: the pre-migration subnet, which no lab
#: host routes to any more (fails at once and the same way every time, unlike a dead
#: neighbour on the bridge, where the first connect times out and later ones fail on ARP)
STALE_ADDRESSES = {"app1": "198.19.0.3", "app2": "198.19.0.4"}


def reset(lab: Lab, keep_dns: bool) -> bool:
    """Undo any fault of this stack; True when dns1's records changed.

    The backends move home and dns1 serves its records before the site is written: nginx
    resolves the names of an `upstream` pool when it reloads."""
    moved_back = lab.readdress([])
    revived = lab.layout()["dead"]
    lab.save_layout(dead=[])
    for host in HOSTS.values():
        if "app" in (*host.services, *host.optional):
            write_file(lab.fs(host.name) / "run/app/control.json", json.dumps({"mode": "healthy"}))
    dns_restarted = False
    for name in HOSTS:
        if sorted(lab.service_status(name).get("running", {})) != sorted(lab.services(name)):
            lab.reconcile(name, lab.services(name))
            dns_restarted |= name == DNS.name
    for host in [*BACKENDS, GATEWAY]:
        lab.exec_in(host.name, ["iptables", "-F"], check=False)
        lab.exec_in(host.name, ["iptables", "-P", "INPUT", "ACCEPT"], check=False)
        lab.exec_in(host.name, ["iptables", "-P", "OUTPUT", "ACCEPT"], check=False)
    if revived:
        lab.wait_ready()
    dns_changed = dns_restarted if keep_dns else (lab.set_dns_records() or dns_restarted)
    # a reload also gives a pool's servers a fresh start: nginx forgets which it marked failed
    # (max_fails) during the previous fault, as in a new incident
    pool = lab.layout()["site"].startswith("pool")
    if lab.write_site(lab.fs(GATEWAY.name), release=release_stamp()) or moved_back or pool:
        lab.reload_nginx()
    return dns_changed


def nothing(lab: Lab, targets: list[str]) -> bool:
    """The healthy lab: reset already made it."""
    return False


def stop_app(lab: Lab, targets: list[str]) -> bool:
    for h in targets:
        lab.reconcile(h, [s for s in lab.services(h) if s != "app"])
    return False


def app_mode(mode: str) -> Callable[[Lab, list[str]], bool]:
    """Switch backend_app.py on the targets into `mode` through its control file."""

    def make(lab: Lab, targets: list[str]) -> bool:
        for h in targets:
            write_file(lab.fs(h) / "run/app/control.json", json.dumps({"mode": mode, "delay": SLOW_DELAY_S}))
        return False

    return make


def old_upstream_port(lab: Lab, targets: list[str]) -> bool:
    if lab.write_site(lab.fs(GATEWAY.name), release=release_stamp(), bad_port_hosts=targets):
        lab.reload_nginx()
    return False


def loopback_bind(lab: Lab, targets: list[str]) -> bool:
    """The app restarts bound to 127.0.0.1 (a config change, or a framework's default): it runs
    and answers on the host itself, and nothing from outside can reach it."""
    for h in targets:
        lab.reconcile(h, [s for s in lab.services(h) if s != "app"] + ["app-loopback"])
    return False


def dead_host(lab: Lab, targets: list[str]) -> bool:
    """The targets stop answering anything (a hung kernel, a host cut off): SSH and the app's
    port time out, from the machine and from the gateway alike."""
    lab.save_layout(dead=targets)
    for h in targets:
        lab.exec_in(h, ["iptables", "-P", "INPUT", "DROP"])
    return False


def hardened(lab: Lab, targets: list[str]) -> bool:
    """A hardened backend firewall on a healthy site: INPUT drops by default, and lets in only
    loopback, replies, SSH and the app's port from the gateway (and the monitoring host)."""
    rules = [
        ["-A", "INPUT", "-i", "lo", "-j", "ACCEPT"],
        ["-A", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"],
        ["-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"],
        ["-A", "INPUT", "-s", f"{GATEWAY.address}/32", "-p", "tcp", "--dport", str(APP_PORT), "-j", "ACCEPT"],
        # the monitoring host (the machine, on the lab's bridge) checks the app too
        ["-A", "INPUT", "-s", f"{BRIDGE_ADDRESS}/32", "-p", "tcp", "--dport", str(APP_PORT), "-j", "ACCEPT"],
        ["-A", "INPUT", "-p", "icmp", "-j", "ACCEPT"],
    ]
    for h in targets:
        for rule in rules:
            lab.exec_in(h, ["iptables", *rule])
        lab.exec_in(h, ["iptables", "-P", "INPUT", "DROP"])
    return False


def gateway_egress(lab: Lab, targets: list[str]) -> bool:
    """A rule in the gateway's own OUTPUT chain drops its traffic to the targets' app port."""
    for h in targets:
        rule = ["-d", f"{lab.address(h)}/32", "-p", "tcp", "--dport", str(APP_PORT), "-j", "DROP"]
        lab.exec_in(GATEWAY.name, ["iptables", "-A", "OUTPUT", *rule])
    return False


def drop_records(lab: Lab, targets: list[str]) -> bool:
    return lab.set_dns_records(missing=targets)


def stale_records(lab: Lab, targets: list[str]) -> bool:
    return lab.set_dns_records(moved={h: STALE_ADDRESSES[h] for h in targets})


def move_backends(lab: Lab, targets: list[str]) -> bool:
    """Every backend moves to a new address, and DNS and the inventory follow; nginx, which
    resolved its pool's names when it last loaded, keeps connecting to the old addresses."""
    lab.reload_nginx()  # the names are resolved now, at the backends' current addresses
    moved = [h.name for h in BACKENDS]
    lab.readdress(moved)
    return lab.set_dns_records(moved={h: MOVED_ADDRESSES[h] for h in moved})


def stop_dnsmasq(lab: Lab, targets: list[str]) -> bool:
    lab.reconcile(DNS.name, [s for s in DNS.services if s != "dnsmasq"])
    return True


def firewall(*action: str) -> Callable[[Lab, list[str]], bool]:
    """An iptables rule on the targets meeting the gateway's traffic to the app with `action`."""

    def make(lab: Lab, targets: list[str]) -> bool:
        rule = ["-s", f"{GATEWAY.address}/32", "-p", "tcp", "--dport", str(APP_PORT), "-j", *action]
        for h in targets:
            lab.exec_in(h, ["iptables", "-A", "INPUT", *rule])
        return False

    return make


ON_APP2 = ("app2",)
BOTH = ("app1", "app2")
REFUSED = r"connect\(\) failed \(111: Connection refused\) while connecting to upstream"

FAULTS = (
    Fault(
        "healthy",
        "no fault: every backend up, DNS and gateway config correct, no firewall rule",
        "no-fault-found",
        200,
        None,
        per_backend=False,
        make=nothing,
        undo=reset,
        proofs=(Proof(None, ()),),
    ),
    Fault(
        "backend-down",
        "the app service is stopped on the backend (nothing listens on 8080)",
        "backend-down",
        502,
        REFUSED,
        make=stop_app,
        undo=reset,
        # on every backend too: the pool is down, not masked by a healthy peer
        proofs=(Proof(ON_APP2, ON_APP2, "app2"), Proof(None, BOTH)),
    ),
    Fault(
        "backend-crash",
        "the app accepts the request, logs a traceback and closes without answering",
        "backend-down",
        502,
        r"upstream prematurely closed connection while reading response header from upstream",
        make=app_mode("crash"),
        undo=reset,
        proofs=(Proof(ON_APP2, ON_APP2, "Empty reply from server"),),
    ),
    Fault(
        "backend-slow",
        "the app answers after 8 s, longer than the gateway's 3 s proxy_read_timeout",
        "backend-overloaded",
        504,
        r"upstream timed out \(110: Connection timed out\) while reading response header",
        make=app_mode("slow"),
        undo=reset,
        proofs=(Proof(ON_APP2, ON_APP2, "timed out"),),
    ),
    Fault(
        "gateway-misconfigured",
        "a deploy pointed the gateway's upstream at the old port 8081; nginx reloaded",
        "gateway-misconfigured",
        502,
        REFUSED + r".*upstream: \"http://[0-9.]+:8081/",
        make=old_upstream_port,
        undo=reset,
        proofs=(Proof(None, ("gw1",), "8081"),),
    ),
    Fault(
        "dns-failure",
        "dns1 no longer has the backend's name; nginx resolves it at run time and fails",
        "dns-failure",
        502,
        r"could not be resolved \(3: Host not found\)",
        make=drop_records,
        undo=reset,
        dns=True,
        needs_names=True,
        proofs=(Proof(ON_APP2, ON_APP2, "could not be resolved"),),
    ),
    Fault(
        "malformed-response",
        "the app answers at once but with invalid header lines",
        "malformed-response",
        502,
        r"upstream sent invalid header",
        make=app_mode("malformed"),
        undo=reset,
        proofs=(Proof(ON_APP2, ON_APP2, "invalid header"),),
    ),
    Fault(
        "firewall",
        "an iptables rule on the backend drops the gateway's traffic to port 8080",
        "network-blocked",
        504,
        r"upstream timed out \(110: Connection timed out\) while connecting to upstream",
        make=firewall("DROP"),
        undo=reset,
        proofs=(Proof(ON_APP2, ON_APP2, "DROP"), Proof(None, BOTH, "DROP")),
    ),
    # beyond the guide's list: the same causes, different evidence
    Fault(
        "dns-wrong-address",
        "(extra) dns1 answers the backend's name with its old address, in a retired subnet",
        "dns-failure",
        502,
        r"connect\(\) to 198\.19\.0\.[34]:8080 failed \(101: Network is unreachable\) "
        r"while connecting to upstream",
        make=stale_records,
        undo=reset,
        dns=True,
        needs_names=True,
        proofs=(Proof(ON_APP2, ON_APP2, "198.19.0."),),
    ),
    Fault(
        "dns-down",
        "(extra) dnsmasq on dns1 is stopped: nginx's run-time lookups time out",
        "dns-failure",
        502,
        r"could not be resolved \(110: Operation timed out\)",
        per_backend=False,
        make=stop_dnsmasq,
        undo=reset,
        dns=True,
        needs_names=True,
        proofs=(Proof(None, BOTH, "could not be resolved"),),
    ),
    Fault(
        "firewall-reject",
        "(extra) an iptables rule on the backend rejects the gateway with a TCP reset",
        "network-blocked",
        502,
        REFUSED,
        make=firewall("REJECT", "--reject-with", "tcp-reset"),
        undo=reset,
        proofs=(Proof(ON_APP2, ON_APP2, "REJECT"),),
    ),
    Fault(
        "stale-resolution",
        "(extra) the backends moved to new addresses, DNS and the inventory followed; nginx "
        "resolved its pool's names at its last reload and still connects to the old ones",
        "dns-failure",
        502,
        r"connect\(\) failed \(111: Connection refused\) while connecting to upstream"
        r".*upstream: \"http://198\.18\.0\.[34]:8080/",
        per_backend=False,
        make=move_backends,
        undo=reset,
        dns=True,
        needs_names=True,
        site="pool-names",
        proofs=(Proof(None, BOTH, "app2.lab.internal"),),
    ),
    Fault(
        "healthy-hardened",
        "(extra) no fault, behind a hardened firewall on each backend: INPUT drops by default and "
        "lets in the app's port from the gateway only",
        "no-fault-found",
        200,
        None,
        make=hardened,
        undo=reset,
        proofs=(Proof(None, ()),),
    ),
    Fault(
        "dead-host",
        "(extra) the backend answers nothing at all: SSH and the app's port time out",
        "backend-down",
        504,
        r"upstream timed out \(110: Connection timed out\) while connecting to upstream",
        make=dead_host,
        undo=reset,
        silent=True,
        proofs=(Proof(ON_APP2, ON_APP2, "app2"),),
    ),
    Fault(
        "loopback-bind",
        "(extra) the app restarted listening on 127.0.0.1 only: it answers on the host, not to the gateway",
        "backend-down",
        502,
        REFUSED,
        make=loopback_bind,
        undo=reset,
        proofs=(Proof(ON_APP2, ON_APP2, "127.0.0.1"),),
    ),
    Fault(
        "backend-own-502",
        "(extra) the app itself answers 502 (a service behind it is down); nginx passes it on and logs nothing",
        "backend-down",
        502,
        None,
        make=app_mode("own-502"),
        undo=reset,
        proofs=(Proof(ON_APP2, ON_APP2, "users-db"),),
    ),
    Fault(
        "gateway-egress",
        "(extra) a rule in the gateway's own OUTPUT chain drops its traffic to the backend's port",
        "network-blocked",
        504,
        r"upstream timed out \(110: Connection timed out\) while connecting to upstream",
        make=gateway_egress,
        undo=reset,
        proofs=(Proof(ON_APP2, ("gw1",), "OUTPUT"),),
    ),
)
