from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.labsession import LAB_SESSION, LabSession

if TYPE_CHECKING:
    from runbook.lab.lab import Lab

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PLAYBOOK_502 = ROOT / "playbooks" / "502-bad-gateway.yaml"
#: the last collected test that uses the lab (set after collection)
LAB_LAST_ITEM: list[pytest.Item] = []


def runbook_cmd(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None, cwd: str | Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real command line (`python -m runbook`), as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "runbook", *args], capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd
    )


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Journals go to a private data dir, never the user's."""
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def needs_root() -> pytest.MarkDecorator:
    return pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces, iptables)")


def needs_binary(name: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        shutil.which(name) is None and not Path(f"/usr/sbin/{name}").exists(),
        reason=f"needs {name} (install it from Debian's packages)",
    )


# --- the live lab: one hold per session (tests/labsession.py), locked and reused by every module


@pytest.fixture(scope="session")
def lab_session() -> Iterator[LabSession]:
    """This session's hold on the live lab; at session end the lab is left as it was found."""
    from runbook.lab.lab import requirements_problem

    problem = requirements_problem()
    if problem:
        pytest.skip(f"live lab unavailable: {problem}")
    try:
        yield LAB_SESSION
    finally:
        LAB_SESSION.release()


@pytest.fixture(scope="module")
def lab(lab_session: LabSession) -> Iterator[Lab]:
    """The lab, up and locked against other lab commands.

    Brought up by the first module that needs it and taken down after the last lab test of
    the session (or at its end, also on failure or interruption). A lab that was already up
    (someone is using it) is reused and left healthy; `lab.preexisting` tells destructive
    tests to stay away from it.
    """
    lab = lab_session.acquire()
    yield lab
    # the next module starts from a healthy lab, as after a fresh `up`
    if lab_session.holding and lab.is_up():
        lab.set_fault("healthy", probe=False)


def pytest_collection_finish(session: pytest.Session) -> None:
    uses_lab = [item for item in session.items if "lab" in getattr(item, "fixturenames", ())]
    LAB_LAST_ITEM[:] = uses_lab[-1:]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield
    # the rest of the run needs no lab: take it down and free the lock now, not at the end
    if LAB_LAST_ITEM and item is LAB_LAST_ITEM[0]:
        LAB_SESSION.release()
