"""A real OpenSSH sshd on loopback, with generated host and user keys, for the transport tests.

Every sshd runs from its own sshd_config in a temporary directory and is stopped by its
fixture. Throwaway local users (password and sudo tests) are created with useradd and
removed afterwards, with their /etc/sudoers.d entries.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from runbook.inventory import Host
from runbook.transports.factory import make_transport

SSHD = "/usr/sbin/sshd"

pytestmark = pytest.mark.sshd


def _require_sshd() -> None:
    if not Path(SSHD).exists():
        pytest.skip(f"{SSHD} is missing: apt-get install openssh-server")
    if not shutil.which("ssh-keygen"):
        pytest.skip("ssh-keygen is missing: apt-get install openssh-client")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path, kind: str = "ed25519") -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", path.name, "-f", str(path)], check=True)
    return path


@dataclass
class Keys:
    dir: Path
    host_key: Path  # ed25519 host key of every sshd
    user_key: Path  # root's (and the throwaway users') authorized key
    wrong_key: Path  # a key no server accepts


@dataclass
class Sshd:
    port: int
    keys: Keys
    config: Path
    proc: subprocess.Popen

    def known_hosts_line(self, host: str = "127.0.0.1") -> str:
        keytype, b64 = self.keys.host_key.with_name("host_ed25519.pub").read_text().split()[:2]
        return f"[{host}]:{self.port} {keytype} {b64}\n"

    def host(self, name: str, known_hosts: Path, **kw) -> Host:
        fields = {
            "address": "127.0.0.1",
            "port": self.port,
            "user": "root",
            "identity_file": str(self.keys.user_key),
            "known_hosts": str(known_hosts),
            "connect_timeout": 15.0,
        }
        fields.update(kw)
        return Host(name=name, **fields)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture(scope="session")
def ssh_keys() -> Iterator[Keys]:
    _require_sshd()
    # not under pytest's 0700 tmp: throwaway users must read their authorized_keys here
    d = Path(tempfile.mkdtemp(prefix="runbook-sshd-"))
    d.chmod(0o755)
    keys = Keys(
        dir=d,
        host_key=keygen(d / "host_ed25519"),
        user_key=keygen(d / "user_ed25519"),
        wrong_key=keygen(d / "wrong_ed25519"),
    )
    pub = (d / "user_ed25519.pub").read_text()
    (d / "authorized_keys_root").write_text(pub)
    yield keys
    shutil.rmtree(d, ignore_errors=True)


def start_sshd(keys: Keys, *, max_sessions: int = 10, max_startups: str = "10:30:100", **opts: str):
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation directory
    port = free_port()
    options = {
        "Port": str(port),
        "ListenAddress": "127.0.0.1",
        "HostKey": str(keys.host_key),
        "PidFile": str(keys.dir / f"sshd-{port}.pid"),
        "AuthorizedKeysFile": str(keys.dir / "authorized_keys_%u"),
        "StrictModes": "no",
        "UsePAM": "no",
        "PermitRootLogin": "yes",
        "PasswordAuthentication": "yes",
        "KbdInteractiveAuthentication": "no",
        "PubkeyAuthentication": "yes",
        "MaxSessions": str(max_sessions),
        "MaxStartups": max_startups,
        "MaxAuthTries": "10",
        "AllowTcpForwarding": "yes",
        "UseDNS": "no",
        "LogLevel": "ERROR",
        "PrintMotd": "no",
    }
    options.update(opts)
    config = keys.dir / f"sshd_config-{port}"
    config.write_text("".join(f"{k} {v}\n" for k, v in options.items()))
    subprocess.run([SSHD, "-t", "-f", str(config)], check=True)
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = Sshd(port, keys, config, proc)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(64).startswith(b"SSH-"):
                    return server
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            server.stop()
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"sshd did not start on port {port}: {err}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def sshd(ssh_keys: Keys) -> Iterator[Sshd]:
    """The main server: MaxSessions 4 and MaxStartups 5:30:10, so bounds are exercised."""
    server = start_sshd(ssh_keys, max_sessions=4, max_startups="5:30:10")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def jump_sshd(ssh_keys: Keys) -> Iterator[Sshd]:
    server = start_sshd(ssh_keys)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nojump_sshd(ssh_keys: Keys) -> Iterator[Sshd]:
    """A bastion that refuses forwarding: proves the jump path really goes through it."""
    server = start_sshd(ssh_keys, AllowTcpForwarding="no")
    yield server
    server.stop()


@pytest.fixture
def known_hosts(tmp_path: Path, sshd: Sshd, jump_sshd: Sshd) -> Path:
    kh = tmp_path / "known_hosts"
    kh.write_text(sshd.known_hosts_line() + jump_sshd.known_hosts_line())
    return kh


@pytest.fixture(params=["asyncssh", "paramiko"])
def transport_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def make(transport_kind: str):
    """make(**options) -> a transport of the parametrised kind, closed after the test."""
    made = []

    def factory(**options):
        t = make_transport(transport_kind, **options)
        made.append(t)
        return t

    yield factory
    for t in made:
        with contextlib.suppress(Exception):
            await t.close()


@dataclass
class LocalUser:
    name: str
    password: str


def _need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to create a throwaway local user (useradd)")
    if not shutil.which("useradd"):
        pytest.skip("useradd is missing (apt-get install passwd)")


@contextlib.contextmanager
def throwaway_user(keys: Keys, sudoers: str | None) -> Iterator[LocalUser]:
    _need_root()
    name = "rb" + uuid.uuid4().hex[:8]
    password = uuid.uuid4().hex
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], check=True)
    sudoers_file = Path(f"/etc/sudoers.d/runbook-test-{name}")
    try:
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
        auth = keys.dir / f"authorized_keys_{name}"
        auth.write_text((keys.dir / "user_ed25519.pub").read_text())
        auth.chmod(0o644)
        if sudoers is not None:
            sudoers_file.write_text(sudoers.format(user=name) + "\n")
            sudoers_file.chmod(0o440)
        yield LocalUser(name, password)
    finally:
        sudoers_file.unlink(missing_ok=True)
        subprocess.run(["userdel", "-r", "-f", name], check=False, capture_output=True)


@pytest.fixture(scope="session")
def nopasswd_user(ssh_keys: Keys) -> Iterator[LocalUser]:
    if not shutil.which("sudo"):
        pytest.skip("sudo is missing: apt-get install sudo")
    with throwaway_user(ssh_keys, "{user} ALL=(ALL) NOPASSWD: ALL") as user:
        yield user


@pytest.fixture(scope="session")
def passwd_user(ssh_keys: Keys) -> Iterator[LocalUser]:
    """A user whose sudo asks for a password (so `sudo -n` fails)."""
    with throwaway_user(ssh_keys, "{user} ALL=(ALL) ALL") as user:
        yield user
