"""The transport contract, against a real OpenSSH sshd, for asyncssh and paramiko alike."""

from __future__ import annotations

import asyncio
import resource
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from runbook.safety import sanitize
from runbook.transports.base import ErrorKind, TransportError

from .conftest import Sshd

pytestmark = pytest.mark.sshd


async def pgrep(make, host, pattern: str) -> str:
    """Processes matching `pattern`, seen over a separate connection."""
    other = make()
    # the [x] trick keeps pgrep from matching its own shell
    res = await other.run(host, f"pgrep -af '[{pattern[0]}]{pattern[1:]}' || true", timeout=10)
    return res.stdout.strip()


async def test_run_exit_status_and_stderr(make, sshd: Sshd, known_hosts: Path):
    t = make()
    host = sshd.host("app1", known_hosts)
    res = await t.run(host, "echo out; echo err >&2; exit 3", timeout=10)
    assert res.exit_status == 3
    assert res.stdout == "out\n"
    assert res.stderr == "err\n"  # the process-group marker is stripped
    assert not res.timed_out
    assert res.duration_s > 0
    assert t.connection_state(host) == "connected"
    assert t.needs_sudo(host) is False  # root


async def test_connection_is_reused_and_stdin_is_fed(make, sshd: Sshd, known_hosts: Path):
    t = make()
    host = sshd.host("app1", known_hosts)
    first = await t.run(host, 'echo "$SSH_CONNECTION"', timeout=10)
    second = await t.run(host, 'echo "$SSH_CONNECTION"', timeout=10)
    assert first.stdout == second.stdout != ""  # same client port: one connection
    res = await t.run(host, "tr a-z A-Z", timeout=10, stdin="hello\n")
    assert res.stdout == "HELLO\n"
    missing = await t.run(host, "no-such-tool-here --version", timeout=10)
    assert missing.exit_status == 127


async def test_output_streams_as_it_arrives(make, sshd: Sshd, known_hosts: Path):
    t = make()
    chunks: list[tuple[float, str, str]] = []
    res = await t.run(
        sshd.host("app1", known_hosts),
        "echo one; echo warn >&2; sleep 1; echo two",
        timeout=10,
        on_output=lambda stream, text: chunks.append((time.monotonic(), stream, text)),
    )
    end = time.monotonic()
    assert res.stdout == "one\ntwo\n"
    first = next(c for c in chunks if "one" in c[2])
    assert end - first[0] > 0.7, "the first line arrived only at the end"
    assert ("stderr", "warn\n") in [(s, x) for _, s, x in chunks]
    assert "".join(x for _, s, x in chunks if s == "stdout") == res.stdout


async def test_timeout_kills_the_remote_command(make, sshd: Sshd, known_hosts: Path):
    t = make()
    host = sshd.host("app1", known_hosts)
    tag = f"3{uuid.uuid4().int % 1000}.5"
    started = time.monotonic()
    # a compound command: the shell stays the parent, so killing only it would orphan sleep
    res = await t.run(host, f"echo started; sleep {tag}; echo never", timeout=1.5)
    assert res.timed_out is True
    assert res.exit_status is None
    assert res.stdout == "started\n"
    assert time.monotonic() - started < 8
    assert await pgrep(make, host, f"sleep {tag}") == ""
    again = await t.run(host, "echo still-usable", timeout=10)
    assert again.stdout == "still-usable\n"


async def test_cancel_stops_the_remote_command(make, sshd: Sshd, known_hosts: Path):
    t = make()
    host = sshd.host("app1", known_hosts)
    tag = f"4{uuid.uuid4().int % 1000}.5"
    seen = asyncio.Event()
    task = asyncio.create_task(
        t.run(
            host,
            f"echo started; sleep {tag}; echo never",
            timeout=60,
            on_output=lambda s, x: seen.set(),
        )
    )
    await asyncio.wait_for(seen.wait(), 15)
    assert await pgrep(make, host, f"sleep {tag}") != ""  # it really runs
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await pgrep(make, host, f"sleep {tag}") == ""
    # the channel is free again: MaxSessions 4 would refuse otherwise after a few leaks
    results = await asyncio.gather(*(t.run(host, "echo ok", timeout=20) for _ in range(5)))
    assert [r.stdout for r in results] == ["ok\n"] * 5


async def test_30_channels_against_max_sessions_4(make, sshd: Sshd, known_hosts: Path):
    t = make()
    host = sshd.host("app1", known_hosts)
    results = await asyncio.gather(*(t.run(host, f"sleep 0.2; echo {i}", timeout=60) for i in range(30)))
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(30)]
    assert all(r.exit_status == 0 for r in results)
    # one connection carried them all
    conns = {(await t.run(host, 'echo "$SSH_CONNECTION"', timeout=10)).stdout for _ in range(2)}
    assert len(conns) == 1


async def test_50_hosts_against_max_startups_5_30_10(make, sshd: Sshd, known_hosts: Path):
    t = make()
    hosts = [sshd.host(f"backend{i:02}", known_hosts) for i in range(50)]
    results = await asyncio.gather(
        *(t.run(h, 'echo "$SSH_CONNECTION"', timeout=30) for h in hosts), return_exceptions=True
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []
    assert all(r.exit_status == 0 for r in results)
    # 50 hosts, 50 connections (distinct client ports)
    assert len({r.stdout.split()[1] for r in results}) == 50


async def test_escape_sequences_and_invalid_utf8_are_decoded_safely(make, sshd: Sshd, known_hosts: Path):
    t = make()
    cmd = r"printf 'a\033[31mred\033[0m \033]52;c;aGk=\007 \233x \377\376\nover\rwrite\n'"
    res = await t.run(sshd.host("app1", known_hosts), cmd, timeout=10)
    assert res.exit_status == 0
    assert "\x1b[31m" in res.stdout  # the transport passes text on; safety.py cleans it
    assert "\ufffd" in res.stdout  # invalid UTF-8 replaced, not raised
    clean = sanitize(res.stdout)
    assert "\x1b" not in clean
    assert "\x07" not in clean
    assert "]52;" not in clean
    assert "red" in clean
    assert clean.splitlines()[-1] == "write"  # \r overprinting resolved


async def test_50_mb_of_output_is_bounded(make, sshd: Sshd, known_hosts: Path):
    t = make()
    size = 50 * 1024 * 1024
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    streamed = []
    res = await t.run(
        sshd.host("app1", known_hosts),
        f"head -c {size} /dev/zero | tr '\\0' a",
        timeout=90,
        max_output=100_000,
        on_output=lambda s, x: streamed.append(len(x)),
    )
    rss_growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert res.exit_status == 0
    assert len(res.stdout) == 100_000
    assert res.truncated_bytes == size - 100_000
    assert sum(streamed) == 100_000
    assert rss_growth_kb < 40 * 1024, f"memory grew by {rss_growth_kb} kB"


@pytest.mark.parametrize("where", ["closed-port", "bad-name"])
async def test_unreachable(make, sshd: Sshd, known_hosts: Path, where: str):
    from .conftest import free_port

    t = make()
    if where == "closed-port":
        host = sshd.host("down", known_hosts, port=free_port())
    else:
        host = sshd.host("down", known_hosts, address="no-such-host.invalid")
    with pytest.raises(TransportError) as info:
        await t.run(host, "true", timeout=5)
    assert info.value.kind is ErrorKind.UNREACHABLE
    assert ("refused" if where == "closed-port" else "resolve") in info.value.message
    assert t.connection_state(host) == "unreachable"


async def test_lost_connection_is_reopened_and_reported(make, sshd: Sshd, known_hosts: Path):
    t = make()
    host = sshd.host("app1", known_hosts)
    first = await t.run(host, 'echo "$SSH_CONNECTION"', timeout=10)
    # kill this connection's sshd session process from inside it
    with pytest.raises(TransportError) as info:
        await t.run(host, "kill -9 $PPID; sleep 5", timeout=10)
    assert info.value.kind is ErrorKind.DISCONNECTED
    res = await t.run(host, 'echo "$SSH_CONNECTION"', timeout=10)
    assert res.exit_status == 0
    assert res.stdout != first.stdout  # a new connection
    assert "reopened" in res.data["reconnected"]


def _fingerprint(pub: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True)
    return out.stdout.split()[1]
