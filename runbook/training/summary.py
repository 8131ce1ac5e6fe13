"""`runbook train --summary DIR`: a room's training reports, summed up for the trainer.

Reads the JSON record written beside each training report (*.training.json); prints one
table of trainees and scores, then per exercise the share right and the common wrong turns
(wrong causes named, dead ends, checks that could not matter).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any


def load_records(directory: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(directory.rglob("*.training.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("codename") is not None:
            out.append(record)
    return out


def class_summary(directory: Path) -> str:
    records = load_records(directory)
    if not records:
        return f"no training reports (*.training.json) under {directory}\n"
    lines = [
        "# Class summary",
        "",
        "| Trainee | Exercise | Score | Diagnosis | Hosts | Hints | Time |",
        "|---|---|---:|---|---|---:|---:|",
    ]
    for r in sorted(records, key=lambda r: (str(r.get("trainee")), str(r.get("codename")))):
        score = f"{r['total']}" if r.get("scored") else "not scored"
        verdict = "right" if r.get("correct") else f"wrong ({r.get('diagnosis') or 'none'})"
        hosts = "right" if r.get("hosts_right") else "wrong"
        minutes = round(float(r.get("time_s") or 0) / 60)
        who, what, hints = r.get("trainee") or "-", r.get("codename"), r.get("hints", 0)
        lines.append(f"| {who} | {what} | {score} | {verdict} | {hosts} | {hints} | {minutes} min |")
    by_exercise: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_exercise[str(r.get("codename"))].append(r)
    lines += ["", "## Per exercise", ""]
    for codename, group in sorted(by_exercise.items()):
        scored = [r for r in group if r.get("scored")]
        right = sum(1 for r in scored if r.get("correct"))
        mean = round(sum(r["total"] for r in scored) / len(scored)) if scored else 0
        lines.append(f"### {codename} (cause {group[0].get('expected_cause')})")
        lines.append("")
        lines.append(f"- {len(group)} trainee(s), {right} of {len(scored)} right cause, mean score {mean}")
        wrong = Counter(str(r.get("diagnosis")) for r in scored if not r.get("correct"))
        if wrong:
            lines.append("- wrong causes named: " + ", ".join(f"{c} ×{n}" for c, n in wrong.most_common()))
        dead = Counter(n for r in group for n in r.get("dead_ends") or [])
        if dead:
            lines.append("- common dead ends: " + ", ".join(f"{n} ×{k}" for n, k in dead.most_common(5)))
        pointless = Counter(n for r in group for n in r.get("pointless") or [])
        if pointless:
            lines.append(
                "- checks that could not matter: " + ", ".join(f"{n} ×{k}" for n, k in pointless.most_common(5))
            )
        lines.append("")
    return "\n".join(lines) + "\n"
