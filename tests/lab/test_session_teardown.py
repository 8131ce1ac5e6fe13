"""A test session takes down the lab it brought up: after a failing lab test, and when the run
is killed with SIGTERM in the middle of one. Proven on a real child pytest session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runbook.lab.lab import Lab, run
from tests.conftest import ROOT
from tests.labsession import LabSession

pytestmark = [pytest.mark.lab, pytest.mark.slow]

CHILD_TEST = """
import os
import time
from pathlib import Path


def test_holds_the_lab(lab):
    assert lab.is_up()
    Path(os.environ["LAB_CHILD_READY"]).write_text("up")
    assert os.environ["LAB_CHILD_ENDING"] != "failure", "a lab test that fails"
    time.sleep(300)  # until SIGTERM
"""


def lab_namespaces() -> list[str]:
    out = run(["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith("rb-")]


@pytest.mark.parametrize("ending", ["failure", "sigterm"])
def test_a_session_leaves_no_lab_behind(lab_session: LabSession, tmp_path: Path, ending: str) -> None:
    if lab_session.preexisting or (lab_session.preexisting is None and Lab().is_up()):
        pytest.skip("the lab was already up before the tests (in use?): not tearing it down")
    # as before a fresh run: no lab, lock free (the next lab module brings it back)
    lab_session.release()
    assert lab_namespaces() == []
    child = tmp_path / "test_child.py"
    child.write_text(CHILD_TEST)
    ready = tmp_path / "ready"
    env = {**os.environ, "LAB_CHILD_READY": str(ready), "LAB_CHILD_ENDING": ending}
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest"]
    argv += ["-c", os.devnull, "--rootdir", str(tmp_path), str(child)]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        if ending == "sigterm":
            deadline = time.monotonic() + 120
            while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert ready.exists(), "the child never had the lab up"
            proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert ready.exists(), out[-3000:]
    # 1: a test failed; 2: interrupted
    assert proc.returncode == (1 if ending == "failure" else 2), out[-3000:]
    assert lab_namespaces() == [], out[-3000:]
    assert Lab().leftovers() == [], out[-3000:]
