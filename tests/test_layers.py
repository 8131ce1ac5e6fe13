"""Nothing below runbook.tui imports textual or rich: checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "runbook.cli",
    "runbook.session",
    "runbook.engine",
    "runbook.headless",
    "runbook.playbook",
    "runbook.checks.runner",
    "runbook.transports.factory",
    "runbook.transports.replay",
    "runbook.transports.local",
    "runbook.inventory",
    "runbook.journal",
    "runbook.report",
    "runbook.safety",
    "runbook.scenario",
    "runbook.parsers",
    "runbook.lab.cli",
    "runbook.lab.record",
]


def test_core_never_imports_textual_or_rich() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_headless_run_never_loads_textual(tmp_path) -> None:
    code = (
        "import sys, runbook.cli\n"
        f"code = runbook.cli.main(['run', '502-bad-gateway', '--scenario', 'demo', '--headless', "
        f"'--journal', {str(tmp_path / 'j.jsonl')!r}])\n"
        "assert code == 0, code\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
