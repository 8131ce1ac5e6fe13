"""The live lab controller: builds, inspects, breaks and removes the 502 lab.

runbook/lab/hosts.py builds the namespaces and runs the processes; the faults are data in
runbook/lab/faults.py, made by one module per stack (runbook/lab/stacks/). This module puts
them together: up, status, readiness, set_fault and down, under the machine-wide lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys  # noqa: F401  (tests patch sys.platform through this module, as before the split)
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from runbook.lab import appservers
from runbook.lab.appservers import PORTS, SERVING, SOCKETS
from runbook.lab.configs import SITE_STYLES
from runbook.lab.faults import FAULTS, Fault
from runbook.lab.hosts import (
    FORWARD_RULE,
    REQUIRED_PROGRAMS,
    SBIN_PATH,
    Hosts,
    LabError,
    dns_query_a,
    ed25519_key,
    http_status,
    lab_lock,
    requirements_problem,
    run,
    system_python,
    tcp_open,
    which,
    write_file,
)
from runbook.lab.topology import (
    APP_PORT,
    BACKENDS,
    BRIDGE,
    COLOCATED_VARS,
    DEFAULT_STATE_DIR,
    DNS,
    GATEWAY,
    HOSTS,
    MOVED_ADDRESSES,
    NETNS_NAMES,
    PREFIX,
    PUBLIC_URL,
    UPSTREAM_NAMES,
)

# names code outside the lab has imported from here since before the split
__all__ = [
    "FORWARD_RULE",
    "REQUIRED_PROGRAMS",
    "SBIN_PATH",
    "FaultResult",
    "Lab",
    "LabError",
    "dns_query_a",
    "ed25519_key",
    "http_status",
    "lab_lock",
    "requirements_problem",
    "run",
    "system_python",
    "tcp_open",
    "wait_ready",
    "which",
]


@dataclass
class FaultResult:
    fault: str
    hosts: list[str]
    #: statuses of the requests made through the gateway after switching
    client_statuses: list[int | str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"fault": self.fault, "hosts": self.hosts, "client_statuses": self.client_statuses}


class Lab(Hosts):
    """The lab as a whole: up, status, readiness, the current fault, down."""

    def current_fault(self) -> dict:
        try:
            return json.loads(self.fault_path.read_text())
        except (OSError, ValueError):
            return {}

    def is_up(self) -> bool:
        namespaces = set(self.netns_list())
        keys = [self.key_path] + [self.fs(h) / "etc/ssh/ssh_host_ed25519_key.pub" for h in HOSTS]
        return (
            all(k.exists() for k in keys)
            and self.link_exists(BRIDGE)
            and all(ns in namespaces for ns in NETNS_NAMES)
            and all(self.init_pid(h) for h in HOSTS)
        )

    def leftovers(self) -> list[str]:
        """Everything of the lab that still exists, by name (empty when fully down)."""
        found = [f"netns {ns}" for ns in self.netns_list() if ns.startswith(PREFIX)]
        found += [f"link {name}" for name in self.lab_links()]
        found += [f"process {pid}" for pid in self.stray_processes()]
        if self.forward_rule_present():
            found.append("iptables " + " ".join(FORWARD_RULE))
        found += [f"mount {m}" for m in self.lab_mounts()]
        if self.state.exists():
            found.append(f"dir {self.state}")
        return found

    def status(self) -> dict:
        hosts = {}
        namespaces = set(self.netns_list())
        for name, host in HOSTS.items():
            svc = self.service_status(name)
            hosts[name] = {
                "address": self.address(name),
                "netns": host.netns in namespaces,
                "init_pid": self.init_pid(name),
                "running": sorted(svc.get("running", {})),
                "exited": svc.get("exited", {}),
            }
        return {
            "up": self.is_up(),
            "state_dir": str(self.state),
            "inventory": str(self.inventory_path),
            "known_hosts": str(self.known_hosts_path),
            "identity_file": str(self.key_path),
            "bridge": self.link_exists(BRIDGE),
            "fault": self.current_fault(),
            "hosts": hosts,
        }

    # --- up -----------------------------------------------------------------------------

    def up(self, timeout: float = 30) -> dict:
        with lab_lock():
            return self._up(timeout)

    def _up(self, timeout: float) -> dict:
        problem = requirements_problem()
        if problem:
            raise LabError(problem)
        if self.is_up():
            self.wait_ready(timeout=timeout)
            self.write_inventory()
            return self.status()
        if self.leftovers():
            self.down()
        self.check_addresses_free()
        self.state.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state, 0o755)
        try:
            self.make_keys()
            self.make_network()
            for host in HOSTS.values():
                self.make_host_files(host)
            for host in HOSTS.values():
                self.start_host(host)
            self.write_inventory()
            self.wait_ready(timeout=timeout)
            write_file(self.fault_path, json.dumps({"fault": "healthy", "hosts": []}))
        except BaseException:
            # a half-built lab is worse than none: the next `up` starts clean anyway
            with contextlib.suppress(Exception):
                self.down()
            raise
        return self.status()

    def write_inventory(self) -> None:
        write_file(self.known_hosts_path, self.known_hosts_text())
        write_file(self.inventory_path, self.inventory_text())

    def known_hosts_text(self) -> str:
        lines = []
        for host in HOSTS.values():
            pub = (self.fs(host.name) / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()
            # a backend keeps its key when it moves to its other address
            for address in dict.fromkeys([host.address, MOVED_ADDRESSES.get(host.name, host.address)]):
                lines.append(f"{address} {pub[0]} {pub[1]}")
        return "\n".join(lines) + "\n"

    def inventory_text(self) -> str:
        q = json.dumps  # JSON strings are valid YAML scalars
        out = [
            "# The runbook live lab (written by `runbook lab up`).",
            "defaults:",
            "  user: root",
            f"  identity_file: {q(str(self.key_path))}",
            f"  known_hosts: {q(str(self.known_hosts_path))}",
            "  connect_timeout: 5",
            "hosts:",
        ]
        colocated = self.layout()["site"] == "pool-colocated"
        serving = SERVING[self.layout()["site"]]
        for host in HOSTS.values():
            roles, host_vars = list(host.roles), dict(host.vars)
            if colocated and host is GATEWAY:
                roles.append("backend")
                host_vars.update(COLOCATED_VARS)
            if "backend" in host.roles and serving.backend != "app":
                host_vars.update(appservers.backend_vars(serving.backend))
            out.append(f"  {host.name}:")
            out.append(f"    address: {self.address(host.name)}")
            out.append(f"    roles: [{', '.join(roles)}]")
            if host_vars:
                out.append("    vars:")
                out += [f"      {k}: {q(v)}" for k, v in host_vars.items()]
        out.append("vars:")
        out.append(f"  public_url: {q(PUBLIC_URL)}")
        # the same path, called on a backend directly (the direct-vs-gateway comparison)
        out.append(f"  request_path: {q(urlsplit(PUBLIC_URL).path or '/')}")
        out.append("  upstream_names:")
        out += [f"    - {name}" for name in UPSTREAM_NAMES]
        return "\n".join(out) + "\n"

    # --- readiness ----------------------------------------------------------------------

    def wait_ready(self, timeout: float = 30) -> None:
        """Block until every service the current fault leaves running answers."""
        deadline = time.monotonic() + timeout
        pending: list[str] = []
        while time.monotonic() < deadline:
            pending = self.not_ready()
            if not pending:
                return
            time.sleep(0.1)
        raise LabError(f"the lab is not ready after {timeout}s: {', '.join(pending)}")

    def not_ready(self) -> list[str]:
        pending = []
        dead = self.layout()["dead"]
        for name, host in HOSTS.items():
            if name in dead:
                continue
            running = self.service_status(name).get("running", {})
            address = self.address(name)
            if not tcp_open(address, 22):
                pending.append(f"{name} sshd")
            if "app" in running and not tcp_open(address, APP_PORT):
                pending.append(f"{name} app")
            for service in ("php-fpm", "uwsgi"):  # on the gateway's unix socket, else over TCP
                if service not in running or "hog" in running:  # a hog leaves no room to connect
                    continue
                socket = self.fs(name) / SOCKETS[service].lstrip("/")
                if not (socket.exists() if name == GATEWAY.name else tcp_open(address, PORTS[service])):
                    pending.append(f"{name} {service}")
            if "nginx" in running and not tcp_open(host.address, 80):
                pending.append(f"{name} nginx")
            if "dnsmasq" in running:
                answer = dns_query_a(DNS.address, GATEWAY.fqdn, timeout=0.5)
                if answer is None:
                    pending.append(f"{name} dnsmasq")
        return pending

    # --- faults -------------------------------------------------------------------------

    def set_fault(
        self, name: str, hosts: list[str] | None = None, probe: bool = True, site: str | None = None
    ) -> FaultResult:
        """Reset the lab to healthy, then make fault `name` on `hosts` (default: all backends),
        with the gateway naming its backends in `site` style (default: the fault's own, else
        names resolved at run time)."""
        with lab_lock():
            return self._set_fault(name, hosts, probe, site)

    def _set_fault(self, name: str, hosts: list[str] | None, probe: bool, site: str | None) -> FaultResult:
        fault = FAULTS.get(name)
        if fault is None:
            raise LabError(f"unknown fault {name!r}; one of: {', '.join(FAULTS)}")
        style = fault.site or site or SITE_STYLES[0]
        if style not in SITE_STYLES:
            raise LabError(f"unknown site style {style!r}; one of: {', '.join(SITE_STYLES)}")
        if fault.site and site and site != fault.site:
            raise LabError(f"fault {name} needs the {fault.site} site, not {site}")
        if lacking := appservers.missing(style):
            raise LabError(f"fault {name} needs {lacking} on this machine")
        backends = [h.name for h in BACKENDS] + ([GATEWAY.name] if style == "pool-colocated" else [])
        targets = list(hosts) if hosts else (backends if fault.per_backend else [])
        for h in targets:
            if h not in backends:
                raise LabError(f"--host must be a backend ({', '.join(backends)}), not {h!r}")
        if not fault.per_backend and hosts:
            raise LabError(f"fault {name} is lab-wide and takes no --host")
        if not self.is_up():
            raise LabError("the lab is not up (try: runbook lab up)")
        previous = FAULTS.get(str(self.current_fault().get("fault", "")))
        self.save_layout(site=style)
        # a per-host DNS fault keeps the other name's records (and nginx's cache of them) as is
        dns_changed = self.reset(keep_dns=fault.dns and bool(targets))
        dns_changed |= self.apply(fault, targets)
        if dns_changed or fault.dns or (previous is not None and previous.dns):
            # let nginx's resolver cache (valid=1s) and any lookup in flight (resolver_timeout
            # 2s) finish with the old answers before the log is rotated
            time.sleep(2.5)
        self.wait_ready()
        self.write_inventory()
        self.rotate_gateway_logs()
        result = FaultResult(fault.name, targets)
        write_file(self.fault_path, json.dumps({"fault": fault.name, "hosts": targets}))
        if probe:
            result.client_statuses = self.probe(fault, targets)
        return result

    def reset(self, keep_dns: bool = False) -> bool:
        """Undo the current fault (any fault of its stack); True when dns1's records changed."""
        current = FAULTS.get(str(self.current_fault().get("fault", ""))) or FAULTS["healthy"]
        return current.undo(self, keep_dns)

    def apply(self, fault: Fault, targets: list[str]) -> bool:
        """Make `fault` on `targets`; True when dns1's records changed."""
        return fault.make(self, targets)

    def rotate_gateway_logs(self) -> None:
        """A fresh incident: keep the previous log as .1, start the current one empty."""
        for path in (self.error_log(), self.access_log()):
            if path.exists():
                shutil.copyfile(path, path.with_name(path.name + ".1"))
                # nginx writes with O_APPEND, so truncating in place needs no reopen
                os.truncate(path, 0)

    def probe(self, fault: Fault, targets: list[str], attempts: int = 16) -> list[int | str]:
        """Requests through the gateway so its log holds the symptom.

        One request when every backend has the fault; with only some backends faulty a
        request may land on a healthy one, so keep asking (bounded) until one fails.
        """
        statuses: list[int | str] = []
        partial = bool(targets) and len(targets) < len(BACKENDS)
        for _ in range(attempts if partial else 1):
            status = http_status(PUBLIC_URL, timeout=15)
            statuses.append(status)
            if status != 200:
                break
        return statuses

    # --- down ---------------------------------------------------------------------------

    def down(self) -> list[str]:
        """Remove everything the lab made, also after a crash; returns what was removed."""
        with lab_lock():
            return self.remove_all()


def wait_ready(state_dir: Path | str = DEFAULT_STATE_DIR, timeout: float = 30) -> None:
    """Block until the lab's services answer (for tests that must not race startup)."""
    Lab(state_dir).wait_ready(timeout=timeout)
