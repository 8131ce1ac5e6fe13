"""Time to a conclusion for each lab fault, headless: cold and warm. Printed, never asserted.

    python benchmarks/bench_lab.py [--faults a,b] [--transport asyncssh|paramiko] [--no-cli]

Needs root and the live lab's programs (see `runbook lab up`). Brings the lab up if it is
not (and down again afterwards), and holds the lab lock so no other lab command switches
faults underneath. For every fault:
  setup  switching the lab to the fault (reset, break, rotate logs, one client request)
  cli    `runbook run ... --headless --json` in a new process (interpreter start included)
  cold   the same session in-process with a new transport (new SSH connections)
  warm   in-process again, reusing a transport whose connections are already open
The goal in issue 4 is every fault diagnosed in under 10 s wall.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runbook.inventory import load_inventory  # noqa: E402
from runbook.journal import Journal  # noqa: E402
from runbook.lab.faults import FAULTS  # noqa: E402
from runbook.lab.lab import Lab, lab_lock, requirements_problem  # noqa: E402
from runbook.playbook import load_playbook  # noqa: E402
from runbook.session import Session, SessionOptions  # noqa: E402
from runbook.transports.base import Transport  # noqa: E402
from runbook.transports.factory import make_transport  # noqa: E402
from runbook.transports.local import LocalTransport  # noqa: E402

PLAYBOOK = ROOT / "playbooks" / "502-bad-gateway.yaml"


async def diagnose(remote: Transport, inventory: Path, tmp: Path) -> tuple[dict[str, Any], float]:
    """One headless session; the caller owns (and closes) `remote`."""
    session = Session(
        load_playbook(str(PLAYBOOK)),
        load_inventory(inventory),
        remote=remote,
        local=LocalTransport(),
        journal=Journal(tmp / f"j-{time.monotonic_ns()}.jsonl"),
        options=SessionOptions(transport_name="bench"),
    )
    started = time.perf_counter()
    session.start()
    await session.run_to_end()
    session.finish()
    took = time.perf_counter() - started
    session.journal.close()
    return session.conclusion or {"cause": f"({session.status})", "hosts": []}, took


def run_cli(inventory: Path, tmp: Path, transport: str) -> tuple[str, float]:
    out = tmp / "R.json"
    argv = [sys.executable, "-m", "runbook", "run", str(PLAYBOOK), "-i", str(inventory),
            "--headless", "--json", str(out), "--transport", transport,
            "--journal", str(tmp / "cli.jsonl")]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=120)
    took = time.perf_counter() - started
    if proc.returncode != 0 or not out.exists():
        return f"(exit {proc.returncode})", took
    return json.loads(out.read_text())["conclusion"]["cause"], took


async def bench(args: argparse.Namespace) -> None:
    lab = Lab()
    faults = args.faults.split(",") if args.faults else list(FAULTS)
    tmp = Path(tempfile.mkdtemp(prefix="runbook-bench-lab-"))
    with lab_lock(timeout=600):
        brought_up = not lab.is_up()
        started = time.perf_counter()
        lab.up()
        print(f"lab up: {time.perf_counter() - started:.2f}s ({'cold' if brought_up else 'was up'})")
        warm = make_transport(args.transport)
        try:
            lab.set_fault("healthy")
            await diagnose(warm, lab.inventory_path, tmp)  # opens the warm connections
            header = f"{'fault':<22} {'expect':<22} {'setup':>6} {'cli':>7} {'cold':>7} {'warm':>7}"
            print(header + "  conclusions (cli/cold/warm)")
            for name in faults:
                t0 = time.perf_counter()
                lab.set_fault(name)
                setup = time.perf_counter() - t0
                cli_cause, cli_s = (
                    ("-", float("nan")) if args.no_cli else run_cli(lab.inventory_path, tmp, args.transport)
                )
                cold_t = make_transport(args.transport)
                try:
                    cold, cold_s = await diagnose(cold_t, lab.inventory_path, tmp)
                finally:
                    await cold_t.close()
                hot, warm_s = await diagnose(warm, lab.inventory_path, tmp)
                print(
                    f"{name:<22} {FAULTS[name].cause:<22} {setup:>5.2f}s {cli_s:>6.2f}s "
                    f"{cold_s:>6.2f}s {warm_s:>6.2f}s  {cli_cause}/{cold['cause']}/{hot['cause']}"
                    f" {','.join(hot.get('hosts') or [])}"
                )
        finally:
            await warm.close()
            if brought_up:
                lab.down()
            else:
                lab.set_fault("healthy", probe=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", help="comma-separated fault names (default: all)")
    parser.add_argument("--transport", default="asyncssh", choices=["asyncssh", "paramiko"])
    parser.add_argument("--no-cli", action="store_true", help="skip the new-process runs")
    args = parser.parse_args()
    problem = requirements_problem()
    if problem:
        print(f"bench_lab: {problem}", file=sys.stderr)
        return 2
    asyncio.run(bench(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
