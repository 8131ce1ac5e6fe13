"""The headless driver: progress on stderr, the run to the end, the outputs.

Sessions are built by `runbook.wiring`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from runbook.events import (
    Answered,
    Concluded,
    Event,
    FindingRecorded,
    GapRecorded,
    Inconclusive,
    InventoryWarning,
    MutatingRefused,
    NodeEntered,
    StepFinished,
    Summary,
    Weighed,
)
from runbook.gaps import not_seen
from runbook.safety import clean, say
from runbook.session import Session

# kept for code written against the old home of these names (parallel branches)
from runbook.wiring import RunConfig, build_session, config_from_journal  # noqa: F401


class Progress:
    """One line on stderr per thing that happens."""

    def __init__(self, out: TextIO = sys.stderr):
        self.out = out

    def __call__(self, event: Event) -> None:
        t = event.ts[11:19]
        line = None
        if isinstance(event, NodeEntered):
            line = f"{t} ▶ {event.node}: {clean(event.title)}"
        elif isinstance(event, StepFinished):
            obs = event.result
            err = obs.error
            # cleaned before it is cut or embedded: a cut secret, or one no longer at the start
            # of its line (`password SECRET` in .netrc style), is no longer recognised
            status = (
                f"{err['kind']}: {clean(err['message'])[:120]}"
                if err
                else "timed out"
                if obs.timed_out
                else f"exit {obs.exit_status}"
            )
            line = f"{t}   {obs.check}@{obs.host}: {status} ({obs.duration_s or 0:.2f}s)"
        elif isinstance(event, FindingRecorded):
            f = event.finding
            where = f" [{f.host}]" if f.host else ""
            line = f"{t}   ! {f.severity}{where}: {clean(f.title)}"
        elif isinstance(event, GapRecorded):
            g = event.gap
            line = f"{t}   ⊘ gap [{g.host}] {g.check}: {g.reason}: {clean(g.message)[:160]}"
        elif isinstance(event, Weighed):
            line = f"{t}   ⚖ {event.verdict}: {clean(event.reason)}"
        elif isinstance(event, Inconclusive):
            line = f"{t} ■ inconclusive: {clean(event.reason)}"
        elif isinstance(event, Answered):
            line = f"{t}   ? {event.key} = {clean(event.value)} ({event.source})"
        elif isinstance(event, Concluded):
            hosts = ", ".join(event.hosts or []) or "-"
            line = f"{t} ■ conclusion: {event.cause}: {clean(event.title)} (hosts: {hosts})"
        elif isinstance(event, InventoryWarning):
            line = f"{t} ⚠ {clean(event.message)}"
        elif isinstance(event, Summary):
            line = f"{t}   = {clean(event.text)}"
        elif isinstance(event, MutatingRefused):
            line = f"{t}   ✋ mutating step not run: {clean(event.reason)}"
        if line:
            say(line, self.out)  # a failed command's stderr can carry a password


def write_outputs(
    events: list[dict[str, Any]], json_out: str | None, report_out: str | None, template: str | None = None
) -> None:
    from runbook.report import build_result, write_atomic, write_report

    if json_out:
        write_atomic(json_out, json.dumps(build_result(events), indent=2, ensure_ascii=False) + "\n")
    if report_out:
        write_report(events, report_out, template)


def report_beside_journal(journal: str | Path, template: str | None = None) -> Path | None:
    """At the end of a session: the report (and its JSON attachment) beside the journal, so the
    postmortem starts from a file that exists without anybody asking for it."""
    from runbook.journal import read_journal
    from runbook.report import write_report

    path = Path(journal)
    try:
        events = read_journal(path)
    except OSError:
        return None
    if not any(e.get("type") == "session-start" for e in events):
        return None
    # 0600 like the journal: redacted, but still an incident's internals, in the same private dir
    report, _ = write_report(events, path.with_suffix(".md"), template, mode=0o600)
    return report


async def run_headless(session: Session, *, resumed: bool = False, announce: bool = False) -> int:
    if not resumed and session.options.mode == "live":
        from runbook.preflight import message, targeted_hosts, unreachable_hosts

        failed = await unreachable_hosts(session.remote, targeted_hosts(session.playbook, session.inventory))
        if failed:
            await session.close()
            with contextlib.suppress(OSError):
                if session.journal.path.stat().st_size == 0:
                    session.journal.path.unlink()  # nothing happened: no session to list or resume
            say(message(failed))
            return 2
    if announce:
        say(f"journal: {session.journal.path}")
    session.subscribe(Progress())
    try:
        if not resumed:
            session.start()
        await session.run_to_end()
        session.finish()
    finally:
        await session.close()
    if session.status == "concluded":
        return 0
    say(f"runbook: could not conclude: {clean(session.unresolved_reason or session.status)}")
    inconclusive = session.walk.inconclusive
    if inconclusive is not None:
        say(not_seen(inconclusive.missing))
    return 1


def run_sync(coro: Any) -> Any:
    return asyncio.run(coro)
