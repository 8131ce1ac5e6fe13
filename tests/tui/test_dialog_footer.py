"""While a dialog is open, the footer shows the dialog's keys, not the main screen's (issue 24 item 4)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets._footer import FooterKey

from runbook.tui.app import RunbookApp
from runbook.tui.screens.main import MainScreen
from runbook.tui.screens.modals import ChooseScreen, ConfirmScreen

from .conftest import lab_config, settle, wait_for

SIZE = (120, 36)


def bottom_keys(app: RunbookApp) -> list[tuple[str, str, bool]]:
    """The keys drawn on the terminal's last line, left to right: (key and label, owning screen
    is the one on top, enabled): what the engineer sees, not what a screen declares."""
    screen = app.screen
    y = app.size.height - 1
    seen: list[FooterKey] = []
    for x in range(app.size.width):
        widget, _ = screen.get_widget_at(x, y)
        if isinstance(widget, FooterKey) and widget not in seen:
            seen.append(widget)
    return [(w.render().plain.strip(), w.screen is screen, not w.has_class("-disabled")) for w in seen]


async def test_dialog_footer_shows_the_dialog_keys(tmp_path: Path) -> None:
    app = RunbookApp(lab_config(tmp_path / "j.jsonl"), export_dir=tmp_path, ask_incident=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("r")
        await wait_for(pilot, lambda: app.main is not None and app.main.result_for == "symptom")
        await pilot.press("enter")
        await settle(pilot, app)
        main = [text for text, _, _ in bottom_keys(app)]
        assert any("Run" in t for t in main) and any("Back" in t for t in main), main

        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, ChooseScreen))
        await settle(pilot, app)
        keys = bottom_keys(app)
        texts = [text for text, _, _ in keys]
        assert texts, "no footer on the dialog's last line"
        assert all(own for _, own, _ in keys), keys  # every key drawn belongs to the dialog
        assert any("Close" in t for t in texts) and any("Choose" in t for t in texts), texts
        for word in ("Run", "Skip", "Auto", "Back", "Help", "Quit", "Report"):
            assert not any(word in t for t in texts), (word, texts)

        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        await settle(pilot, app)
        assert any("Run" in text for text, _, _ in bottom_keys(app))

        # a yes/no dialog: its own answers, nothing of the screen behind
        app.push_screen(ConfirmScreen("Go back?", "What was found after it is set aside."))
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await settle(pilot, app)
        texts = [text for text, own, _ in bottom_keys(app) if own]
        assert any("Yes" in t for t in texts) and any("No" in t for t in texts), texts
        assert not any("Run" in t or "Skip" in t for t in texts), texts
