"""The machinery of the lab: namespaces, the bridge, each host's files and its processes.

Each lab host is a network namespace `rb-HOST` on the bridge `rb-br0`, plus its own PID,
mount, UTS and IPC namespaces whose PID 1 is `hostinit.py`. A host's private files live under
STATE/hosts/HOST/fs and are bind-mounted over /etc/nginx, /etc/ssh, /etc/hosts,
/etc/resolv.conf, /etc/hostname, /var/log, /root, /tmp and /run inside that host, so the
root namespace can read logs and write control files directly.

Nothing here knows about faults: the stacks (runbook/lab/stacks/) make them with these levers,
and runbook/lab/lab.py puts the two together.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

from runbook.lab import appservers, configs
from runbook.lab.appservers import SERVING
from runbook.lab.topology import (
    APP_PORT,
    BACKENDS,
    BRIDGE,
    BRIDGE_ADDRESS,
    DEFAULT_STATE_DIR,
    DNS,
    GATEWAY,
    HOSTS,
    MOVED_ADDRESSES,
    PREFIX,
    PREFIXLEN,
    LabHost,
)

HERE = Path(__file__).resolve().parent
SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
REQUIRED_PROGRAMS = {
    "ip": "iproute2",
    "unshare": "util-linux",
    "nsenter": "util-linux",
    "setsid": "util-linux",
    "mount": "mount",
    "nginx": "nginx-light",
    "sshd": "openssh-server",
    "ssh-keygen": "openssh-client",
    "dnsmasq": "dnsmasq-base",
    "iptables": "iptables",
}
#: Root-namespace rule letting bridged lab traffic through a host whose FORWARD policy drops
#: (Docker's does, and br_netfilter sends bridged frames through it).
FORWARD_RULE = ["FORWARD", "-i", BRIDGE, "-o", BRIDGE, "-j", "ACCEPT"]
# Binds made in each host, directories then files; /run goes last because every source
# path lives under /run/runbook-lab, which the /run bind hides.
DIR_BINDS = ["/etc/ssh", "/etc/nginx", "/var/log", "/root", "/tmp"]
FILE_BINDS = ["/etc/hosts", "/etc/resolv.conf", "/etc/hostname"]


class LabError(Exception):
    """The lab could not do what was asked; the message says why."""


# One lab per machine: commands that change it take this lock. It is an abstract-namespace
# Unix socket, so it leaves no file behind and dies with its holder, even on SIGKILL.
_LOCK_ADDRESS = "\0runbook-lab-lock"
_lock_depth = 0
_lock_sock: socket.socket | None = None


@contextlib.contextmanager
def lab_lock(timeout: float = 120) -> Iterator[None]:
    """Hold the machine-wide lab lock (re-entrant within a process); wait up to `timeout`."""
    global _lock_depth, _lock_sock
    if _lock_depth == 0:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock.bind(_LOCK_ADDRESS)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    sock.close()
                    raise LabError(f"another process has been changing the lab for over {timeout:.0f}s") from None
                time.sleep(0.2)
        _lock_sock = sock
    _lock_depth += 1
    try:
        yield
    finally:
        _lock_depth -= 1
        if _lock_depth == 0 and _lock_sock is not None:
            _lock_sock.close()
            _lock_sock = None


def which(name: str) -> str | None:
    return shutil.which(name, path=os.environ.get("PATH", "") + ":" + SBIN_PATH)


def requirements_problem() -> str | None:
    """Why the lab cannot run here, or None."""
    if not sys.platform.startswith("linux"):
        return f"the live lab needs Linux (network, PID and mount namespaces); this is {sys.platform}"
    if os.geteuid() != 0:
        return (
            "the live lab needs root: it creates network namespaces, a bridge and iptables "
            "rules (try: sudo runbook lab up)"
        )
    missing = [f"{prog} ({pkg})" for prog, pkg in REQUIRED_PROGRAMS.items() if not which(prog)]
    if missing:
        return "the live lab needs these programs: " + ", ".join(missing)
    if not Path("/proc/self/ns/net").exists():
        return "the live lab needs network namespaces (no /proc/self/ns/net)"
    return None


def run(
    argv: list[str], *, check: bool = True, timeout: float = 30, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": os.environ.get("PATH", "") + ":" + SBIN_PATH}
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            env=env,
            cwd="/",
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"{' '.join(argv)}: timed out after {timeout}s") from exc
    except FileNotFoundError as exc:
        raise LabError(f"{argv[0]}: not installed") from exc
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        raise LabError(f"{' '.join(argv)}: exit {proc.returncode}: {detail}")
    return proc


# --- probes -------------------------------------------------------------------------------


def ed25519_key(path: Path, comment: str) -> None:
    """A new passphrase-less ed25519 key pair at `path` (and `path`.pub)."""
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])


def tcp_open(address: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def dns_query_a(server: str, name: str, timeout: float = 1.0) -> tuple[int, list[str]] | None:
    """(rcode, addresses) of an A query, or None when the server does not answer.

    Hand-rolled so the lab needs nothing beyond the standard library.
    """
    qid = int.from_bytes(os.urandom(2), "big")
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.strip(".").split(".")) + b"\0"
    packet = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(packet, (server, 53))
            data = sock.recv(2048)
        except OSError:
            return None
    rid, flags, _qd, ancount, _ns, _ar = struct.unpack(">HHHHHH", data[:12])
    if rid != qid:
        return None
    pos = 12 + len(qname) + 4
    addresses = []
    for _ in range(ancount):
        if data[pos] & 0xC0 == 0xC0:  # compressed name pointer
            pos += 2
        else:
            while data[pos]:
                pos += data[pos] + 1
            pos += 1
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", data[pos : pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            addresses.append(socket.inet_ntoa(data[pos : pos + 4]))
        pos += rdlen
    return flags & 0xF, addresses


def http_status(url: str, timeout: float = 10.0) -> int | str:
    """The HTTP status a client gets for `url`, or the error text when there is none."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code
    except (urllib.error.URLError, OSError) as exc:
        return f"error: {getattr(exc, 'reason', exc)}"


class Hosts:
    """The lab's hosts as namespaces and processes, with their files under `state_dir`."""

    def __init__(self, state_dir: Path | str = DEFAULT_STATE_DIR):
        self.state = Path(state_dir)

    # paths (root namespace view)
    @property
    def inventory_path(self) -> Path:
        return self.state / "inventory.yaml"

    @property
    def known_hosts_path(self) -> Path:
        return self.state / "known_hosts"

    @property
    def key_path(self) -> Path:
        return self.state / "id_ed25519"

    @property
    def fault_path(self) -> Path:
        return self.state / "fault.json"

    @property
    def layout_path(self) -> Path:
        return self.state / "layout.json"

    def layout(self) -> dict:
        """How the gateway names its backends (`site`, one of configs.SITE_STYLES) and which
        backends have moved to their MOVED_ADDRESSES (`moved`)."""
        try:
            data = json.loads(self.layout_path.read_text())
        except (OSError, ValueError):
            data = {}
        return {
            "site": data.get("site") or "names-runtime",
            "moved": list(data.get("moved") or []),
            "dead": list(data.get("dead") or []),
        }

    def save_layout(
        self, site: str | None = None, moved: list[str] | None = None, dead: list[str] | None = None
    ) -> None:
        """`dead`: hosts that answer nothing at all (the dead-host fault): readiness skips them."""
        layout = self.layout()
        if site is not None:
            layout["site"] = site
        if moved is not None:
            layout["moved"] = sorted(moved)
        if dead is not None:
            layout["dead"] = sorted(dead)
        write_file(self.layout_path, json.dumps(layout))

    def services(self, host: str) -> list[str]:
        """The services `host` runs when healthy in the current layout."""
        serving = SERVING[self.layout()["site"]]
        own = [serving.backend if s == "app" else s for s in HOSTS[host].services]
        extra = [serving.gateway] if host == GATEWAY.name and serving.gateway else []
        return [*own, *extra]

    def address(self, host: str) -> str:
        """The host's current address (a moved backend's is its MOVED_ADDRESSES one)."""
        return MOVED_ADDRESSES[host] if host in self.layout()["moved"] else HOSTS[host].address

    def host_dir(self, host: str) -> Path:
        return self.state / "hosts" / host

    def fs(self, host: str) -> Path:
        """The root of `host`'s private files: fs/etc/nginx is the host's /etc/nginx."""
        return self.host_dir(host) / "fs"

    def error_log(self) -> Path:
        return self.fs(GATEWAY.name) / "var/log/nginx/error.log"

    def access_log(self) -> Path:
        return self.fs(GATEWAY.name) / "var/log/nginx/access.log"

    # --- inspection ---------------------------------------------------------------------

    def netns_list(self) -> list[str]:
        out = run(["ip", "netns", "list"], check=False).stdout
        return [line.split()[0] for line in out.splitlines() if line.strip()]

    def netns_pids(self, netns: str) -> list[int]:
        out = run(["ip", "netns", "pids", netns], check=False).stdout
        return [int(p) for p in out.split() if p.isdigit()]

    def init_pid(self, host: str) -> int | None:
        """Root-namespace PID of the host's PID 1 (the one whose innermost PID is 1)."""
        for pid in self.netns_pids(PREFIX + host):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("NSpid:"):
                    ids = line.split()[1:]
                    if len(ids) >= 2 and ids[-1] == "1":
                        return pid
        return None

    def link_exists(self, name: str) -> bool:
        return run(["ip", "link", "show", "dev", name], check=False).returncode == 0

    def lab_links(self) -> list[str]:
        out = run(["ip", "-o", "link", "show"], check=False).stdout
        names = []
        for line in out.splitlines():
            parts = line.split(":", 2)
            if len(parts) >= 2:
                name = parts[1].strip().split("@", 1)[0]
                if name.startswith(PREFIX):
                    names.append(name)
        return names

    def service_status(self, host: str) -> dict:
        try:
            return json.loads((self.fs(host) / "run/lab-init/status.json").read_text())
        except (OSError, ValueError):
            return {}

    def stray_processes(self) -> list[int]:
        """Lab processes found by what they run, for when namespaces are already gone."""
        marker = str(HERE / "hostinit.py").encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if marker in cmdline and str(self.state).encode() in cmdline:
                pids.append(int(entry.name))
        return pids

    def lab_mounts(self) -> list[str]:
        mounts = []
        with contextlib.suppress(OSError):
            for line in Path("/proc/self/mounts").read_text().splitlines():
                target = line.split()[1]
                if target.startswith(str(self.state)) or target.startswith("/run/netns/" + PREFIX):
                    mounts.append(target)
        return mounts

    def forward_rule_present(self) -> bool:
        if not which("iptables"):
            return False
        return run(["iptables", "-C", *FORWARD_RULE], check=False).returncode == 0

    # --- running things inside a host ---------------------------------------------------

    def exec_in(
        self, host: str, argv: list[str], *, check: bool = True, timeout: float = 20
    ) -> subprocess.CompletedProcess[str]:
        """Run `argv` inside `host` (its network, mount, PID, UTS and IPC namespaces)."""
        pid = self.init_pid(host)
        if pid is None:
            raise LabError(f"lab host {host} is not running (try: runbook lab up)")
        return run(
            ["nsenter", "-t", str(pid), "-n", "-m", "-p", "-u", "-i", "--", *argv],
            check=check,
            timeout=timeout,
        )

    def reconcile(self, host: str, services: list[str], timeout: float = 15) -> dict:
        """Ask the host's init to run exactly `services`; wait until it has."""
        token = uuid.uuid4().hex
        control = self.fs(host) / "run/lab-init"
        write_file(control / "wanted", json.dumps({"token": token, "services": services}))
        pid = self.init_pid(host)
        if pid is None:
            raise LabError(f"lab host {host} is not running (try: runbook lab up)")
        os.kill(pid, signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.service_status(host)
            if status.get("token") == token:
                return status
            time.sleep(0.05)
        raise LabError(f"lab host {host}: its init did not apply {services} within {timeout}s")

    # --- building -----------------------------------------------------------------------

    def check_addresses_free(self) -> None:
        out = run(["ip", "-o", "-4", "addr", "show"], check=False).stdout
        for line in out.splitlines():
            fields = line.split()
            if len(fields) >= 4 and fields[3].startswith("198.18.0.") and fields[1] != BRIDGE:
                raise LabError(
                    f"198.18.0.0/24 is already in use on {fields[1]} ({fields[3]}); the lab needs it for itself"
                )

    def make_keys(self) -> None:
        if not self.key_path.exists():
            ed25519_key(self.key_path, "runbook-lab")
        os.chmod(self.key_path, 0o600)

    def make_network(self) -> None:
        run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        run(["ip", "addr", "add", f"{BRIDGE_ADDRESS}/{PREFIXLEN}", "dev", BRIDGE])
        run(["ip", "link", "set", BRIDGE, "up"])
        for host in HOSTS.values():
            ns = host.netns
            run(["ip", "netns", "add", ns])
            run(
                [
                    "ip",
                    "link",
                    "add",
                    host.veth,
                    "type",
                    "veth",
                    "peer",
                    "name",
                    "eth0",
                    "netns",
                    ns,
                ]
            )
            run(["ip", "link", "set", host.veth, "master", BRIDGE, "up"])
            run(["ip", "-n", ns, "addr", "add", f"{host.address}/{PREFIXLEN}", "dev", "eth0"])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        if self.forward_needs_rule():
            run(["iptables", "-I", *FORWARD_RULE])

    def forward_needs_rule(self) -> bool:
        try:
            bridged = Path("/proc/sys/net/bridge/bridge-nf-call-iptables").read_text().strip()
        except OSError:
            return False  # br_netfilter not loaded: bridged frames skip iptables
        if bridged != "1":
            return False
        policy = run(["iptables", "-S", "FORWARD"], check=False).stdout.splitlines()
        return bool(policy) and policy[0].strip() != "-P FORWARD ACCEPT"

    def make_host_files(self, host: LabHost) -> None:
        fs = self.fs(host.name)
        if fs.exists():
            shutil.rmtree(fs)
        for d in ["etc/ssh", "etc/nginx", "var/log", "root", "tmp", "run/sshd", "run/lab-init"]:
            (fs / d).mkdir(parents=True, exist_ok=True)
        os.chmod(fs / "root", 0o700)
        os.chmod(fs / "tmp", 0o1777)
        # files
        write_file(fs / "etc/hosts", configs.etc_hosts(host))
        write_file(fs / "etc/hostname", host.name + "\n")
        resolv = configs.resolv_conf(host)
        real = os.path.realpath("/etc/resolv.conf")
        if real.startswith("/run/"):
            # resolv.conf links into /run, which the host gets privately: write it there
            write_file(fs / real.lstrip("/"), resolv)
        write_file(fs / "etc/resolv.conf", resolv)
        # ssh: host key, the lab key as root's only authorized key
        ssh = fs / "etc/ssh"
        for extra in ("moduli", "ssh_config"):
            if Path("/etc/ssh", extra).is_file():
                shutil.copy(Path("/etc/ssh", extra), ssh / extra)
        ed25519_key(ssh / "ssh_host_ed25519_key", f"root@{host.name}")
        write_file(ssh / "sshd_config", configs.sshd_config(host))
        write_file(ssh / "authorized_keys", self.key_path.with_suffix(".pub").read_text(), 0o600)
        services: dict[str, dict] = {
            "sshd": {
                "argv": [
                    which("sshd") or "/usr/sbin/sshd",
                    "-D",
                    "-e",
                    "-f",
                    "/etc/ssh/sshd_config",
                ],
                "log": "/var/log/sshd.log",
            }
        }
        if "nginx" in host.services:
            self.make_nginx(fs)
            services["nginx"] = {
                "argv": [which("nginx") or "/usr/sbin/nginx", "-g", "daemon off;"],
                "log": "/var/log/nginx/nginx.out",
            }
        if "app" in (*host.services, *host.optional):
            app = fs / "run/app"
            app.mkdir(parents=True)
            shutil.copy(HERE / "backend_app.py", app / "app.py")
            write_file(app / "control.json", json.dumps({"mode": "healthy"}))
            (fs / "var/log/app").mkdir()
            services["app"] = {
                # argv[0] "app": `ps` shows the service by name, as a packaged daemon would
                "argv": [
                    "app",
                    "/run/app/app.py",
                    "--port",
                    str(APP_PORT),
                    "--control",
                    "/run/app/control.json",
                ],
                "executable": system_python(),
                "log": "/var/log/app/app.log",
            }
            # the same app bound to loopback only (the loopback-bind fault): up, and out of reach
            services["app-loopback"] = {
                **services["app"],
                "argv": [*services["app"]["argv"], "--bind", "127.0.0.1"],
            }
        # php-fpm and uwsgi: on the gateway behind a unix socket, on a backend over TCP
        for service in ("php-fpm", "uwsgi"):
            if service in host.optional:
                on_socket = "gateway" in host.roles
                for path, text in appservers.service_files(service, on_socket).items():
                    write_file(fs / path.lstrip("/"), text)
                (fs / "run" / ("php" if service == "php-fpm" else "uwsgi")).mkdir(parents=True, exist_ok=True)
                services[service] = appservers.service_spec(service)
                write_file(fs / "run/hog/hog.py", appservers.HOG)
                services["hog"] = {
                    "argv": ["hog", "/run/hog/hog.py"],
                    "executable": system_python(),
                    "log": "/var/log/hog.log",
                }
        if "dnsmasq" in host.services:
            dns_dir = fs / "run/dnsmasq"
            dns_dir.mkdir(parents=True)
            write_file(dns_dir / "dnsmasq.conf", configs.dnsmasq_conf())
            write_file(dns_dir / "lab.hosts", configs.dns_records())
            services["dnsmasq"] = {
                "argv": [
                    which("dnsmasq") or "/usr/sbin/dnsmasq",
                    "--keep-in-foreground",
                    "--conf-file=/run/dnsmasq/dnsmasq.conf",
                ],
                "log": "/var/log/dnsmasq.out",
            }
        # the host's own copy of a service's config dir, where the machine has that dir to bind on
        confs = [d for s, d in appservers.CONF_DIRS.items() if s in host.optional and Path(d).is_dir()]
        binds = [[str(fs / d.lstrip("/")), d] for d in [*DIR_BINDS, *confs]]
        binds += [[str(fs / f.lstrip("/")), f] for f in FILE_BINDS]
        binds.append([str(fs / "run"), "/run"])
        spec = {
            "hostname": host.name,
            "binds": binds,
            "control": "/run/lab-init",
            "services": services,
        }
        write_file(self.host_dir(host.name) / "init.json", json.dumps(spec, indent=1))
        boot = {"token": "boot", "services": [s for s in services if s in host.services]}
        write_file(fs / "run/lab-init/wanted", json.dumps(boot))

    def make_nginx(self, fs: Path) -> None:
        etc = fs / "etc/nginx"
        shutil.rmtree(etc)
        if Path("/etc/nginx").is_dir():
            shutil.copytree("/etc/nginx", etc, symlinks=True)
        else:
            etc.mkdir()
        for sub in ("sites-available", "sites-enabled", "conf.d", "modules-enabled"):
            (etc / sub).mkdir(exist_ok=True)
        for entry in (etc / "sites-enabled").iterdir():
            entry.unlink()
        write_file(etc / "nginx.conf", configs.NGINX_CONF)
        self.write_site(fs, release=release_stamp())
        (etc / "sites-enabled" / configs.SITE_NAME).symlink_to(f"/etc/nginx/sites-available/{configs.SITE_NAME}")
        (fs / "var/log/nginx").mkdir(parents=True, exist_ok=True)

    def write_site(self, fs: Path, release: str, bad_port_hosts: list[str] = ()) -> bool:  # type: ignore[assignment]
        """Write the gateway site in the layout's style; True when its content changed."""
        path = fs / "etc/nginx/sites-available" / configs.SITE_NAME
        addresses = {h.name: self.address(h.name) for h in BACKENDS} if self.state.exists() else {}
        text = configs.nginx_site(release, bad_port_hosts, self.layout()["site"], addresses)
        old = path.read_text() if path.exists() else None
        if old is not None and _strip_release(old) == _strip_release(text):
            return False
        write_file(path, text)
        return True

    def start_host(self, host: LabHost) -> None:
        hdir = self.host_dir(host.name)
        argv = [
            "setsid",
            "-f",
            "ip",
            "netns",
            "exec",
            host.netns,
            "unshare",
            "--pid",
            "--mount",
            "--uts",
            "--ipc",
            "--fork",
            "--mount-proc",
            "--propagation",
            "private",
            "--kill-child",
            system_python(),
            str(HERE / "hostinit.py"),
            str(hdir / "init.json"),
        ]
        env = {**os.environ, "PATH": os.environ.get("PATH", "") + ":" + SBIN_PATH}
        with open(hdir / "init.log", "ab") as out:
            subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                env=env,
                cwd="/",
                timeout=10,
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.service_status(host.name).get("token") == "boot":
                return
            time.sleep(0.05)
        log_tail = (hdir / "init.log").read_text(errors="replace")[-2000:]
        raise LabError(f"lab host {host.name} did not start:\n{log_tail}")

    # --- levers the stacks pull -----------------------------------------------------------

    def set_dns_records(self, missing: list[str] = (), moved: dict[str, str] | None = None) -> bool:  # type: ignore[assignment]
        """Make dns1 serve these records and wait until it does; True when they changed."""
        moved = moved or {}
        path = self.fs(DNS.name) / "run/dnsmasq/lab.hosts"
        text = configs.dns_records(missing, moved)
        if path.exists() and path.read_text() == text:
            return False
        write_file(path, text)
        # SIGHUP: dnsmasq clears its cache and re-reads addn-hosts
        self.exec_in(DNS.name, ["pkill", "-HUP", "-x", "dnsmasq"], check=False)
        expected = {h.name: [] if h.name in missing else [moved.get(h.name, h.address)] for h in BACKENDS}
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            answers = {h.name: dns_query_a(DNS.address, h.fqdn, timeout=0.5) for h in BACKENDS}
            if all(a is not None and a[1] == expected[n] for n, a in answers.items()):
                return True
            time.sleep(0.05)
        raise LabError("dns1 did not pick up its new records")

    def readdress(self, moved: list[str]) -> bool:
        """Move the `moved` backends to their MOVED_ADDRESSES and the others home; True when
        anything moved. A moved backend's old address goes to dns1, where nothing listens on
        the app's port: a connection to it is refused at once, as when an address is reused."""
        before = set(self.layout()["moved"])
        if before == set(moved):
            return False
        for host in BACKENDS:
            home, away = HOSTS[host.name].address, MOVED_ADDRESSES[host.name]
            old, new = (home, away) if host.name in moved else (away, home)
            if (host.name in moved) == (host.name in before):
                continue
            if host.name in moved:
                run(["ip", "-n", host.netns, "addr", "del", f"{old}/{PREFIXLEN}", "dev", "eth0"], check=False)
                run(["ip", "-n", host.netns, "addr", "add", f"{new}/{PREFIXLEN}", "dev", "eth0"])
                run(["ip", "-n", DNS.netns, "addr", "add", f"{home}/{PREFIXLEN}", "dev", "eth0"])
            else:
                run(["ip", "-n", DNS.netns, "addr", "del", f"{home}/{PREFIXLEN}", "dev", "eth0"], check=False)
                run(["ip", "-n", host.netns, "addr", "del", f"{old}/{PREFIXLEN}", "dev", "eth0"], check=False)
                run(["ip", "-n", host.netns, "addr", "add", f"{new}/{PREFIXLEN}", "dev", "eth0"])
        self.save_layout(moved=moved)
        # the gateway (and the machine) must ask again who has each address now
        for ns in (GATEWAY.netns, *(h.netns for h in BACKENDS), DNS.netns):
            run(["ip", "-n", ns, "neigh", "flush", "all"], check=False)
        run(["ip", "neigh", "flush", "dev", BRIDGE], check=False)
        return True

    def reload_nginx(self) -> None:
        self.exec_in(GATEWAY.name, ["nginx", "-t", "-q"])
        self.exec_in(GATEWAY.name, ["nginx", "-s", "reload"])
        # reload is asynchronous: new workers start while old ones drain
        time.sleep(0.5)

    # --- removal ------------------------------------------------------------------------

    def remove_all(self) -> list[str]:
        """Kill every lab process, delete namespaces, links, rule, mounts and state; say what went."""
        removed: list[str] = []
        for host in HOSTS:
            pid = self.init_pid(host)
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(self.init_pid(h) for h in HOSTS):
            time.sleep(0.05)
        namespaces = [ns for ns in self.netns_list() if ns.startswith(PREFIX)]
        # whatever survived the inits (or lives in a namespace without one) is killed
        for pid in self.stray_processes() + [p for ns in namespaces for p in self.netns_pids(ns)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                removed.append(f"process {pid}")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(self.netns_pids(ns) for ns in namespaces):
            time.sleep(0.05)
        for ns in namespaces:
            run(["ip", "netns", "del", ns], check=False)
            removed.append(f"netns {ns}")
        # veths die with their namespace, but asynchronously: delete what is still there
        for name in self.lab_links():
            if name != BRIDGE:
                run(["ip", "link", "del", name], check=False)
        if self.link_exists(BRIDGE):
            run(["ip", "link", "del", BRIDGE], check=False)
            removed.append(f"link {BRIDGE}")
        while self.forward_rule_present():
            run(["iptables", "-D", *FORWARD_RULE], check=False)
            removed.append("iptables " + " ".join(FORWARD_RULE))
        for target in reversed(self.lab_mounts()):
            run(["umount", "-l", target], check=False)
            removed.append(f"mount {target}")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.lab_links():
            time.sleep(0.05)
        if self.state.exists():
            shutil.rmtree(self.state, ignore_errors=True)
            removed.append(f"dir {self.state}")
        return removed


def system_python() -> str:
    """The interpreter lab hosts run (stdlib only; a virtualenv under /root would be hidden)."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    return sys.executable


def write_file(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.chmod(tmp, mode)
    tmp.replace(path)


def release_stamp() -> str:
    return time.strftime("%Y.%m.%d-%H%M%S")


def _strip_release(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("# release "))
