"""Nothing gives the answer away before the diagnosis: no scenario title, fault name, cause or
conclusion on any screen (the text of the screenshots), in the hints, or in `train --list`."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from runbook.playbook.model import CAUSES
from runbook.training.session import pick_scenario
from runbook.tui.training import ChooseNodeScreen, DiagnosisScreen, HintScreen, TrainingMainScreen

from .conftest import settle, wait_for
from .leaks import leaks_of
from .test_training_tui import SIZE, go_to, make_app, run_here, sign_in

EXERCISES = ["granite-owl", "birch-otter", "amber-heron", "teal-magpie", "onyx-plover"]


def screen_text(app) -> str:
    """What the terminal shows, from the SVG screenshot: each row's spans joined."""
    svg = app.export_screenshot()
    rows = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    text = "".join(html.unescape(re.sub(r"<[^>]+>", "", r)) for r in rows)
    return text.replace("\xa0", " ")


@pytest.mark.parametrize("name", EXERCISES)
async def test_no_screen_gives_the_answer_away_before_the_diagnosis(name: str, tmp_path: Path) -> None:
    scenario = pick_scenario(name)
    secrets = leaks_of(scenario)
    assert scenario.header["expected_cause"] in secrets or scenario.header["expected_cause"] == "no-fault-found"
    app = make_app(name, tmp_path)
    shown: list[tuple[str, str]] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown.append(("name", screen_text(app)))
        await sign_in(pilot, app)
        shown.append(("main", screen_text(app)))
        await run_here(pilot, app)
        shown.append(("choose", screen_text(app)))
        for node in app.training.reference.expert_runs[1:3]:
            await go_to(pilot, app, node)
            shown.append((f"at {node}", screen_text(app)))
            await run_here(pilot, app)
            shown.append((f"ran {node}", screen_text(app)))
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, TrainingMainScreen)
        shown.append(("main after", screen_text(app)))
        for level in (1, 2, 3):
            await pilot.press("h")
            await wait_for(pilot, lambda: isinstance(app.screen, HintScreen))
            shown.append((f"hint {level}", screen_text(app)))
            await pilot.press("enter")
            await pilot.pause()
        await pilot.press("?")
        await pilot.pause()
        shown.append(("help", screen_text(app)))
        await pilot.press("escape")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DiagnosisScreen))
        dialog = screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert not app.training.committed
    assert all(text.strip() for _, text in shown)
    for where, text in shown:
        for secret in secrets:
            assert secret not in text, f"{where} shows {secret!r}"
    # the diagnosis dialog lists every cause alike; nothing else of the incident
    for secret in set(secrets) - set(CAUSES):
        assert secret not in dialog, f"the diagnosis dialog shows {secret!r}"
    assert all(c in dialog for c in CAUSES)


async def test_help_and_footer_show_hint_and_diagnose(tmp_path: Path) -> None:
    app = make_app("granite-owl", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, app)
        footer = screen_text(app).splitlines()[-1] if "\n" in screen_text(app) else screen_text(app)
        text = screen_text(app)
        assert "h Hint" in text.replace("  ", " ") or " h " in text
        assert "Diagnose" in text and "Hint" in text and "Next step" in text
        # the engine's walking keys are gone from the footer
        assert "Auto" not in text and "Skip" not in text and "Override" not in text
        await pilot.press("question_mark")
        await pilot.pause()
        help_text = screen_text(app)
        assert "commit your diagnosis" in help_text and "a hint (costs points" in help_text
        assert "auto-advance" not in help_text
        del footer
        await settle(pilot, app)


async def test_keys_typed_in_a_dialog_never_reach_the_screen_behind(tmp_path: Path) -> None:
    app = make_app("granite-owl", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, app)
        await run_here(pilot, app)
        assert isinstance(app.screen, ChooseNodeScreen)
        await pilot.press("enter")  # to the why field
        await pilot.press(*"hdpqrgb")  # hint, diagnose, preview, quit, run... as text
        assert isinstance(app.screen, ChooseNodeScreen)
        assert app.screen.query_one("#why").value == "hdpqrgb"
        assert not app.training.hints_given() and not app.training.committed
        await pilot.press("shift+tab")  # back to the list: letters there do nothing either
        await pilot.press("h", "p", "q")
        assert isinstance(app.screen, ChooseNodeScreen) and not app.training.hints_given()
