"""The first frame comes before the session: the start screen from the playbook's head and the
scenario, the session built in a worker behind it (issue 24)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

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


async def test_the_start_screen_is_composed_after_the_apps_start_up(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Textual writes no frame painted inside its start-up batch: a start screen composed there
    would reach the terminal only with the next full layout."""
    warm = build_session(lab_config(tmp_path / "warm.jsonl"))  # caches the head: no session first
    await warm.close()
    app = RunbookApp(lab_config(tmp_path / "j.jsonl"), export_dir=tmp_path)
    batches: list[int] = []
    compose = StartScreen.compose

    def composing(screen: StartScreen) -> Any:
        batches.append(app._batch_count)
        return compose(screen)

    monkeypatch.setattr(StartScreen, "compose", composing)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        assert batches == [0]
        await settle(pilot, app)


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


#: what the start screen does not draw, nor bare `runbook` need before it: imported later, where used
NOT_BEFORE_THE_FIRST_FRAME = (
    "argparse",  # bare `runbook` has no command line to parse
    "pydantic",
    "jinja2",
    "yaml",
    "asyncssh",
    "paramiko",
    "httpx",
    "dns",
    "detect_secrets",
    "crossplane",
    "markdown_it",
    "runbook.engine",
    "runbook.session",
    "runbook.events",
    "runbook.playbook.model",
    "runbook.playbook.loader",
    "runbook.playbook.expr",
    "runbook.safety",
    "runbook.report",
    "runbook.tui.widgets",
    "runbook.tui.screens.main",
    "runbook.tui.screens.modals",
    "runbook.tui.screens.report",
    "runbook.tui.screens.conclusion",
)


def test_bare_runbook_reaches_the_app_with_nothing_the_start_screen_does_not_draw() -> None:
    """`runbook` with no arguments (the demo), as far as the app and its start screen's facts."""
    code = (
        "import sys, runbook.cli, runbook.tui.app as a, runbook.wiring as w\n"
        "def run_app(cfg, resume_events=None):\n"
        "    w.start_info(cfg)  # what RunbookApp does before its first frame\n"
        f"    heavy = {NOT_BEFORE_THE_FIRST_FRAME!r}\n"
        "    print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith(heavy)))\n"
        "    return 0\n"
        "a.run_app = run_app\n"
        "runbook.cli._no_tty_hint = lambda: None\n"
        "sys.exit(runbook.cli.main([]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
