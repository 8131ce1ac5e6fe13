"""Record training scenarios on the live lab: the expert's walk, then a sweep of every node.

A trainee may investigate any node, not just the ones the recorded walk entered, so a
training scenario also holds what every other node's checks answered on the same faulty lab
(`sweep-result` events, after the walk's conclusion; the replay transport serves them in
training). Two faults can be made at once: the second is the one the first hides.

    python -m runbook.training.record [NAME...]     (Linux, root; the lab lock is held)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runbook.journal import read_journal
from runbook.scenario import SCENARIO_DIR, write_scenario
from runbook.session import Session
from runbook.wiring import RunConfig, build_session

SWEEP = "sweep-result"


@dataclass(frozen=True)
class Exercise:
    """One training scenario: its codename, the page the on-call engineer gets, the faults."""

    name: str
    codename: str
    difficulty: str
    briefing: str
    #: (fault, hosts) made in order; the later ones sit under the first
    faults: tuple[tuple[str, tuple[str, ...]], ...]
    title: str = ""
    teaching: str = ""
    #: the gateway's site style on the lab (runbook/lab/configs.py SITE_STYLES; None: as built)
    site: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def sweep(session: Session) -> list[dict[str, Any]]:
    """Run every investigation node's checks on the lab as it is, in playbook order, and
    return their results as `sweep-result` events (the session's journal is not touched).
    Mutating steps never run here: nobody is asked."""
    state = session.state
    out: list[dict[str, Any]] = []
    n = 0
    for nid, node in session.playbook.nodes.items():
        if node.conclusion or node.unresolved or node.question or not node.checks:
            continue
        observations = []
        for step in session.engine.plan(nid, state):
            if step.mutating:
                continue
            n += 1
            observations.append(await session.io.run_step(step, f"w{n:03d}"))
        outcome = session.engine.evaluate(nid, state, observations)
        state.observations += observations
        state.findings += outcome.findings
        out += [{"type": SWEEP, **o.to_event()} for o in observations]
    return out


async def walk_and_sweep(session: Session) -> list[dict[str, Any]]:
    session.start()
    await session.run_to_end()
    swept = await sweep(session) if session.status == "concluded" else []
    session.finish()
    await session.close()
    return swept


def as_scenario_events(events: list[dict[str, Any]], swept: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The walk as recorded, then the sweep's results."""
    for e in events:
        if e["type"] == "session-start":
            e["run"] = {**e.get("run", {}), "inventory": None}
            e["mode"] = "recorded"
    return events + swept


def record_exercise(ex: Exercise, out_dir: Path = SCENARIO_DIR) -> Path:
    from runbook.lab.faults import FAULTS
    from runbook.lab.lab import Lab, lab_lock

    lab = Lab()
    with lab_lock(timeout=900), tempfile.TemporaryDirectory(prefix="rb-train-record-") as tmp:
        (first, first_hosts), *rest = ex.faults
        lab.set_fault(first, list(first_hosts) or None, probe=False, site=ex.site)
        for name, hosts in rest:
            fault = FAULTS[name]
            targets = list(hosts) or ([] if not fault.per_backend else ["app1", "app2"])
            lab.apply(fault, targets)
            lab.wait_ready()
            lab.rotate_gateway_logs()
        journal = Path(tmp) / "journal.jsonl"
        cfg = RunConfig(playbook="502-bad-gateway", inventory=str(lab.inventory_path), journal=str(journal))
        swept = asyncio.run(walk_and_sweep(build_session(cfg)))
        events = read_journal(journal)
        lab.set_fault("healthy", probe=False)
    conclusion = next((e for e in events if e["type"] == "conclusion"), None)
    if conclusion is None:
        raise SystemExit(f"runbook: the walk on {ex.name} did not conclude; nothing recorded")
    measured = measured_difficulty(events, len(ex.faults), symptoms("502-bad-gateway"))
    header = {
        "name": ex.name,
        "codename": ex.codename,
        **measured,
        "briefing": ex.briefing,
        "title": ex.title or FAULTS[first].description,
        "playbook": "502-bad-gateway",
        "description": "; ".join(FAULTS[f].description for f, _ in ex.faults),
        "fault": "+".join(f for f, _ in ex.faults),
        "fault_hosts": sorted({h for _, hosts in ex.faults for h in hosts}),
        "faults": [{"fault": f, "hosts": list(h)} for f, h in ex.faults],
        "site": ex.site or "names-runtime",
        "teaching": ex.teaching,
        "expected_cause": conclusion["cause"],
        "expected_hosts": conclusion.get("hosts", []),
        "expected_node": conclusion["node"],
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "recorded_from": "runbook lab (walk and sweep)",
        **ex.extra,
    }
    out = out_dir / f"{ex.name}.jsonl"
    write_scenario(out, header, as_scenario_events(events, swept))
    return out


def symptoms(playbook: str) -> set[str]:
    """The findings that are the symptom itself (what weigh candidates `explain`): never distractors."""
    from runbook.playbook import load_playbook

    pb = load_playbook(playbook)
    return {fid for node in pb.nodes.values() if node.weigh for c in node.weigh.candidates for fid in c.explains}


def measured_difficulty(events: list[dict[str, Any]], faults: int, symptom: set[str]) -> dict[str, Any]:
    """Difficulty from facts of the expert's walk, not by hand: the steps on its path and the
    distractors (warning or critical findings, other than the symptom, that the conclusion does
    not rest on), and whether one fault hides another."""
    conclusion = next((e for e in events if e["type"] == "conclusion"), {})
    cited = set(conclusion.get("findings") or [])
    nodes = [e["node"] for e in events if e["type"] == "node-enter"]
    steps = len(dict.fromkeys(nodes))
    distractors = sorted(
        {
            str(e.get("id"))
            for e in events
            if e["type"] == "finding"
            and e.get("severity") in ("warning", "critical")
            and e.get("id") not in cited | symptom
        }
    )
    if faults > 1 or len(distractors) >= 3:
        level = "hard"
    elif len(distractors) >= 1 or steps > 8:
        level = "medium"
    else:
        level = "easy"
    return {"difficulty": level, "expert_steps": steps, "distractors": distractors}


def main(argv: list[str]) -> int:
    from runbook.lab.lab import Lab, lab_lock
    from runbook.training.exercises import EXERCISES

    wanted = argv or list(EXERCISES)
    lab = Lab()
    with lab_lock(timeout=900):
        if not lab.is_up():
            lab.up()
        for name in wanted:
            print(f"recording {name}…", file=sys.stderr, flush=True)
            print(record_exercise(EXERCISES[name]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
