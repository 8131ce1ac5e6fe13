"""Host keys, authentication, jump hosts, ssh_config aliases, inventories and sudo, against a
real sshd, for both transports."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from runbook.inventory import Host, load_inventory
from runbook.transports.base import ErrorKind, TransportError

from .conftest import Keys, LocalUser, Sshd, keygen

pytestmark = pytest.mark.sshd


def fingerprint(pub: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True)
    return out.stdout.split()[1]


# --- host keys ----------------------------------------------------------------------------


async def test_unknown_host_key_is_refused_with_its_fingerprint(make, sshd: Sshd, tmp_path):
    kh = tmp_path / "known_hosts"  # does not exist
    t = make()
    host = sshd.host("app1", kh)
    with pytest.raises(TransportError) as info:
        await t.run(host, "true", timeout=10)
    err = info.value
    assert err.kind is ErrorKind.HOSTKEY_UNKNOWN
    assert err.fingerprint == fingerprint(sshd.keys.dir / "host_ed25519.pub")
    assert err.fingerprint in err.message
    assert "--accept-new-host-keys" in err.message
    assert str(kh) in err.message
    assert not kh.exists()  # nothing recorded
    assert t.connection_state(host) == "key-unknown"


async def test_accept_new_records_the_key_openssh_style(make, sshd: Sshd, tmp_path):
    kh = tmp_path / "known_hosts"
    t = make(accept_new_host_keys=True)
    res = await t.run(sshd.host("app1", kh), "echo hi", timeout=10)
    assert res.stdout == "hi\n"
    lines = kh.read_text().splitlines()
    assert len(lines) == 1
    # OpenSSH's own tools read what we wrote
    found = subprocess.run(
        ["ssh-keygen", "-F", f"[127.0.0.1]:{sshd.port}", "-f", str(kh)],
        capture_output=True,
        text=True,
    )
    assert found.returncode == 0
    # and a transport that does not accept new keys now trusts it
    strict = make()
    assert (await strict.run(sshd.host("app1", kh), "echo again", timeout=10)).exit_status == 0


async def test_hashed_known_hosts_entry_is_honoured(make, sshd: Sshd, tmp_path):
    kh = tmp_path / "known_hosts"
    kh.write_text(sshd.known_hosts_line())
    subprocess.run(["ssh-keygen", "-H", "-f", str(kh)], check=True, capture_output=True)
    assert kh.read_text().startswith("|1|")
    res = await make().run(sshd.host("app1", kh), "echo ok", timeout=10)
    assert res.stdout == "ok\n"


async def test_changed_host_key_is_always_refused(make, sshd: Sshd, tmp_path):
    impostor = keygen(tmp_path / "impostor")
    keytype, b64 = impostor.with_name("impostor.pub").read_text().split()[:2]
    kh = tmp_path / "known_hosts"
    kh.write_text(f"[127.0.0.1]:{sshd.port} {keytype} {b64}\n")
    before = kh.read_text()

    async def prompt(host, fp):  # must not even be asked
        raise AssertionError("prompted for a changed key")

    t = make(accept_new_host_keys=True, host_key_prompt=prompt)
    with pytest.raises(TransportError) as info:
        await t.run(sshd.host("app1", kh), "true", timeout=10)
    assert info.value.kind is ErrorKind.HOSTKEY_CHANGED
    assert "CHANGED" in info.value.message
    assert info.value.fingerprint == fingerprint(sshd.keys.dir / "host_ed25519.pub")
    assert kh.read_text() == before


@pytest.mark.parametrize("answer", ["trust-once", "trust-recorded", "abort"])
async def test_host_key_prompt(make, sshd: Sshd, tmp_path, answer: str):
    kh = tmp_path / "known_hosts"
    asked = []

    async def prompt(host: Host, fp: str) -> str:
        asked.append((host.name, fp))
        return answer

    t = make(host_key_prompt=prompt)
    host = sshd.host("app1", kh)
    if answer == "abort":
        with pytest.raises(TransportError) as info:
            await t.run(host, "true", timeout=10)
        assert info.value.kind is ErrorKind.HOSTKEY_UNKNOWN
    else:
        assert (await t.run(host, "echo yes", timeout=10)).stdout == "yes\n"
    assert asked == [("app1", fingerprint(sshd.keys.dir / "host_ed25519.pub"))]
    assert kh.exists() == (answer == "trust-recorded")


# --- authentication -----------------------------------------------------------------------


async def test_wrong_key_is_refused(make, sshd: Sshd, ssh_keys: Keys, known_hosts: Path):
    t = make()
    host = sshd.host("app1", known_hosts, identity_file=str(ssh_keys.wrong_key))
    with pytest.raises(TransportError) as info:
        await t.run(host, "true", timeout=10)
    assert info.value.kind is ErrorKind.AUTH
    assert "root" in info.value.message
    assert t.connection_state(host) == "auth-refused"


async def test_missing_identity_file(make, sshd: Sshd, known_hosts: Path, tmp_path):
    host = sshd.host("app1", known_hosts, identity_file=str(tmp_path / "nope"))
    with pytest.raises(TransportError) as info:
        await make().run(host, "true", timeout=10)
    assert info.value.kind is ErrorKind.AUTH
    assert "does not exist" in info.value.message


async def test_password_from_environment(
    make, sshd: Sshd, passwd_user: LocalUser, known_hosts: Path, tmp_path, monkeypatch
):
    host = sshd.host(
        "app1",
        known_hosts,
        user=passwd_user.name,
        identity_file=None,
        password_env="RUNBOOK_TEST_PASSWORD",
    )
    monkeypatch.setenv("HOME", str(tmp_path))  # no default keys to fall back on
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv("RUNBOOK_TEST_PASSWORD", raising=False)
    with pytest.raises(TransportError) as info:
        await make().run(host, "true", timeout=10)
    assert info.value.kind is ErrorKind.AUTH
    assert "$RUNBOOK_TEST_PASSWORD is not set" in info.value.message
    monkeypatch.setenv("RUNBOOK_TEST_PASSWORD", "wrong-" + passwd_user.password)
    with pytest.raises(TransportError) as info:
        await make().run(host, "true", timeout=10)
    assert info.value.kind is ErrorKind.AUTH
    monkeypatch.setenv("RUNBOOK_TEST_PASSWORD", passwd_user.password)
    res = await make().run(host, "id -un", timeout=10)
    assert res.stdout == f"{passwd_user.name}\n"


# --- sudo ---------------------------------------------------------------------------------


async def test_sudo_with_nopasswd(make, sshd: Sshd, nopasswd_user: LocalUser, known_hosts):
    t = make()
    host = sshd.host("app1", known_hosts, user=nopasswd_user.name)
    assert t.needs_sudo(host) is True
    res = await t.run(host, "sudo -n id -u", timeout=15)
    assert (res.exit_status, res.stdout) == (0, "0\n")


async def test_sudo_without_nopasswd_fails_cleanly(make, sshd: Sshd, passwd_user: LocalUser, known_hosts):
    t = make()
    host = sshd.host("app1", known_hosts, user=passwd_user.name)
    assert t.needs_sudo(host) is True
    res = await t.run(host, "sudo -n id -u", timeout=15)
    assert res.exit_status != 0
    assert "password is required" in res.stderr
    assert sshd.host("x", known_hosts, sudo=False) and not t.needs_sudo(
        sshd.host("x", known_hosts, user=passwd_user.name, sudo=False)
    )


# --- jump hosts and ssh_config ------------------------------------------------------------


def write_ssh_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


async def test_ssh_config_alias(make, sshd: Sshd, ssh_keys: Keys, known_hosts: Path, tmp_path):
    cfg = write_ssh_config(
        tmp_path / "config",
        f"Host web-alias\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User root\n  IdentityFile {ssh_keys.user_key}\n",
    )
    host = Host(name="web", address="web-alias", ssh_config=str(cfg), known_hosts=str(known_hosts))
    t = make()
    res = await t.run(host, 'echo "$(id -un) $SSH_CONNECTION"', timeout=10)
    assert res.stdout.split()[0] == "root"
    assert res.stdout.split()[-1] == str(sshd.port)
    assert t.needs_sudo(host) is False


async def test_jump_host_via_ssh_config_proxyjump(
    make, sshd: Sshd, jump_sshd: Sshd, ssh_keys: Keys, known_hosts: Path, tmp_path
):
    cfg = write_ssh_config(
        tmp_path / "config",
        f"Host bastion\n  HostName 127.0.0.1\n  Port {jump_sshd.port}\n  User root\n"
        f"  IdentityFile {ssh_keys.user_key}\n"
        f"Host inner\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User root\n"
        f"  IdentityFile {ssh_keys.user_key}\n  ProxyJump bastion\n",
    )
    t = make()
    hosts = [Host(name=f"app{i}", address="inner", ssh_config=str(cfg), known_hosts=str(known_hosts)) for i in range(3)]
    for h in hosts:
        res = await t.run(h, 'echo "$SSH_CONNECTION"', timeout=15)
        assert res.stdout.split()[-1] == str(sshd.port)
    # the bastion carries them all over one connection
    assert len([k for k in t._conns if k[0] == "jump"]) == 1


async def test_jump_host_by_spec_and_by_inventory_name(
    make, sshd: Sshd, jump_sshd: Sshd, nojump_sshd: Sshd, known_hosts: Path
):
    spec = sshd.host("app1", known_hosts, jump=f"root@127.0.0.1:{jump_sshd.port}")
    assert (await make().run(spec, "echo via-spec", timeout=15)).stdout == "via-spec\n"

    gw = jump_sshd.host("gw1", known_hosts)
    t = make(host_resolver={"gw1": gw}.get)
    named = sshd.host("app1", known_hosts, jump="gw1")
    assert (await t.run(named, "echo via-gw1", timeout=15)).stdout == "via-gw1\n"

    # a bastion that refuses forwarding makes it fail: the path really goes through it
    kh_line = nojump_sshd.known_hosts_line()
    known_hosts.write_text(known_hosts.read_text() + kh_line)
    blocked = sshd.host("app1", known_hosts, jump=f"root@127.0.0.1:{nojump_sshd.port}")
    with pytest.raises(TransportError) as info:
        await make().run(blocked, "true", timeout=15)
    assert info.value.kind is ErrorKind.UNREACHABLE
    assert "jump host" in info.value.message


# --- inventories --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["ini", "yaml"])
async def test_ansible_inventory_hosts_are_reachable(
    make, sshd: Sshd, jump_sshd: Sshd, ssh_keys: Keys, known_hosts: Path, tmp_path, fmt: str
):
    key = ssh_keys.user_key
    if fmt == "ini":
        path = tmp_path / "hosts.ini"
        path.write_text(
            f"gw1 ansible_host=127.0.0.1 ansible_port={jump_sshd.port}\n\n"
            "[backend]\n"
            f"app[1:2] ansible_host=127.0.0.1 ansible_port={sshd.port} service=app port=8080\n\n"
            f"[all:vars]\nansible_user=root\nansible_ssh_private_key_file={key}\n"
            f"runbook_known_hosts={known_hosts}\n"
        )
    else:
        path = tmp_path / "hosts.yml"
        path.write_text(
            "all:\n"
            f"  vars: {{ansible_user: root, ansible_ssh_private_key_file: {key},"
            f" runbook_known_hosts: {known_hosts}}}\n"
            f"  hosts:\n    gw1: {{ansible_host: 127.0.0.1, ansible_port: {jump_sshd.port}}}\n"
            "  children:\n    backend:\n      vars: {service: app, port: 8080}\n"
            f"      hosts:\n        app[1:2]: {{ansible_host: 127.0.0.1, ansible_port: {sshd.port}}}\n"
        )
    inv = load_inventory(path)
    assert sorted(inv.hosts) == ["app1", "app2", "gw1"]
    assert [h.name for h in inv.with_role("backend")] == ["app1", "app2"]
    assert inv.hosts["app1"].vars == {"service": "app", "port": 8080}
    t = make()
    for h in inv.hosts.values():
        res = await t.run(h, 'echo "$SSH_CONNECTION"', timeout=15)
        assert res.stdout.split()[-1] == str(h.port)
