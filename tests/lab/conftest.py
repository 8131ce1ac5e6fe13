"""Fixtures on the live lab; `lab` itself is in tests/conftest.py (one hold per test session)."""

from __future__ import annotations

import subprocess

import pytest

from runbook.lab.lab import Lab, requirements_problem


def lab_skip_reason() -> str | None:
    problem = requirements_problem()
    return f"live lab unavailable: {problem}" if problem else None


@pytest.fixture()
def own_lab(lab: Lab) -> Lab:
    """The lab, for tests that take it down or crash it: only when this session built it."""
    if lab.preexisting:  # type: ignore[attr-defined]
        pytest.skip("the lab was already up before the tests (in use?): not tearing it down")
    return lab


@pytest.fixture()
def healthy_lab(lab: Lab) -> Lab:
    lab.set_fault("healthy", probe=False)
    return lab


def ssh(lab: Lab, host: str, command: str, timeout: float = 20) -> subprocess.CompletedProcess:
    """Run `command` on a lab host through its sshd, verifying the host key strictly."""
    from runbook.lab.topology import HOSTS

    return subprocess.run(
        [
            "ssh",
            "-i", str(lab.key_path),
            "-o", f"UserKnownHostsFile={lab.known_hosts_path}",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "BatchMode=yes",
            "-o", "IdentitiesOnly=yes",
            "-o", "ConnectTimeout=5",
            "-F", "/dev/null",
            f"root@{HOSTS[host].address}",
            command,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )  # fmt: skip
