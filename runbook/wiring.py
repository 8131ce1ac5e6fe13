"""Wiring: builds a session from command-line choices (playbook, inventory or scenario,
transports, step I/O, journal), and the run configuration a journal records for resume."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook.checks.replay import ReplaySteps
from runbook.checks.runner import LiveSteps, StepIO
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
    role_map: str | None = None  # Ansible groups to roles: gateway=lbs,backend=web


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
        io: StepIO = ReplaySteps(scenario.events, speed=cfg.replay_speed)
        mode = "replay"
    else:
        if not cfg.inventory:
            raise ValueError("a live run needs -i INVENTORY (or --scenario NAME for replayed hosts)")
        inventory = load_inventory(cfg.inventory, role_map=cfg.role_map)
        remote = make_remote(
            cfg.transport, accept_new_host_keys=cfg.accept_new_host_keys, host_key_prompt=host_key_prompt
        )
        local = LocalTransport()
        io = LiveSteps(remote, local)
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
        io=io,
    )
    session.run_info = {
        "inventory": str(Path(cfg.inventory).resolve()) if cfg.inventory else None,
        "transport": cfg.transport,
        "accept_new_host_keys": cfg.accept_new_host_keys,
        "answers": cfg.answers,
        "variables": cfg.variables,
        "role_map": cfg.role_map,
    }
    if resume_events is not None:
        session.resume(resume_events)
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
        role_map=run.get("role_map"),
        journal=journal,
        incident=start.get("incident") or {},
    )
