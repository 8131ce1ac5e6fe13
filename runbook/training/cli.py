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

from runbook.safety import say
from runbook.yamlsource import SourceError

EXIT_OK, EXIT_UNCONCLUDED, EXIT_USAGE = 0, 1, 2


def main(args: argparse.Namespace) -> int:
    """`runbook train [SCENARIO] [--list] [--lab] [--name NAME] [--summary DIR]`."""
    if getattr(args, "summary", None):
        from runbook.training.summary import class_summary

        print(class_summary(Path(args.summary)), end="")
        return EXIT_OK
    if getattr(args, "list", False):
        for line in list_lines():
            print(line)
        return EXIT_OK
    if getattr(args, "lab", False):
        return train_lab(args)
    return train_replay(getattr(args, "scenario", None), getattr(args, "name", None))


def list_lines() -> list[str]:
    """codename, difficulty, expected duration: nothing that names the fault or the cause."""
    from runbook.playbook import load_playbook
    from runbook.training.session import reference_for, training_scenarios
    from runbook.training.simclock import clock

    playbook = load_playbook("502-bad-gateway")
    out = []
    for s in sorted(training_scenarios(), key=lambda s: str(s.header.get("codename"))):
        ref = reference_for(s, playbook)
        # a trainee needs about twice the expert's time
        out.append(f"{ref.codename}\t{ref.difficulty}\t~{clock(2 * ref.expert_time_s)}")
    return out


def _run_training(
    cfg: Any, reference: Any, trainee: str | None = None, resume_events: list[dict[str, Any]] | None = None
) -> int:
    try:
        from runbook.tui.training import run_training
    except ImportError as exc:
        say(f"runbook: training needs the TUI ({exc})")
        return EXIT_USAGE
    return run_training(cfg, reference, trainee, resume_events)


def resume_training(cfg: Any, events: list[dict[str, Any]], headless: bool = False) -> int:
    """`runbook resume` on a training journal: the trainee goes on choosing, under the same gate,
    scored on the whole session (the score reads the journal, before and after the break)."""
    from runbook.training.scoring import reference_of

    if headless:
        print("runbook: a training session resumes in the TUI only (the trainee chooses each step)", file=sys.stderr)
        return EXIT_USAGE
    return _run_training(cfg, reference_of(events), resume_events=events)


def train_replay(name: str | None, trainee: str | None = None) -> int:
    from runbook.playbook import load_playbook
    from runbook.training.session import check_scenario, pick_scenario, reference_for, scenario_config

    scenario = pick_scenario(name)
    playbook = load_playbook(str(scenario.header.get("playbook") or "502-bad-gateway"))
    problems = check_scenario(scenario, playbook)
    if problems:
        raise SourceError(problems)
    reference = reference_for(scenario, playbook)
    return _run_training(scenario_config(scenario, replay_speed=0.2), reference, trainee)


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
    from runbook.training.reference import build_reference
    from runbook.training.session import training_scenarios

    playbook = load_playbook("502-bad-gateway")
    name = (rng or random.Random()).choice(sorted(FAULTS))
    fault = FAULTS[name]
    recorded = next((s for s in training_scenarios() if s.header.get("fault") == name), None)
    if recorded is not None:
        s = recorded
        ref = build_reference(playbook, name=name, header=s.header, events=s.events, lab=True)
    else:
        header = {"title": "Live fire: users report 502 Bad Gateway", "expected_cause": fault.cause}
        ref = build_reference(playbook, name=name, header=header, lab=True)
    ref.title = "Live fire: users report 502 Bad Gateway"
    ref.description = fault.description
    ref.codename = "Live fire"
    ref.briefing = "Users API: users report 502 Bad Gateway; the lab is live."
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
        say(refusal)
        return EXIT_USAGE
    from runbook.lab.lab import LabError

    say("runbook: bringing the lab up, with a fault you are not told…")
    try:
        with live_fire() as (cfg, reference):
            return _run_training(cfg, reference, getattr(args, "name", None))
    except LabError as exc:
        say(f"runbook: {exc}")
        return EXIT_USAGE


def scenario_main(args: argparse.Namespace) -> int:
    """`runbook scenario from-journal JOURNAL [-o OUT.jsonl] [--name NAME]`."""
    from runbook.training.from_journal import journal_to_scenario

    if args.scenario_command != "from-journal":
        say("runbook: scenario from-journal JOURNAL [-o OUT.jsonl] [--name NAME]")
        return EXIT_USAGE
    scenario = journal_to_scenario(args.journal, args.output, args.name)
    print(f"scenario {scenario.name}: {Path(scenario.path)} (expected cause {scenario.expected_cause})")
    return EXIT_OK
