"""How long the one reducer takes: folding journals, and the views built on the fold.

    python benchmarks/bench_fold.py [--repeat 20]

Folds every shipped scenario journal (and a synthetic long one: the demo's steps repeated,
as a long incident with many re-runs would journal), then times the JSON result and the
Markdown report of the demo. Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import time

from runbook.events import Event
from runbook.report import build_result, render_markdown
from runbook.scenario import shipped_scenarios
from runbook.walk import fold, fold_json


def per_call(fn: object, repeat: int) -> float:
    assert callable(fn)
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    scenarios = shipped_scenarios()
    demo = next(s for s in scenarios if s.name == "demo").events
    print(f"{'journal':<24} {'events':>7} {'fold ms':>9} {'us/event':>9}")
    for s in scenarios:
        typed = [Event.from_json(e) for e in s.events]
        t = per_call(lambda typed=typed: fold(typed), args.repeat)
        print(f"{s.name:<24} {len(typed):>7} {t * 1000:>9.2f} {t / len(typed) * 1e6:>9.1f}")
    steps = [e for e in demo if e["type"] in ("step-start", "step-result", "finding")]
    long = demo[:2] + steps * 40
    typed = [Event.from_json(e) for e in long]
    t = per_call(lambda: fold(typed), max(1, args.repeat // 10))
    print(f"{'synthetic long':<24} {len(typed):>7} {t * 1000:>9.2f} {t / len(typed) * 1e6:>9.1f}")
    t = per_call(lambda: fold_json(demo), args.repeat)
    print(f"demo, parse and fold: {t * 1000:.2f} ms")
    t = per_call(lambda: build_result(demo), max(1, args.repeat // 4))
    print(f"demo, JSON result (redacts every string, then folds): {t * 1000:.1f} ms")
    t = per_call(lambda: render_markdown(demo), max(1, args.repeat // 4))
    print(f"demo, Markdown report: {t * 1000:.1f} ms")


if __name__ == "__main__":
    main()
