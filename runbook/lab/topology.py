"""The lab's fixed topology: names, addresses and ports the rest of the project relies on."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: Everything the lab makes lives here (root namespace view); `down` removes it.
DEFAULT_STATE_DIR = Path(os.environ.get("RUNBOOK_LAB_STATE", "/run/runbook-lab"))

PREFIX = "rb-"
BRIDGE = "rb-br0"
BRIDGE_ADDRESS = "198.18.0.1"
PREFIXLEN = 24
SUBNET = "198.18.0.0/24"
DOMAIN = "lab.internal"

APP_PORT = 8080
#: The "old" port a bad deploy points the gateway at.
OLD_APP_PORT = 8081
PUBLIC_URL = "http://198.18.0.2/api/users"

# Kept small so every fault shows within a few seconds (and a diagnosis runs fast).
PROXY_CONNECT_TIMEOUT_S = 2
PROXY_READ_TIMEOUT_S = 3
RESOLVER_VALID_S = 1
SLOW_DELAY_S = 8


@dataclass(frozen=True)
class LabHost:
    name: str
    address: str
    roles: tuple[str, ...]
    services: tuple[str, ...]
    vars: dict = field(default_factory=dict, hash=False)
    #: services the host can run but does not at boot (the gateway's own app, co-located)
    optional: tuple[str, ...] = ()

    @property
    def netns(self) -> str:
        return PREFIX + self.name

    @property
    def veth(self) -> str:
        # root-namespace end of the host's veth pair (<= 15 characters)
        return f"{PREFIX}{self.name}-v"

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{DOMAIN}"


HOSTS: dict[str, LabHost] = {
    h.name: h
    for h in (
        LabHost("gw1", "198.18.0.2", ("gateway",), ("sshd", "nginx"), optional=("app", "php-fpm", "uwsgi")),
        LabHost(
            "app1",
            "198.18.0.3",
            ("backend",),
            ("sshd", "app"),
            {
                "service": "app",
                "port": APP_PORT,
                "health_path": "/health",
                "hostname": "app1.lab.internal",
            },
            optional=("php-fpm", "uwsgi"),
        ),
        LabHost(
            "app2",
            "198.18.0.4",
            ("backend",),
            ("sshd", "app"),
            {
                "service": "app",
                "port": APP_PORT,
                "health_path": "/health",
                "hostname": "app2.lab.internal",
            },
            optional=("php-fpm", "uwsgi"),
        ),
        LabHost("dns1", "198.18.0.53", ("dns",), ("sshd", "dnsmasq")),
    )
}
#: where the backends move in the stale-resolution fault (DNS and the inventory follow; nginx,
#: having resolved its pool's names when it loaded, does not)
MOVED_ADDRESSES = {"app1": "198.18.0.13", "app2": "198.18.0.14"}
#: the socket php-fpm listens on when the gateway runs it (the php-socket site)
PHP_SOCKET = "/run/php/php-fpm.sock"
#: the socket uwsgi listens on when the gateway runs it (the uwsgi-socket site)
UWSGI_SOCKET = "/run/uwsgi/app.sock"
#: where backends that run php-fpm or uwsgi over TCP listen (php-tcp, uwsgi-tcp sites)
FCGI_PORT = 9000
UWSGI_PORT = 3031
#: the backend vars of the gateway when it also runs the app (the pool-colocated site)
COLOCATED_VARS = {"service": "app", "port": APP_PORT, "health_path": "/health"}
GATEWAY = HOSTS["gw1"]
DNS = HOSTS["dns1"]
BACKENDS = [h for h in HOSTS.values() if "backend" in h.roles]
NETNS_NAMES = [h.netns for h in HOSTS.values()]
UPSTREAM_NAMES = [h.fqdn for h in BACKENDS]
