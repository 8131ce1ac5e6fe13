"""What the TUI shows of step output goes through the same redaction as every export (issue 24
item 8): the Output panel, the findings table, the step result and the finding detail call
`runbook.safety.clean`; only the private journal keeps the secret."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from runbook.tui.app import RunbookApp

from .conftest import LOCAL_REPLAY, local_replay_config, settle, wait_for

SECRET = "hunter2secret"


def _scenario_with_a_secret(tmp_path: Path) -> Path:
    lines = LOCAL_REPLAY.read_text().splitlines()
    for i, line in enumerate(lines):
        event = json.loads(line)
        if event["type"] == "step-result":
            event["stdout"] = f"DB_PASSWORD={SECRET}\n" + str(event.get("stdout") or "")
            event["stderr"] = f"psql: connection failed password={SECRET}\n"
            lines[i] = json.dumps(event)
    path = tmp_path / "secret-replay.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


async def test_step_output_on_screen_is_redacted(tmp_path: Path) -> None:
    cfg = dataclasses.replace(
        local_replay_config(tmp_path / "j.jsonl"), scenario=str(_scenario_with_a_secret(tmp_path))
    )
    app = RunbookApp(cfg, export_dir=tmp_path, ask_incident=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, app)
        await pilot.press("r")
        await settle(pilot, app)
        await wait_for(pilot, lambda: app.session.status != "running")
        await settle(pilot, app)
        screen = app.export_screenshot()
        await pilot.press("q")
    assert SECRET in (tmp_path / "j.jsonl").read_text()  # the private journal keeps it
    assert "DB_PASSWORD" in screen  # the output is on screen
    assert SECRET not in screen
