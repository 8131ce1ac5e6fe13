"""Differential: every ssh_config case resolved by `ssh -G` (the reference, run now) and by both
runbook paths (`ssh -G` through runbook, and runbook's own reader). They must agree."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from runbook.inventory import Host, sshconf
from runbook.inventory.ssh_config import SSHConfigError, SSHResolver
from runbook.inventory.sshconf import CommandLine, ConfigProblem, Resolved

from .ssh_corpus import CASES, JUMP_CASES, Case

SSH = shutil.which("ssh")
pytestmark = pytest.mark.skipif(SSH is None, reason="needs OpenSSH's ssh client (apt-get install openssh-client)")

AGREE: dict[str, int] = {"ssh -G path": 0, "built-in reader": 0, "cases": 0, "jump chains, both readers": 0}


def write_case(tmp: Path, files: dict[str, str]) -> Path:
    first = None
    for name, text in files.items():
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("{d}", str(tmp)))
        first = first or path
    assert first is not None
    return first


def cmdline(opts: dict[str, Any]) -> CommandLine:
    return CommandLine(
        user=opts.get("user"),
        port=opts.get("port"),
        jump=opts.get("jump"),
        user_known_hosts=opts.get("user_known_hosts"),
    )


def reference(config: Path, host: str, cmd: CommandLine) -> dict[str, Any] | str:
    """What OpenSSH resolves, straight from `ssh -G` (or "error: ..." when ssh refuses)."""
    out = subprocess.run([SSH, "-G", "-F", str(config), *cmd.argv(), host], capture_output=True, text=True)  # type: ignore[list-item]
    if out.returncode != 0:
        return "error"
    values: dict[str, Any] = {"identityfile": []}
    for line in out.stdout.splitlines():
        key, _, value = line.partition(" ")
        if key == "identityfile":
            values["identityfile"].append(value)
        else:
            values.setdefault(key, value)
    return values


def view(r: Resolved) -> dict[str, Any]:
    return {
        "hostname": r.hostname,
        "user": r.user,
        "port": str(r.port),
        "identityfile": r.identity_files,
        "proxyjump": r.proxy_jump,
        "proxycommand": r.proxy_command,
        "userknownhostsfile": " ".join(r.user_known_hosts) or "none",
        "globalknownhostsfile": " ".join(r.global_known_hosts) or None,
        "stricthostkeychecking": r.strict_host_key_checking,
        "hostkeyalias": r.host_key_alias,
    }


def compare(expected: dict[str, Any], got: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    diffs = {}
    for key, value in got.items():
        want = expected.get(key)
        if key == "proxycommand" and want == "none":
            want = None
        if want != value:
            diffs[key] = (want, value)
    return diffs


def both(config: Path, host: str, cmd: CommandLine) -> dict[str, Resolved | str]:
    out: dict[str, Resolved | str] = {}
    try:
        out["ssh -G path"] = SSHResolver(reader="ssh").config(host, str(config), cmd)
    except SSHConfigError as exc:
        out["ssh -G path"] = f"error: {exc}"
    try:
        out["built-in reader"] = sshconf.resolve(host, str(config), cmd)
    except ConfigProblem as exc:
        out["built-in reader"] = f"error: {exc}"
    return out


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_ssh_config_case_agrees_with_ssh_G(case: Case, tmp_path: Path) -> None:
    name, files, host, opts = case
    config = write_case(tmp_path, files)
    cmd = cmdline(opts)
    expected = reference(config, host, cmd)
    AGREE["cases"] += 1
    for path, got in both(config, host, cmd).items():
        if expected == "error":
            assert isinstance(got, str) and got.startswith("error: "), f"{path}: ssh refuses {name}, runbook: {got}"
            # the error names the file and line, as ssh does
            assert re.match(rf"error: .*{re.escape(str(tmp_path))}.*:\d+: ", got), got
        else:
            assert not isinstance(got, str), f"{path}: {got}"
            diffs = compare(expected, view(got))
            assert not diffs, f"{path} disagrees with ssh -G on {name}: {diffs}"
        AGREE[path] += 1


def ssh_v_identities(config: Path, host: str, cmd: CommandLine) -> list[str]:
    """The identity files ssh really tries (tokens expanded), from `ssh -v` with a dead proxy."""
    out = subprocess.run(
        [SSH, "-v", "-F", str(config), "-o", "ProxyCommand=false", "-o", "BatchMode=yes", *cmd.argv(), host, "true"],  # type: ignore[list-item]
        capture_output=True,
        text=True,
        timeout=20,
    )
    files = re.findall(r"identity file (\S+) type", out.stderr)
    return [f for i, f in enumerate(files) if not (f.endswith("-cert") and i and files[i - 1] == f[:-5])]


TOKEN_CASES = [c for c in CASES if c[0] in ("identity-tokens", "identity-percent-escape", "identity-accumulates")]


@pytest.mark.parametrize("case", TOKEN_CASES, ids=[c[0] for c in TOKEN_CASES])
def test_identity_file_tokens_expand_as_ssh_does(case: Case, tmp_path: Path) -> None:
    name, files, host, opts = case
    config = write_case(tmp_path, files)
    cmd = cmdline(opts)
    expected = ssh_v_identities(config, host, cmd)
    assert expected, "ssh -v printed no identity files"
    for path, r in both(config, host, cmd).items():
        assert not isinstance(r, str), r
        tokens = sshconf.client_tokens(r.hostname, r.port, r.user, host, r.host_key_alias)
        got = [sshconf.expand_identity(p, tokens, "t") for p in r.identity_files]
        assert got == expected, f"{path} on {name}"


def reference_chain(config: Path, spec: str) -> list[tuple[str, int, str]]:
    """OpenSSH's ProxyJump algorithm (ssh.c) with `ssh -G` answering for every hop:
    `a,b` is `ssh -J a -W %h:%p b`, so b ignores its own ProxyJump and a keeps its own."""
    extra, _, last = spec.rpartition(",")
    user, host, port = sshconf.parse_user_host_port(last)
    ref = reference(config, host, CommandLine(user=user, port=port, jump=extra or None))
    assert isinstance(ref, dict)
    hop = (ref["hostname"], int(ref["port"]), ref["user"])
    inner = ref.get("proxyjump")
    return ([*reference_chain(config, inner)] if inner else []) + [hop]


@pytest.mark.parametrize("case", JUMP_CASES, ids=[c[0] for c in JUMP_CASES])
def test_jump_chain_agrees_with_openssh(case: Case, tmp_path: Path) -> None:
    name, files, host, _ = case
    config = write_case(tmp_path, files)
    ref = reference(config, host, CommandLine())
    assert isinstance(ref, dict) and ref.get("proxyjump"), ref
    expected = reference_chain(config, ref["proxyjump"])
    for reader in ("ssh", "builtin"):
        ep = SSHResolver(reader=reader).resolve_host(Host(name="t", address=host, ssh_config=str(config)))
        got = [(h.hostname, h.port, h.user) for h in ep.chain()]
        assert got == expected, f"{reader} on {name}"
    AGREE["jump chains, both readers"] += 1


def test_jump_list_member_with_its_own_proxyjump_is_followed_like_ssh(tmp_path: Path) -> None:
    """`ssh -v` shows the commands ssh really runs: j2 is reached through j1, j1 through j0."""
    config = write_case(
        tmp_path,
        {
            "config": "Host a\n  ProxyJump j1,j2\nHost j0 j1 j2\n  HostName 127.0.0.1\n  Port 9\n"
            "Host j1\n  ProxyJump j0\n"
        },
    )
    out = subprocess.run(
        [SSH, "-v", "-F", str(config), "-o", "BatchMode=yes", "-o", "ConnectTimeout=2", "a", "true"],  # type: ignore[list-item]
        capture_output=True,
        text=True,
        timeout=30,
    )
    implicit = re.findall(r"Setting implicit ProxyCommand from ProxyJump: (.*)", out.stderr)
    # ssh -J j1 ... j2, then (for j1, from j1's own config) ssh ... j0
    assert any(cmd.endswith(" j2") and "-J j1" in cmd for cmd in implicit), implicit
    assert any(cmd.endswith(" j0") for cmd in implicit), implicit
    for reader in ("ssh", "builtin"):
        ep = SSHResolver(reader=reader).resolve_host(Host(name="t", address="a", ssh_config=str(config)))
        assert [h.alias for h in ep.chain()] == ["j0", "j1", "j2"], reader


def test_print_agreement_counts() -> None:
    """Printed for the record (pytest -s); the per-case tests above are the assertions."""
    print(f"\nssh_config corpus: {len(CASES)} cases + {len(JUMP_CASES)} jump chains; agreement with ssh -G: {AGREE}")
    assert len(CASES) + len(JUMP_CASES) >= 60
