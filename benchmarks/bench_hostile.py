"""Hostile output: sanitise/redact throughput on adversarial input, and headless runs against a
loopback host that prints 50 MB, a 10 MB single line and 200k C1 controls.

    python benchmarks/bench_hostile.py [--sizes 100000,400000,1600000] [--no-runs] [--no-sshd]

Part 1 times `sanitize` and `redact` (and detect-secrets' share of redact) on each adversarial
input at several sizes, in MB/s: linear code keeps its MB/s as the size grows, quadratic code
loses a factor of 4 for each factor of 4 in size. Part 2 runs `runbook run --headless` on a
one-node playbook whose command floods, through the local transport and (as root, with
/usr/sbin/sshd) asyncssh and paramiko to an sshd on 127.0.0.1, and prints the wall time and the
peak memory (max RSS of the runbook process, from /usr/bin/time). Figures are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from runbook import safety  # noqa: E402

ADVERSARIAL = {
    "C1 OSC flood (U+009D)": "\x9d",
    "C1 DCS+OSC mix": "\x9d\x90",
    "ESC ] runs": "\x1b]",
    "word run 'aaaa'": "a",
    "dotted 'a.a.a.'": "a.",
    "'password' repeated": "password",
    '"password": " repeated': '"password": "',
    "'mysql a ' repeated": "mysql a ",
    "URL 'a://b:' repeated": "a://b:",
    "cookie: a; repeated": "cookie: a;",
    "nginx error log": (
        "2026/01/01 12:00:00 [error] 123#0: *45 connect() failed (111: Connection refused) while connecting"
        ' to upstream, client: 198.18.0.9, server: _, request: "GET /api HTTP/1.1", upstream:'
        ' "http://198.18.1.2:8080/api"\n'
    ),
}


def _rate(func: object, text: str) -> float:
    t0 = time.perf_counter()
    func(text)  # type: ignore[operator]
    dt = time.perf_counter() - t0
    return len(text.encode()) / 1e6 / dt if dt else float("inf")


def throughput(sizes: list[int]) -> None:
    safety.redact("password=warm-up")  # import detect-secrets' plugins first
    head = " | ".join(f"{n // 1000} kB" for n in sizes)
    print("\n## sanitise / redact throughput, MB/s (linear: the figure holds as the size grows)\n")
    print(f"| input | function | {head} |")
    print("|---|---|" + "---|" * len(sizes))
    for name, unit in ADVERSARIAL.items():
        for label, func in (
            ("sanitize", safety.sanitize),
            ("redact", safety.redact),
            ("detect-secrets", safety._detect),
        ):
            row = [_rate(func, unit * max(1, n // len(unit))) for n in sizes]
            print(f"| {name} | {label} | " + " | ".join(f"{r:.1f}" for r in row) + " |", flush=True)
    log = ADVERSARIAL["nginx error log"] * (1_000_000 // len(ADVERSARIAL["nginx error log"]))
    t0 = time.perf_counter()
    safety._detect(log)
    per_mb = (time.perf_counter() - t0) / (len(log.encode()) / 1e6)
    print(f"\ndetect-secrets plugins on ordinary log text: {per_mb * 1000:.0f} ms per MB")


# the "host" runs this script (a file any local user can read, for the sshd's throwaway user)
FLOOD = """\
import sys
kind, n = sys.argv[1], int(sys.argv[2])
if kind == "c1":
    sys.stdout.write("\\u009d\\u0090" * (n // 2))
elif kind == "line":
    sys.stdout.write("a" * n)
else:
    sys.stdout.write(("x" * 99 + "\\n") * (n // 100))
"""

PLAYBOOK = """\
id: flood
title: One host floods
start: flood
vars: {kind: big, count: "1", script: flood.py}
nodes:
  flood:
    title: Flood
    checks:
      - id: flood
        on: backend
        shell: python3 {script} {kind} {count}
        timeout: 60
    findings:
      - {id: flooded, check: flood, severity: info, when: "r.exit_status == 0", title: flooded}
    next:
      - goto: done
  done:
    conclusion: {cause: no-fault-found, title: Survived}
"""

CASES = [("50 MB in 100-byte lines", "big", 50_000_000), ("10 MB single line", "line", 10_000_000),
         ("200k C1 controls", "c1", 200_000)]  # fmt: skip


def headless(work: Path, transport: str, inventory: Path) -> None:
    for label, kind, count in CASES:
        journal = work / f"{transport}-{kind}.jsonl"
        cmd = [
            "/usr/bin/time", "-f", "%e %M", sys.executable, "-m", "runbook", "run", str(work / "flood.yaml"),
            "-i", str(inventory), "--transport", transport, "--headless", "--journal", str(journal),
            "--var", f"kind={kind}", "--var", f"count={count}", "--var", f"script={work / 'flood.py'}",
            "--json", str(work / "out.json"),
            "--report", str(work / "out.md"),
        ]  # fmt: skip
        env = {**os.environ, "XDG_DATA_HOME": str(work / "xdg")}
        t0 = time.monotonic()
        res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        wall = time.monotonic() - t0
        last = res.stderr.strip().splitlines()[-1].split()
        peak_mb = int(last[1]) / 1024 if len(last) == 2 and last[1].isdigit() else float("nan")
        step = next((ln for ln in res.stderr.splitlines() if "flood@" in ln), "").strip()
        print(f"| {transport} | {label} | {res.returncode} | {wall:.2f} | {peak_mb:.0f} | {step[9:]} |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,400000,1600000")
    parser.add_argument("--no-runs", action="store_true")
    parser.add_argument("--no-sshd", action="store_true")
    args = parser.parse_args()
    throughput([int(s) for s in args.sizes.split(",")])
    if args.no_runs:
        return 0
    work = Path(tempfile.mkdtemp(prefix="runbook-hostile-"))
    lab = None
    try:
        (work / "flood.yaml").write_text(PLAYBOOK)
        (work / "flood.py").write_text(FLOOD)
        work.chmod(0o755)
        (work / "flood.py").chmod(0o644)
        (work / "local.yaml").write_text("hosts:\n  web1: {address: 127.0.0.1, roles: [backend]}\n")
        print("\n## headless runs against a loopback host (exit, wall s, peak RSS MB, the step's line)\n")
        print("| transport | output | exit | wall s | peak MB | step |")
        print("|---|---|---|---|---|---|")
        headless(work, "local", work / "local.yaml")
        if not args.no_sshd and os.geteuid() == 0 and Path("/usr/sbin/sshd").exists():
            from bench_fanout import BENCH_USER, Lab

            lab = Lab(1)
            (work / "ssh.yaml").write_text(
                f"hosts:\n  web1: {{address: 127.0.0.1, port: {lab.ports[0]}, user: {BENCH_USER},"
                f" identity_file: {lab.user_key}, known_hosts: {lab.known_hosts}, roles: [backend]}}\n"
            )
            for transport in ("asyncssh", "paramiko"):
                headless(work, transport, work / "ssh.yaml")
    finally:
        if lab is not None:
            lab.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
