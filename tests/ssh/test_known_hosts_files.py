"""Every UserKnownHostsFile and GlobalKnownHostsFile from `ssh -G` is read, as OpenSSH reads
them, against a real sshd, for both transports (the gap issue 14 left in host-key checking)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from runbook.inventory.model import Host
from runbook.transports.base import ErrorKind, TransportError

from .conftest import Keys, Sshd, keygen

pytestmark = pytest.mark.sshd


def _never_prompt(host: object, fp: str) -> object:
    raise AssertionError("prompted for a key that must be decided by the files")


class Files:
    """Two user files and a global file, named to ssh by an ssh_config of their own."""

    def __init__(self, tmp_path: Path, sshd: Sshd, ssh_keys: Keys, extra: str = ""):
        self.user1 = tmp_path / "kh_user1"
        self.user2 = tmp_path / "kh_user2"
        self.glob = tmp_path / "kh_global"
        self.config = tmp_path / "ssh_config"
        self.config.write_text(
            f"Host target\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User root\n"
            f"  IdentityFile {ssh_keys.user_key}\n"
            f"  UserKnownHostsFile {self.user1} {self.user2}\n  GlobalKnownHostsFile {self.glob}\n{extra}"
        )
        self.host = Host(name="app1", address="target", ssh_config=str(self.config), connect_timeout=15.0)

    def snapshot(self) -> dict[str, str | None]:
        return {p.name: p.read_text() if p.exists() else None for p in (self.user1, self.user2, self.glob)}


def _other_key_line(tmp_path: Path, sshd: Sshd) -> str:
    """A line for this host with an ed25519 key the server does not have (a changed key)."""
    other = keygen(tmp_path / "other_ed25519")
    keytype, b64 = other.with_name(other.name + ".pub").read_text().split()[:2]
    return f"[127.0.0.1]:{sshd.port} {keytype} {b64}\n"


async def test_key_only_in_the_second_user_file_hashed_connects(make, sshd: Sshd, ssh_keys: Keys, tmp_path: Path):
    files = Files(tmp_path, sshd, ssh_keys)
    files.user2.write_text(sshd.known_hosts_line())
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(files.user2)], check=True, capture_output=True)
    assert "|1|" in files.user2.read_text() and "127.0.0.1" not in files.user2.read_text()
    before = files.snapshot()
    t = make(host_key_prompt=_never_prompt)
    res = await t.run(files.host, "echo ok", timeout=10)
    assert res.stdout.strip() == "ok"
    assert files.snapshot() == before  # known: nothing recorded, first file not created
    assert before["kh_user1"] is None


async def test_key_only_in_the_global_file_connects(make, sshd: Sshd, ssh_keys: Keys, tmp_path: Path):
    files = Files(tmp_path, sshd, ssh_keys)
    files.glob.write_text(sshd.known_hosts_line())
    before = files.snapshot()
    t = make(accept_new_host_keys=True, host_key_prompt=_never_prompt)
    res = await t.run(files.host, "echo ok", timeout=10)
    assert res.stdout.strip() == "ok"
    assert files.snapshot() == before  # known from the global file: not copied into a user file


async def test_changed_key_in_the_global_file_is_refused(make, sshd: Sshd, ssh_keys: Keys, tmp_path: Path):
    """The user files do not know the host, the global file holds another key: changed, even
    with --accept-new-host-keys, and nothing is appended to the first user file."""
    files = Files(tmp_path, sshd, ssh_keys)
    files.user1.write_text("[unrelated.example]:22 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB\n")
    files.glob.write_text(_other_key_line(tmp_path, sshd))
    before = files.snapshot()
    t = make(accept_new_host_keys=True, host_key_prompt=_never_prompt)
    with pytest.raises(TransportError) as info:
        await t.run(files.host, "true", timeout=10)
    err = info.value
    assert err.kind is ErrorKind.HOSTKEY_CHANGED, err.message
    assert "HOST KEY CHANGED" in err.message and str(files.glob) in err.message
    assert files.snapshot() == before


async def test_revoked_in_the_second_file_refuses_a_key_the_first_knows(
    make, sshd: Sshd, ssh_keys: Keys, tmp_path: Path
):
    files = Files(tmp_path, sshd, ssh_keys)
    files.user1.write_text(sshd.known_hosts_line())
    files.user2.write_text("@revoked " + sshd.known_hosts_line())
    before = files.snapshot()
    t = make(accept_new_host_keys=True, host_key_prompt=_never_prompt)
    with pytest.raises(TransportError) as info:
        await t.run(files.host, "true", timeout=10)
    assert info.value.kind is ErrorKind.HOSTKEY_CHANGED
    assert "marked @revoked" in info.value.message and str(files.user2) in info.value.message
    assert files.snapshot() == before


@pytest.mark.parametrize("how", ["flag", "ssh_config"])
async def test_accept_new_appends_to_the_first_user_file_only(
    make, sshd: Sshd, ssh_keys: Keys, tmp_path: Path, how: str
):
    extra = "  StrictHostKeyChecking accept-new\n" if how == "ssh_config" else ""
    files = Files(tmp_path, sshd, ssh_keys, extra)
    files.user2.write_text("[unrelated.example]:22 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB\n")
    before = files.snapshot()
    t = make(accept_new_host_keys=how == "flag", host_key_prompt=_never_prompt)
    res = await t.run(files.host, "echo ok", timeout=10)
    assert res.stdout.strip() == "ok"
    after = files.snapshot()
    assert after["kh_user1"] == sshd.known_hosts_line()
    assert after["kh_user2"] == before["kh_user2"] and after["kh_global"] is None
