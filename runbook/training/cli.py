"""`runbook train` and `runbook scenario from-journal`: argument handling, no textual at import."""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runbook.yamlsource import SourceError

EXIT_OK, EXIT_UNCONCLUDED, EXIT_USAGE = 0, 1, 2


def main(args: argparse.Namespace) -> int:
    """`runbook train [SCENARIO] [--list] [--lab]`."""
    from runbook.scenario import shipped_scenarios

    if getattr(args, "list", False):
        for s in shipped_scenarios():
            print(f"{s.name}\t{s.title}")
        return EXIT_OK
    if getattr(args, "lab", False):
        return train_lab(args)
    return train_replay(getattr(args, "scenario", None))


def _run_training(cfg: Any, reference: Any) -> int:
    try:
        from runbook.tui.training import run_training
    except ImportError as exc:
        print(f"runbook: training needs the TUI ({exc})", file=sys.stderr)
        return EXIT_USAGE
    return run_training(cfg, reference)


def train_replay(name: str | None) -> int:
    from runbook.playbook import load_playbook
    from runbook.training.session import check_scenario, pick_scenario, reference_for, scenario_config

    scenario = pick_scenario(name)
    playbook = load_playbook(str(scenario.header.get("playbook") or "502-bad-gateway"))
    problems = check_scenario(scenario, playbook)
    if problems:
        raise SourceError(problems)
    reference = reference_for(scenario, playbook)
    return _run_training(scenario_config(scenario, replay_speed=0.2), reference)


def lab_refusal() -> str | None:
    if not sys.platform.startswith("linux"):
        return "runbook: train --lab needs Linux (the lab is built from network namespaces)"
    if os.geteuid() != 0:
        return "runbook: train --lab needs root (the lab makes network namespaces and firewall rules); try sudo"
    return None


def lab_exercise(rng: random.Random | None = None) -> tuple[str, Any]:
    """A random lab fault and its reference (from the shipped scenario of that fault when there is one)."""
    from runbook.lab.faults import FAULTS
    from runbook.playbook import load_playbook
    from runbook.scenario import SCENARIO_DIR, parse_scenario
    from runbook.training.reference import build_reference

    playbook = load_playbook("502-bad-gateway")
    name = (rng or random.Random()).choice(sorted(FAULTS))
    fault = FAULTS[name]
    recorded = SCENARIO_DIR / f"{name}.jsonl"
    if recorded.is_file():
        s = parse_scenario(recorded)
        ref = build_reference(playbook, name=name, header=s.header, events=s.events, lab=True)
    else:
        header = {"title": "Live fire: users report 502 Bad Gateway", "expected_cause": fault.cause}
        ref = build_reference(playbook, name=name, header=header, lab=True)
    ref.title = "Live fire: users report 502 Bad Gateway"
    ref.description = fault.description
    return name, ref


@contextlib.contextmanager
def live_fire(rng: random.Random | None = None, journal: str | None = None) -> Iterator[tuple[Any, Any]]:
    """Hold the lab: up, a random hidden fault; yields (RunConfig, Reference); healthy again after."""
    from runbook.lab.lab import Lab, lab_lock
    from runbook.wiring import RunConfig

    lab = Lab()
    with lab_lock(timeout=300):
        lab.up()
        name, reference = lab_exercise(rng)
        lab.set_fault(name, probe=True)  # the trainee is not told which
        cfg = RunConfig(
            playbook="502-bad-gateway",
            inventory=str(lab.inventory_path),
            journal=journal,
            incident={"title": "Live fire: users report 502 Bad Gateway", "severity": "training"},
        )
        try:
            yield cfg, reference
        finally:
            lab.set_fault("healthy", probe=False)


def train_lab(args: argparse.Namespace) -> int:
    refusal = lab_refusal()
    if refusal:
        print(refusal, file=sys.stderr)
        return EXIT_USAGE
    from runbook.lab.lab import LabError

    print("runbook: bringing the lab up, with a fault you are not told…", file=sys.stderr)
    try:
        with live_fire() as (cfg, reference):
            return _run_training(cfg, reference)
    except LabError as exc:
        print(f"runbook: {exc}", file=sys.stderr)
        return EXIT_USAGE


def scenario_main(args: argparse.Namespace) -> int:
    """`runbook scenario from-journal JOURNAL [-o OUT.jsonl] [--name NAME]`."""
    from runbook.training.from_journal import journal_to_scenario

    if args.scenario_command != "from-journal":
        print("runbook: scenario from-journal JOURNAL [-o OUT.jsonl] [--name NAME]", file=sys.stderr)
        return EXIT_USAGE
    scenario = journal_to_scenario(args.journal, args.output, args.name)
    print(f"scenario {scenario.name}: {Path(scenario.path)} (expected cause {scenario.expected_cause})")
    return EXIT_OK
