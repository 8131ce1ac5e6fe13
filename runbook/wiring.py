"""Wiring: builds a session from command-line choices (playbook, inventory or scenario,
transports, step I/O, journal), and the run configuration a journal records for resume."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

# what a run needs is imported where the session is built: the TUI draws its first frame
# from the playbook's head (see start_info) while these load in a worker
if TYPE_CHECKING:
    from runbook.playbook import Playbook
    from runbook.scenario import Scenario
    from runbook.session import ConfirmMutating, Session
    from runbook.transports.base import HostKeyPrompt, Transport


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
        from runbook.transports.local import LocalTransport

        return LocalTransport()
    from runbook.transports.factory import make_transport

    return make_transport(kind, accept_new_host_keys=accept_new_host_keys, host_key_prompt=host_key_prompt)


def build_session(
    cfg: RunConfig,
    *,
    host_key_prompt: HostKeyPrompt | None = None,
    confirm_mutating: ConfirmMutating | None = None,
    resume_events: list[dict[str, Any]] | None = None,
    prepared: StartInfo | None = None,
) -> Session:
    """Load everything a run needs; SourceError (exit 2) on a bad playbook, inventory or scenario.

    `prepared`: what start_info already read (the scenario, the journal's path), used as is."""
    from runbook.checks.replay import ReplaySteps
    from runbook.checks.runner import LiveSteps, StepIO
    from runbook.inventory import Inventory, load_inventory
    from runbook.journal import Journal, new_journal_path
    from runbook.playbook import load_playbook
    from runbook.scenario import find_scenario
    from runbook.session import Session, SessionOptions
    from runbook.transports.local import LocalTransport
    from runbook.transports.replay import ReplayTransport

    playbook: Playbook = load_playbook(cfg.playbook)
    _remember_head(playbook)
    scenario: Scenario | None = None
    if cfg.scenario:
        scenario = prepared.scenario if prepared is not None and prepared.scenario else find_scenario(cfg.scenario)
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
    if prepared is not None:
        journal_path = prepared.journal
    else:
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


def _playbook_ref(start: dict[str, Any]) -> str:
    """The file the journal was started from while it still exists; else the playbook's id
    (a journal or scenario recorded on another machine names a path that is not here)."""
    path, ident = start.get("playbook_path"), start.get("playbook")
    if isinstance(path, str) and path and (Path(path).is_file() or not ident):
        return path
    return str(ident)


def config_from_journal(events: list[dict[str, Any]], journal: str) -> RunConfig:
    start = next((e for e in events if e["type"] == "session-start"), None)
    if start is None:
        raise ValueError(f"{journal}: no session-start event; nothing to resume")
    run = start.get("run") or {}
    return RunConfig(
        playbook=_playbook_ref(start),
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


# ---- the start screen's facts, before the session exists ---------------------------------------


@dataclass
class StartInfo:
    """What the first screen shows, read without building the session (nor importing what it
    needs): the playbook's head from a cache keyed by the file's content, the scenario's hosts."""

    playbook_id: str
    title: str
    public_url: str | None
    hosts: int
    journal: Path
    scenario: Scenario | None = None

    @property
    def scenario_name(self) -> str | None:
        return self.scenario.name if self.scenario else None


def start_info(cfg: RunConfig) -> StartInfo | None:
    """The start screen's facts for a replayed run, or None when they cannot be had cheaply (a
    live inventory, a playbook not loaded since it last changed): then the session answers."""
    if not cfg.scenario:
        return None
    head = _cached_head(cfg.playbook)
    if head is None:
        return None
    from runbook.journal import new_journal_path
    from runbook.scenario import find_scenario

    try:
        scenario = find_scenario(cfg.scenario)
    except Exception:
        return None  # the session build says what is wrong, as it always has
    start = next((e for e in scenario.events if e.get("type") == "session-start"), None)
    if start is None:
        return None
    names = {h.get("name") for h in start.get("inventory") or [] if isinstance(h, dict)}
    # as Engine.global_vars: the playbook's, the inventory's, then --var
    url = {**head["vars"], **dict(start.get("vars") or {}), **cfg.variables}.get("public_url")
    return StartInfo(
        playbook_id=head["id"],
        title=head["title"],
        public_url=str(url) if url else None,
        hosts=len(names),
        journal=Path(cfg.journal) if cfg.journal else new_journal_path(head["id"]),
        scenario=scenario,
    )


def _head_path(path: Path) -> Path | None:
    try:
        from platformdirs import user_cache_dir

        from runbook import __version__

        digest = hashlib.sha256(path.read_bytes())
        digest.update(__version__.encode())
        return Path(user_cache_dir("runbook")) / "playbook-heads" / f"{digest.hexdigest()}.json"
    except (OSError, ValueError):
        return None


def _cached_head(ref: str) -> dict[str, Any] | None:
    from runbook.errors import SourceError
    from runbook.playbook.find import find_playbook

    try:
        marker = _head_path(find_playbook(ref))
        if marker is None:
            return None
        head = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError, SourceError):
        return None
    if not isinstance(head, dict) or not isinstance(head.get("vars"), dict):
        return None
    return head


def _remember_head(playbook: Playbook) -> None:
    """The head of a playbook that loaded and passed its checks, for start_info next time."""
    if not playbook.path:
        return
    marker = _head_path(Path(playbook.path))
    if marker is None or marker.exists():
        return
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        tmp = marker.with_name(f"{marker.name}.{os.getpid()}.tmp")
        head = {"id": playbook.id, "title": playbook.title, "vars": playbook.vars}
        tmp.write_text(json.dumps(head, default=str), encoding="utf-8")
        tmp.replace(marker)
    except (OSError, TypeError, ValueError):
        pass  # a read-only home: the start screen waits for the session, as before
