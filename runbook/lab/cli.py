"""`runbook lab up | down | status | fault NAME [--host HOST] | faults`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from runbook.lab.faults import FAULTS, fault_lines
from runbook.lab.topology import BACKENDS, DEFAULT_STATE_DIR

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runbook lab",
        description="The live 502 lab: nginx, backends and DNS in network namespaces (Linux, root).",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help=f"where the lab keeps its files (default {DEFAULT_STATE_DIR})",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("up", help="build the lab (safe to run again); prints the inventory path")
    sub.add_parser("down", help="remove everything the lab made")
    status = sub.add_parser("status", help="what is up and the current fault")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    sub.add_parser("faults", help="list the faults, one per line")
    fault = sub.add_parser("fault", help="switch the lab to fault NAME (resets the previous one)")
    fault.add_argument("name", metavar="NAME", choices=list(FAULTS), help="see `runbook lab faults`")
    fault.add_argument(
        "--host",
        action="append",
        choices=[h.name for h in BACKENDS],
        help="the backend to break (repeatable; default: every backend)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    if args.command == "faults":
        print("\n".join(fault_lines()))
        return EXIT_OK

    from runbook.lab.lab import Lab, LabError, requirements_problem

    problem = requirements_problem()
    if problem:
        print(f"runbook lab: {problem}", file=sys.stderr)
        return EXIT_USAGE
    lab = Lab(args.state_dir)
    try:
        if args.command == "up":
            print("bringing the lab up...", file=sys.stderr, flush=True)
            lab.up()
            print(f"inventory:   {lab.inventory_path}")
            print(f"known_hosts: {lab.known_hosts_path}")
            print(f"identity:    {lab.key_path}")
            return EXIT_OK
        if args.command == "down":
            removed = lab.down()
            print(f"removed {len(removed)} lab objects" if removed else "nothing to remove")
            left = lab.leftovers()
            if left:
                print("still present: " + ", ".join(left), file=sys.stderr)
                return EXIT_FAILED
            return EXIT_OK
        if args.command == "status":
            status = lab.status()
            if args.json:
                print(json.dumps(status, indent=2))
            else:
                print_status(status)
            return EXIT_OK if status["up"] else EXIT_FAILED
        if args.command == "fault":
            result = lab.set_fault(args.name, args.host)
            where = ", ".join(result.hosts) or "lab-wide"
            statuses = ", ".join(str(s) for s in result.client_statuses)
            print(f"fault {result.fault} ({where}); client saw: {statuses}")
            return EXIT_OK
    except LabError as exc:
        print(f"runbook lab: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_USAGE


def print_status(status: dict) -> None:
    print(f"lab: {'up' if status['up'] else 'down'}  (state {status['state_dir']})")
    fault = status.get("fault") or {}
    if fault:
        hosts = ", ".join(fault.get("hosts") or []) or "lab-wide"
        print(f"fault: {fault.get('fault')} ({hosts})")
    for name, host in status["hosts"].items():
        running = ", ".join(host["running"]) or "-"
        state = "up" if host["init_pid"] else ("netns only" if host["netns"] else "down")
        print(f"  {name:<5} {host['address']:<12} {state:<10} running: {running}")
    if status["up"]:
        print(f"inventory:   {status['inventory']}")
        print(f"known_hosts: {status['known_hosts']}")
