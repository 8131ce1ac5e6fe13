"""Building sessions from command-line choices, and the headless driver (progress on stderr)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from runbook.inventory import Inventory, load_inventory
from runbook.journal import Journal, new_journal_path
from runbook.playbook import Playbook, load_playbook
from runbook.scenario import Scenario, find_scenario
from runbook.session import ConfirmMutating, Session, SessionOptions
from runbook.transports.base import HostKeyPrompt, Transport
from runbook.transports.local import LocalTransport
from runbook.transports.replay import ReplayTransport


@dataclass
class RunConfig:
    playbook: str
    inventory: str | None = None
    scenario: str | None = None
    transport: str = "asyncssh"
    accept_new_host_keys: bool = False
    read_only: bool = False
    answers: dict[str, str] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    journal: str | None = None
    incident: dict[str, str] = field(default_factory=dict)
    replay_speed: float = 0.0


def make_remote(kind: str, *, accept_new_host_keys: bool, host_key_prompt: HostKeyPrompt | None) -> Transport:
    if kind == "local":
        return LocalTransport()
    from runbook.transports.factory import make_transport

    return make_transport(kind, accept_new_host_keys=accept_new_host_keys, host_key_prompt=host_key_prompt)


def build_session(
    cfg: RunConfig,
    *,
    host_key_prompt: HostKeyPrompt | None = None,
    confirm_mutating: ConfirmMutating | None = None,
    resume_events: list[dict[str, Any]] | None = None,
) -> Session:
    """Load everything a run needs; SourceError (exit 2) on a bad playbook, inventory or scenario."""
    playbook: Playbook = load_playbook(cfg.playbook)
    scenario: Scenario | None = None
    if cfg.scenario:
        scenario = find_scenario(cfg.scenario)
        inventory: Inventory = scenario.inventory()
        replay = ReplayTransport(scenario.events, speed=cfg.replay_speed)
        remote: Transport = replay
        local: Transport = replay
        mode = "replay"
    else:
        if not cfg.inventory:
            raise ValueError("a live run needs -i INVENTORY (or --scenario NAME for replayed hosts)")
        inventory = load_inventory(cfg.inventory)
        remote = make_remote(
            cfg.transport, accept_new_host_keys=cfg.accept_new_host_keys, host_key_prompt=host_key_prompt
        )
        local = LocalTransport()
        mode = "live"
    journal_path = Path(cfg.journal) if cfg.journal else new_journal_path(playbook.id)
    options = SessionOptions(
        read_only=cfg.read_only,
        answers=cfg.answers,
        incident=cfg.incident,
        mode=mode,
        scenario=scenario.name if scenario else None,
        transport_name="replay" if scenario else cfg.transport,
    )
    session = Session(
        playbook,
        inventory,
        remote=remote,
        local=local,
        journal=Journal(journal_path),
        options=options,
        confirm_mutating=confirm_mutating,
        overrides=cfg.variables,
    )
    session.run_info = {
        "inventory": str(Path(cfg.inventory).resolve()) if cfg.inventory else None,
        "transport": cfg.transport,
        "accept_new_host_keys": cfg.accept_new_host_keys,
        "answers": cfg.answers,
        "variables": cfg.variables,
    }
    if resume_events is not None:
        session.replay_events(resume_events)
    return session


def config_from_journal(events: list[dict[str, Any]], journal: str) -> RunConfig:
    start = next((e for e in events if e["type"] == "session-start"), None)
    if start is None:
        raise ValueError(f"{journal}: no session-start event; nothing to resume")
    run = start.get("run") or {}
    return RunConfig(
        playbook=start.get("playbook_path") or start["playbook"],
        inventory=run.get("inventory"),
        scenario=start.get("scenario"),
        transport=run.get("transport", start.get("transport", "asyncssh")),
        accept_new_host_keys=bool(run.get("accept_new_host_keys")),
        read_only=bool(start.get("read_only")),
        answers=run.get("answers", {}),
        variables=run.get("variables", {}),
        journal=journal,
        incident=start.get("incident") or {},
    )


class Progress:
    """One line on stderr per thing that happens."""

    def __init__(self, out: TextIO = sys.stderr):
        self.out = out

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        t = event.get("ts", "")[11:19]
        line = None
        if kind == "node-enter":
            line = f"{t} ▶ {event['node']}: {event['title']}"
        elif kind == "step-result":
            err = event.get("error")
            status = (
                f"{err['kind']}: {err['message'][:120]}"
                if err
                else "timed out"
                if event.get("timed_out")
                else f"exit {event.get('exit_status')}"
            )
            line = f"{t}   {event['check']}@{event['host']}: {status} ({event.get('duration_s', 0):.2f}s)"
        elif kind == "finding":
            where = f" [{event['host']}]" if event.get("host") else ""
            line = f"{t}   ! {event['severity']}{where}: {event['title']}"
        elif kind == "answer":
            line = f"{t}   ? {event['key']} = {event['value']} ({event['source']})"
        elif kind == "conclusion":
            hosts = ", ".join(event.get("hosts") or []) or "-"
            line = f"{t} ■ conclusion: {event['cause']}: {event['title']} (hosts: {hosts})"
        elif kind == "inventory-warning":
            line = f"{t} ⚠ {event['message']}"
        elif kind == "summary":
            line = f"{t}   = {event['text']}"
        elif kind == "mutating-refused":
            line = f"{t}   ✋ mutating step not run: {event['reason']}"
        if line:
            print(line, file=self.out, flush=True)


def write_outputs(
    events: list[dict[str, Any]], json_out: str | None, report_out: str | None, template: str | None = None
) -> None:
    from runbook.report import build_result, render_markdown, write_atomic

    if json_out:
        write_atomic(json_out, json.dumps(build_result(events), indent=2, ensure_ascii=False) + "\n")
    if report_out:
        write_atomic(report_out, render_markdown(events, template))


async def run_headless(session: Session, *, resumed: bool = False, announce: bool = False) -> int:
    if not resumed and session.options.mode == "live":
        from runbook.preflight import message, unreachable_hosts

        failed = await unreachable_hosts(session.remote, list(session.inventory.hosts.values()))
        if failed:
            await session.close()
            with contextlib.suppress(OSError):
                if session.journal.path.stat().st_size == 0:
                    session.journal.path.unlink()  # nothing happened: no session to list or resume
            print(message(failed), file=sys.stderr)
            return 2
    if announce:
        print(f"journal: {session.journal.path}", file=sys.stderr)
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
    print(f"runbook: could not conclude: {session.unresolved_reason or session.status}", file=sys.stderr)
    return 1


def run_sync(coro: Any) -> Any:
    return asyncio.run(coro)
