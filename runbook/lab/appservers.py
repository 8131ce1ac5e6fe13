"""What serves the API in each site style (DESIGN.md, "Lab"): the HTTP app, php-fpm or uwsgi,
on the backends or on the gateway behind a unix socket, as data the lab's hosts, inventory
and readiness read.

php-fpm and uwsgi are Debian's own packages (php-fpm, uwsgi with uwsgi-plugin-python3), run in
the foreground as each host's services; their configuration is rendered here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runbook.lab.topology import APP_PORT, FCGI_PORT, PHP_SOCKET, UWSGI_PORT, UWSGI_SOCKET


@dataclass(frozen=True)
class Serving:
    """Who serves the API in one site style."""

    #: the service the backends run ("app", "php-fpm", "uwsgi")
    backend: str = "app"
    #: a service the gateway runs besides nginx (its own app, or one behind a unix socket)
    gateway: str | None = None


#: site style -> who serves (configs.SITE_STYLES lists the styles and the gateway's config)
SERVING: dict[str, Serving] = {
    "names-runtime": Serving(),
    "pool-names": Serving(),
    "pool-addresses": Serving(),
    "pool-colocated": Serving(gateway="app"),
    "php-socket": Serving(gateway="php-fpm"),
    "php-tcp": Serving(backend="php-fpm"),
    "uwsgi-tcp": Serving(backend="uwsgi"),
    "uwsgi-socket": Serving(gateway="uwsgi"),
}


def php_fpm_binary() -> str:
    """Debian names php-fpm by its PHP version (php-fpm8.2); the newest one installed."""
    found = sorted(Path("/usr/sbin").glob("php-fpm*"), reverse=True)
    return str(found[0]) if found else "php-fpm"


def missing(style: str) -> str | None:
    """What the machine lacks to serve the API in `style` (a Debian package to install), or None."""
    serving = SERVING[style]
    wanted = {serving.backend, serving.gateway} & {"php-fpm", "uwsgi"}
    if "php-fpm" in wanted and not Path(php_fpm_binary()).is_file():
        return "php-fpm (Debian package php-fpm)"
    if "uwsgi" in wanted and not Path("/usr/lib/uwsgi/plugins/python3_plugin.so").is_file():
        return "uwsgi with its python3 plugin (Debian packages uwsgi, uwsgi-plugin-python3)"
    return None


#: the port each service listens on when it serves over TCP
PORTS = {"app": APP_PORT, "php-fpm": FCGI_PORT, "uwsgi": UWSGI_PORT}
#: the unix socket each service listens on when it runs on the gateway
SOCKETS = {"php-fpm": PHP_SOCKET, "uwsgi": UWSGI_SOCKET}


def process_name(service: str) -> str:
    """The name `pgrep -x` finds the service's processes by (the inventory's `service` var)."""
    return Path(php_fpm_binary()).name if service == "php-fpm" else service


def backend_vars(service: str) -> dict[str, object]:
    """The inventory vars of a backend that runs `service`."""
    script = {"fastcgi_script": "/run/www/api.php"} if service == "php-fpm" else {}
    return {"service": process_name(service), "port": PORTS[service], "health_path": "/health", **script}


def php_fpm_conf(on_socket: bool, max_children: int = 2) -> str:
    """One pool: on a unix socket nginx's workers (www-data) may use, or on TCP port 9000 for
    the gateway only (listen.allowed_clients is left open: the firewall is the lab's concern)."""
    listen = (
        f"listen = {PHP_SOCKET}\nlisten.owner = www-data\nlisten.group = www-data\nlisten.mode = 0660\n"
        if on_socket
        else f"listen = 0.0.0.0:{FCGI_PORT}\n"
    )
    return f"""\
; php-fpm of a lab host: one pool, the users API
[global]
pid = /run/php/php-fpm.pid
error_log = /var/log/php-fpm.log
daemonize = no

[api]
user = www-data
group = www-data
{listen}listen.backlog = 8
pm = static
pm.max_children = {max_children}
catch_workers_output = yes
"""


PHP_APP = """<?php
// the users API, as a PHP script (/health, and /api/users; ?sleep=N holds a worker N seconds)
header('Content-Type: application/json');
$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH);
if (isset($_GET['sleep'])) {
    sleep((int) $_GET['sleep']);
}
if ($path === '/health') {
    echo json_encode(['status' => 'ok', 'host' => gethostname()]), "\\n";
} else {
    echo json_encode(['users' => [['id' => 1, 'name' => 'ada']], 'served_by' => gethostname()]), "\\n";
}
"""

WSGI_APP = '''\
"""The users API as a WSGI app, run by uwsgi's python3 plugin."""
import json
import socket


def application(environ, start_response):
    path = environ.get("PATH_INFO") or "/"
    if path == "/health":
        body = {"status": "ok", "host": socket.gethostname()}
    else:
        body = {"users": [{"id": 1, "name": "ada"}], "served_by": socket.gethostname()}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(body).encode() + b"\\n"]
'''


#: where each service's configuration lives on a lab host, where Debian's packages keep it (the
#: host's own copy of /etc/php and /etc/uwsgi): a socket's path is declared there, so a
#: diagnosis can find which service should own a missing socket
CONF_DIRS = {"php-fpm": "/etc/php", "uwsgi": "/etc/uwsgi"}
UWSGI_INI = "/etc/uwsgi/apps-enabled/api.ini"


def php_fpm_conf_path() -> str:
    version = Path(php_fpm_binary()).name.removeprefix("php-fpm") or "8"
    return f"/etc/php/{version}/fpm/php-fpm.conf"


def uwsgi_ini(on_socket: bool) -> str:
    """The app's uwsgi config: a master and two workers with the python3 plugin, on a unix
    socket nginx's workers may use, or on TCP port 3031."""
    listen = (
        f"uwsgi-socket = {UWSGI_SOCKET}\nchmod-socket = 660\nchown-socket = www-data:www-data\n"
        if on_socket
        else f"uwsgi-socket = 0.0.0.0:{UWSGI_PORT}\n"
    )
    return f"""\
; uwsgi of a lab host: the users API
[uwsgi]
plugins = python3
{listen}wsgi-file = /run/uwsgi/app.py
master = true
processes = 2
uid = www-data
gid = www-data
die-on-term = true
disable-logging = true
"""


def service_files(service: str, on_socket: bool) -> dict[str, str]:
    """The files (path on the host -> text) `service` needs."""
    if service == "php-fpm":
        return {php_fpm_conf_path(): php_fpm_conf(on_socket), "/run/www/api.php": PHP_APP}
    return {UWSGI_INI: uwsgi_ini(on_socket), "/run/uwsgi/app.py": WSGI_APP}


def service_spec(service: str) -> dict[str, object]:
    """The init's spec of `service` (runbook/lab/hostinit.py), in the foreground."""
    if service == "php-fpm":
        # as root (its workers run as www-data), no php.ini, our pool only
        argv = [php_fpm_binary(), "-F", "-R", "-n", "-y", php_fpm_conf_path()]
        return {"argv": argv, "log": "/var/log/php-fpm.out"}
    return {"argv": ["/usr/bin/uwsgi", "--ini", UWSGI_INI], "log": "/var/log/uwsgi.out"}


#: the hog (php-fpm's pool exhausted, a full listen queue): to the FastCGI address in
#: /run/hog/target, a slow request per worker (the script sleeps; php-fpm closes a connection
#: that sends nothing after a few seconds), then idle connections that fill the listen queue,
#: all held until the lab's reset stops it
HOG = """\
import socket
import struct
import time


def record(kind, body):
    return struct.pack(">BBHHBx", 1, kind, 1, len(body), 0) + body


def pair(name, value):
    return bytes([len(name), len(value)]) + name + value


PARAMS = {
    b"SCRIPT_FILENAME": b"/run/www/api.php", b"REQUEST_METHOD": b"GET",
    b"REQUEST_URI": b"/api/users?sleep=3600", b"QUERY_STRING": b"sleep=3600",
}
SLOW = (
    record(1, struct.pack(">HB5x", 1, 0))
    + record(4, b"".join(pair(k, v) for k, v in PARAMS.items())) + record(4, b"") + record(5, b"")
)

target = open("/run/hog/target").read().strip()
held = []
for n in range(24):
    if target.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        address = target[5:]
    else:
        host, _, port = target.rpartition(":")
        s = socket.socket()
        address = (host, int(port))
    s.settimeout(0.5)
    try:
        s.connect(address)
        if n < 2:  # one slow request per worker (pm.max_children = 2)
            s.sendall(SLOW)
            time.sleep(0.2)
        held.append(s)
    except OSError:
        s.close()
open("/run/hog/held", "w").write(str(len(held)))
while True:
    time.sleep(3600)
"""
