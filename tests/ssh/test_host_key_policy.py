"""Host keys of another type, @revoked and @cert-authority lines, against a real sshd, for both
transports (issue 12 items 4 and 5)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook.transports.base import ErrorKind, TransportError

from .conftest import Keys, Sshd, keygen, start_sshd

pytestmark = pytest.mark.sshd


def _pub(path: Path) -> tuple[str, str]:
    keytype, b64 = path.with_name(path.name + ".pub").read_text().split()[:2]
    return keytype, b64


def _never_prompt(host: object, fp: str) -> object:
    raise AssertionError("prompted for a key that must be refused outright")


async def test_known_key_of_another_type_is_a_changed_key(make, sshd: Sshd, tmp_path: Path) -> None:
    """known_hosts holds only an ECDSA key; the server has only ed25519: changed, refused, not recorded."""
    ecdsa = keygen(tmp_path / "old_ecdsa", "ecdsa")
    keytype, b64 = _pub(ecdsa)
    kh = tmp_path / "known_hosts"
    kh.write_text(f"[127.0.0.1]:{sshd.port} {keytype} {b64}\n")
    before = kh.read_text()
    t = make(accept_new_host_keys=True)
    started = time.monotonic()
    with pytest.raises(TransportError) as info:
        await t.run(sshd.host("app1", kh), "true", timeout=10)
    err = info.value
    assert err.kind is ErrorKind.HOSTKEY_CHANGED, err.message
    assert "HOST KEY CHANGED" in err.message and "ecdsa-sha2-nistp256" in err.message
    assert "ssh-ed25519" in err.message and "kept closing" not in err.message
    assert kh.read_text() == before  # nothing appended beside the old key
    assert time.monotonic() - started < 8  # refused at once, not after handshake retries


async def test_known_key_is_offered_first_when_the_server_has_several(make, ssh_keys: Keys, tmp_path: Path) -> None:
    """A server with ed25519 and ECDSA keys, known_hosts with only its ECDSA key: connects."""
    ecdsa = keygen(ssh_keys.dir / f"host_ecdsa_{tmp_path.name}", "ecdsa")
    server = start_sshd(ssh_keys, HostKey=f"{ssh_keys.host_key}\nHostKey {ecdsa}")
    try:
        keytype, b64 = _pub(ecdsa)
        kh = tmp_path / "known_hosts"
        kh.write_text(f"[127.0.0.1]:{server.port} {keytype} {b64}\n")
        before = kh.read_text()
        t = make(accept_new_host_keys=True)
        res = await t.run(server.host("app1", kh), "echo ok", timeout=10)
        assert res.stdout.strip() == "ok"
        assert kh.read_text() == before
    finally:
        server.stop()


async def test_revoked_key_reads_as_revoked(make, sshd: Sshd, tmp_path: Path) -> None:
    keytype, b64 = _pub(sshd.keys.host_key)
    kh = tmp_path / "known_hosts"
    kh.write_text(f"@revoked [127.0.0.1]:{sshd.port} {keytype} {b64}\n")
    before = kh.read_text()
    t = make(accept_new_host_keys=True, host_key_prompt=_never_prompt)
    with pytest.raises(TransportError) as info:
        await t.run(sshd.host("app1", kh), "true", timeout=10)
    assert info.value.kind is ErrorKind.HOSTKEY_CHANGED
    assert "marked @revoked" in info.value.message, info.value.message
    assert kh.read_text() == before


@pytest.fixture(scope="module")
def cert_sshd(ssh_keys: Keys) -> Iterator[tuple[Sshd, Path]]:
    """An sshd presenting a host certificate signed by a throwaway CA (ssh-keygen -s -h)."""
    ca = keygen(ssh_keys.dir / "host_ca")
    host_key = keygen(ssh_keys.dir / "host_cert_ed25519")
    subprocess.run(
        ["ssh-keygen", "-q", "-s", str(ca), "-h", "-I", "runbook-test", "-n", "127.0.0.1", str(host_key) + ".pub"],
        check=True,
    )
    server = start_sshd(ssh_keys, HostKey=str(host_key), HostCertificate=f"{host_key}-cert.pub")
    yield server, ca
    server.stop()


async def test_cert_authority_is_refused_with_a_message_and_never_pinned(
    make, cert_sshd: tuple[Sshd, Path], tmp_path: Path
) -> None:
    server, ca = cert_sshd
    keytype, b64 = _pub(ca)
    kh = tmp_path / "known_hosts"
    kh.write_text(f"@cert-authority [127.0.0.1]:{server.port} {keytype} {b64}\n")
    before = kh.read_text()
    t = make(accept_new_host_keys=True, host_key_prompt=_never_prompt)
    with pytest.raises(TransportError) as info:
        await t.run(server.host("app1", kh), "true", timeout=10)
    assert "@cert-authority" in info.value.message and "does not verify host certificates" in info.value.message
    assert kh.read_text() == before  # not pinned beside the CA line
