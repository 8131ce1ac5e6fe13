"""Configuration files of the lab hosts, rendered from the topology and the current fault.

Paths inside these files are the paths a lab host sees (its own /etc, /run, /var/log).
"""

from __future__ import annotations

from collections.abc import Iterable

from runbook.lab.appservers import PORTS, SOCKETS
from runbook.lab.topology import (
    APP_PORT,
    BACKENDS,
    DNS,
    DOMAIN,
    GATEWAY,
    HOSTS,
    OLD_APP_PORT,
    PROXY_CONNECT_TIMEOUT_S,
    PROXY_READ_TIMEOUT_S,
    RESOLVER_VALID_S,
    LabHost,
)

SITE_NAME = "api-gateway"

#: how the gateway names its backends (DESIGN.md, "Lab"): by name through a variable, resolved
#: at run time (as built); by name in an `upstream` pool with keepalive, resolved once when nginx
#: starts or reloads; by address in such a pool; by name in a pool that also holds the
#: gateway's own app on loopback (one host with both roles); a PHP app behind php-fpm, and a
#: Python app behind uwsgi, each on a unix socket on the gateway itself or over TCP on the
#: backends (runbook/lab/appservers.py says who serves in each)
SITE_STYLES = (
    "names-runtime",
    "pool-names",
    "pool-addresses",
    "pool-colocated",
    "php-socket",
    "php-tcp",
    "uwsgi-tcp",
    "uwsgi-socket",
)

NGINX_CONF = """\
user www-data;
worker_processes auto;
pid /run/nginx.pid;
# warn, so every upstream failure nginx notices lands here
error_log /var/log/nginx/error.log warn;
include /etc/nginx/modules-enabled/*.conf;

events {
	worker_connections 768;
}

http {
	sendfile on;
	tcp_nopush on;
	types_hash_max_size 2048;
	server_tokens off;

	include /etc/nginx/mime.types;
	default_type application/octet-stream;

	# combined, plus where each request went and how long it waited
	log_format upstreamlog '$remote_addr - $remote_user [$time_local] "$request" '
		'$status $body_bytes_sent "$http_referer" "$http_user_agent" '
		'upstream=$upstream_addr upstream_status=$upstream_status '
		'request_time=$request_time upstream_response_time=$upstream_response_time '
		'upstream_header_time=$upstream_header_time';
	access_log /var/log/nginx/access.log upstreamlog;

	include /etc/nginx/conf.d/*.conf;
	include /etc/nginx/sites-enabled/*;
}
"""


def nginx_site(
    release: str,
    bad_port_hosts: Iterable[str] = (),
    style: str = "names-runtime",
    addresses: dict[str, str] | None = None,
) -> str:
    """The gateway's site. `bad_port_hosts` point at the old port (the misconfigured deploy);
    `addresses` are the backends' current addresses (the pool-addresses style writes them).

    Upstream names sit in a variable so nginx resolves them at run time through dns1
    (nginx 1.22 has no `resolve` flag on upstream servers): a name that stops resolving
    fails requests at once instead of at the next reload. Each request picks one backend;
    with one address per name there is no other peer for proxy_next_upstream to retry, so
    a single bad backend fails about half the requests rather than being masked.
    """
    if style not in SITE_STYLES:
        raise ValueError(f"unknown site style {style!r}; one of: {', '.join(SITE_STYLES)}")
    bad = set(bad_port_hosts)
    if style in ("php-socket", "php-tcp", "uwsgi-tcp", "uwsgi-socket"):
        return _app_server_site(release, style)
    if style != "names-runtime":
        return _pool_site(release, bad, style != "pool-addresses", addresses or {}, style == "pool-colocated")
    pool = []
    share = f"{100 // len(BACKENDS)}%"
    for i, host in enumerate(BACKENDS):
        port = OLD_APP_PORT if host.name in bad else APP_PORT
        weight = "*" if i == len(BACKENDS) - 1 else share
        pool.append(f"    {weight:<5} {host.fqdn}:{port};")
    pool_text = "\n".join(pool)
    head = f"""\
resolver {DNS.address} valid={RESOLVER_VALID_S}s ipv6=off;
resolver_timeout 2s;

split_clients "${{request_id}}" $app_backend {{
{pool_text}
}}
"""
    return _site(release, head, "$app_backend", "    proxy_next_upstream error timeout;\n")


def _pool_site(release: str, bad: set[str], names: bool, addresses: dict[str, str], colocated: bool = False) -> str:
    """An `upstream` pool with idle keepalive connections: nginx resolves names in it once,
    when it starts or reloads, and retries a failed request on the next server."""
    servers = []
    for host in BACKENDS:
        port = OLD_APP_PORT if host.name in bad else APP_PORT
        target = host.fqdn if names else addresses.get(host.name, host.address)
        servers.append(f"    server {target}:{port};")
    if colocated:
        servers.append(f"    server 127.0.0.1:{APP_PORT};")
    server_text = "\n".join(servers)
    head = f"""\
upstream app_pool {{
{server_text}
    keepalive 16;
}}
"""
    return _site(release, head, "app_pool")


def _site(release: str, head: str, upstream: str, retry: str = "") -> str:
    """The gateway's site around its upstream definition (`head`): one server proxying /api/
    and /health to `upstream`, with the lab's short timeouts; `retry` sets proxy_next_upstream."""
    return f"""\
# API gateway: public /api/ and /health, proxied to the app pool.
# release {release}
{head}
server {{
    listen 80 default_server;
    server_name api.{DOMAIN} {GATEWAY.address};

    proxy_connect_timeout {PROXY_CONNECT_TIMEOUT_S}s;
    proxy_send_timeout {PROXY_READ_TIMEOUT_S}s;
    proxy_read_timeout {PROXY_READ_TIMEOUT_S}s;
{retry}    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;

    location /api/ {{
        proxy_pass http://{upstream};
    }}

    location = /health {{
        proxy_pass http://{upstream};
    }}

    location = /nginx_status {{
        stub_status;
        access_log off;
        allow 127.0.0.1;
        allow {GATEWAY.address};
        deny all;
    }}
}}
"""


#: the app-server sites: how nginx passes a request on in each protocol, and the params file
#: Debian ships for it
_PASS = {"fastcgi": ("fastcgi", "fastcgi_params"), "uwsgi": ("uwsgi", "uwsgi_params")}


def _app_server_site(release: str, style: str) -> str:
    """The API served by php-fpm (FastCGI) or uwsgi: on a unix socket on the gateway itself, or
    over TCP on the backends, named in an `upstream` pool."""
    protocol = "fastcgi" if style.startswith("php") else "uwsgi"
    service = "php-fpm" if protocol == "fastcgi" else "uwsgi"
    prefix, params = _PASS[protocol]
    head = ""
    if style.endswith("-socket"):
        target = f"unix:{SOCKETS[service]}"
        where = f"{service} on this host, on a unix socket"
    else:
        # max_fails=0: nginx tries every server on every request and never marks one failed, so
        # a fault stays what each request meets (not "no live upstreams" after the first)
        servers = "\n".join(f"    server {h.fqdn}:{PORTS[service]} max_fails=0;" for h in BACKENDS)
        head = f"upstream {service.replace('-', '_')}_pool {{\n{servers}\n}}\n\n"
        target = f"{service.replace('-', '_')}_pool"
        where = f"{service} on the backends"
    script = "\n        fastcgi_param SCRIPT_FILENAME /run/www/api.php;" if protocol == "fastcgi" else ""
    location = f"""{{
        {prefix}_pass {target};
        include {params};{script}
    }}"""
    return f"""\
# API gateway: the users API, served by {where} ({protocol}).
# release {release}
{head}server {{
    listen 80 default_server;
    server_name api.{DOMAIN} {GATEWAY.address};

    {prefix}_connect_timeout {PROXY_CONNECT_TIMEOUT_S}s;
    {prefix}_send_timeout {PROXY_READ_TIMEOUT_S}s;
    {prefix}_read_timeout {PROXY_READ_TIMEOUT_S}s;

    location /api/ {location}

    location = /health {location}
}}
"""


def dnsmasq_conf() -> str:
    return f"""\
# dns1: authoritative for {DOMAIN}; answers only from /run/dnsmasq/lab.hosts
user=root
no-resolv
no-hosts
no-poll
bind-interfaces
listen-address={DNS.address},127.0.0.1
local=/{DOMAIN}/
domain={DOMAIN}
addn-hosts=/run/dnsmasq/lab.hosts
local-ttl=5
log-queries
log-facility=/var/log/dnsmasq.log
pid-file=/run/dnsmasq/dnsmasq.pid
"""


def dns_records(missing: Iterable[str] = (), moved: dict[str, str] | None = None) -> str:
    """The A records dns1 serves: `missing` hosts are left out, `moved` ones get another address."""
    gone = set(missing)
    moved = moved or {}
    lines = [f"# {DOMAIN} records"]
    for host in HOSTS.values():
        if host.name in gone:
            continue
        lines.append(f"{moved.get(host.name, host.address)}\t{host.fqdn}")
    return "\n".join(lines) + "\n"


def sshd_config(host: LabHost) -> str:
    return f"""\
# sshd of lab host {host.name}: root by key only
Port 22
# every address of the host's namespace: a backend keeps its sshd when it is re-addressed
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile /etc/ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PidFile /run/sshd.pid
PrintMotd no
MaxStartups 100:30:200
MaxSessions 64
AcceptEnv LANG LC_*
# ~/.ssh/environment is read, so a test can give a login a PATH without the gateway's tools
PermitUserEnvironment yes
Subsystem sftp /usr/lib/openssh/sftp-server
"""


def etc_hosts(host: LabHost) -> str:
    # only the host itself: everything else must come from dns1, as on a real network
    return f"127.0.0.1\tlocalhost\n{host.address}\t{host.fqdn} {host.name}\n::1\tlocalhost ip6-localhost ip6-loopback\n"


def resolv_conf(host: LabHost) -> str:
    server = "127.0.0.1" if host is DNS else DNS.address
    return f"nameserver {server}\nsearch {DOMAIN}\noptions timeout:1 attempts:2\n"
