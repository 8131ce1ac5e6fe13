"""A host printing hostile output cannot stall runbook: linear text work, timeouts that hold."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runbook.headless import RunConfig, build_session
from runbook.journal import read_journal
from runbook.safety import REDACTED, clean, redact, sanitize
from tests.conftest import FIXTURES

# Where today's quadratic code needs minutes or hours, linear code needs well under a second;
# the bound only tells a hang from a finish, it does not measure speed (benchmarks/ does).
HANG_S = 30.0


def finishes(func: Callable[[str], str], text: str) -> str:
    """func(text), failing the test instead of hanging when it does not finish in HANG_S."""
    box: list[Any] = []
    worker = threading.Thread(target=lambda: box.append(func(text)), daemon=True)
    worker.start()
    worker.join(HANG_S)
    assert box, f"{func.__name__} on {len(text)} chars of {text[:12]!r}... did not finish in {HANG_S:g}s"
    return box[0]  # type: ignore[no-any-return]


ADVERSARIAL = {
    "c1-osc": "\x9d",
    "c1-dcs": "\x90",
    "c1-mixed": "\x9d\x9b\x90",
    "esc-osc": "\x1b]",
    "word": "a",
    "dotted-word": "a.",
    "keyword": "password",
    "keyword-quoted": "'password'",
    "json-keyword": '"password": "',
    "mysql": "mysql a ",
    "url": "a://b:",
    "cookie": "cookie: a;",
    "jwt": "eyJa.",
    "private-key": "-----BEGIN RSA PRIVATE KEY-----",
}


@pytest.mark.parametrize("unit", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_sanitize_and_redact_finish_on_adversarial_input(unit: str) -> None:
    text = unit * (300_000 // len(unit))
    shown = finishes(clean, text)
    assert "\x1b" not in shown and not any("\x80" <= c <= "\x9f" for c in shown)


def test_c1_flood_sanitises_to_nothing() -> None:
    # issue 12 item 1: 200k C1 controls stalled a run past 120 s
    assert finishes(sanitize, "\x9d\x90" * 100_000) == ""


def test_long_word_run_is_kept_whole() -> None:
    # issue 12 item 2: redact('a' * 16000) took 12.6 s
    assert finishes(redact, "a" * 1_000_000) == "a" * 1_000_000


def test_secret_in_a_long_line_is_still_redacted() -> None:
    line = "x" * 500_000 + " password=hunter2hunter2 " + "y" * 500_000
    out = finishes(redact, line)
    assert "hunter2" not in out and REDACTED in out and len(out) < len(line)


def _flood_session(tmp_path: Path, **variables: str) -> Any:
    cfg = RunConfig(
        playbook=str(FIXTURES / "hostile.yaml"),
        inventory=str(FIXTURES / "local-inventory.yaml"),
        transport="local",
        journal=str(tmp_path / "j.jsonl"),
        variables=variables,
    )
    return build_session(cfg)


@pytest.mark.parametrize("kind", ["c1", "line"])
async def test_step_timeout_holds_while_a_host_floods(tmp_path: Path, kind: str) -> None:
    """Issue 12 item 3: a 3 s timeout on a step whose host prints 400 KB of hostile text and then
    hangs is reported as a timeout of about 3 s, not however long the event loop was blocked."""
    s = _flood_session(tmp_path, kind=kind, count="400000", nap_s="60")
    s.start()
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.1)
            ticks += 1

    beat = asyncio.create_task(heartbeat())
    try:
        await asyncio.wait_for(s.run_current(), HANG_S)
    finally:
        beat.cancel()
    results = [e for e in read_journal(tmp_path / "j.jsonl") if e["type"] == "step-result"]
    assert results and all(r["timed_out"] for r in results)
    # the step's own clock: 3 s asked for, well under the minutes a blocked loop took
    assert all(r["duration_s"] < 3 + 5 for r in results), [r["duration_s"] for r in results]
    # the loop kept turning while the output arrived (a blocked loop makes no ticks)
    assert ticks >= 10
