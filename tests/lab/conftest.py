"""The live lab fixture: brought up once per test module, removed after it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from runbook.lab.lab import Lab, lab_lock, requirements_problem


def lab_skip_reason() -> str | None:
    problem = requirements_problem()
    return f"live lab unavailable: {problem}" if problem else None


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """The lab, up for one test module and locked against other lab commands meanwhile.

    Module scope, not session: the lock is held only while a module's lab tests run (a
    session fixture would hold it until the last test of the whole run), and `up` is cheap.

    A lab that was already up (someone is using it) is reused, left healthy and not taken
    down at the end; `lab.preexisting` tells destructive tests to stay away from it.
    """
    reason = lab_skip_reason()
    if reason:
        pytest.skip(reason)
    lab = Lab()
    with lab_lock(timeout=300):
        lab.preexisting = lab.is_up()  # type: ignore[attr-defined]
        lab.up()
        yield lab
        if lab.preexisting:  # type: ignore[attr-defined]
            lab.set_fault("healthy", probe=False)
        else:
            lab.down()


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
