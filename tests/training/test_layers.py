"""runbook.training is plain Python: importing it (and using it) never loads textual or rich."""

from __future__ import annotations

import subprocess
import sys

MODULES = [
    "runbook.training.cli",
    "runbook.training.debrief",
    "runbook.training.from_journal",
    "runbook.training.hints",
    "runbook.training.reference",
    "runbook.training.report",
    "runbook.training.scoring",
    "runbook.training.session",
    "runbook.training.evidence",
    "runbook.training.simclock",
    "runbook.training.summary",
    "runbook.training.exercises",
    "runbook.training.record",
]


def test_training_never_imports_textual_or_rich() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in MODULES)
        + "from runbook.training.cli import main\n"
        + "import argparse\n"
        + "assert main(argparse.Namespace(list=True, lab=False, scenario=None, summary=None)) == 0\n"
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        + "print('BAD:' + ','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "BAD:"
