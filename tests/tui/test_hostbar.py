"""The host bar follows the session's host-state events: no polling of the transports."""

from __future__ import annotations

import socket
from pathlib import Path

from runbook.tui.app import RunbookApp
from runbook.tui.widgets.hostbar import HostBar
from runbook.wiring import RunConfig
from tests.conftest import FIXTURES

from .conftest import settle, wait_for


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_host_bar_shows_a_refused_connection_from_events_without_polling(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(f"hosts:\n  web1: {{address: 127.0.0.1, port: {closed_port()}, roles: [backend]}}\n")
    cfg = RunConfig(
        playbook=str(FIXTURES / "mini.yaml"),
        inventory=str(inventory),
        transport="asyncssh",
        journal=str(tmp_path / "j.jsonl"),
    )
    app = RunbookApp(cfg, export_dir=tmp_path, ask_incident=False)
    session = app.session
    asked: list[int] = []
    first_draw = session.host_states

    def counted() -> dict[str, str]:
        asked.append(1)
        return first_draw()

    session.host_states = counted  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        bar = app.screen.query_one(HostBar)
        assert bar.states == {"web1": "idle"}
        drawn = len(asked)
        await pilot.press("r")
        await wait_for(pilot, lambda: bar.states.get("web1") == "unreachable")
        await settle(pilot, app)
        assert "unreachable" in str(bar.render())
        assert len(asked) == drawn  # the change came as an event, not from asking again
        await app.shutdown()
