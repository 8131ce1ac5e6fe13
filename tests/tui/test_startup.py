"""The first frame comes before the session: the start screen from the playbook's head and the
scenario, the session built in a worker behind it (issue 24)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import Static

from runbook.tui.app import RunbookApp
from runbook.tui.screens.main import MainScreen
from runbook.tui.screens.start import StartScreen
from runbook.wiring import build_session, start_info

from .conftest import lab_config, settle

SIZE = (120, 40)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


async def test_the_start_screen_is_drawn_before_the_session_is_built(tmp_path: Path, cache: Path) -> None:
    assert start_info(lab_config(tmp_path / "j.jsonl")) is None  # nothing cached: the session answers
    warm = build_session(lab_config(tmp_path / "warm.jsonl"))  # a load that passed caches the head
    await warm.close()
    app = RunbookApp(lab_config(tmp_path / "j.jsonl"), export_dir=tmp_path)
    assert app.start_info is not None
    assert app._session is None
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        await settle(pilot, app)
        assert app._session is not None  # built behind the first frame
        s = app.session
        subtitle = str(app.screen.query_one("#start-subtitle", Static).render())
        hosts = len(s.inventory.hosts)
        assert subtitle.startswith(f"{s.playbook.title} · {hosts} hosts · scenario {s.options.scenario} ")
        assert str(s.journal.path) in subtitle
        assert s.journal.path == tmp_path / "j.jsonl"
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, MainScreen)
        assert app.session.options.incident["title"] == f"{s.playbook.title} on {s.public_url}"


def test_the_tui_path_imports_neither_the_engine_nor_pydantic_before_the_first_frame() -> None:
    code = (
        "import sys, runbook.cli, runbook.tui.app, runbook.wiring as w;"
        "w.start_info(w.RunConfig(playbook='502-bad-gateway', scenario='demo'));"
        "heavy = ('pydantic', 'jinja2', 'runbook.engine', 'runbook.session', 'runbook.events', 'asyncssh',"
        " 'paramiko', 'detect_secrets', 'runbook.tui.screens.main', 'runbook.safety');"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
