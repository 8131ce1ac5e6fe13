"""Regenerate the SVG (and PNG, with rsvg-convert) screenshots of the app's main states.

    python screenshots/make_screenshots.py            # every shot
    python screenshots/make_screenshots.py finding    # only the shots whose name starts so

The states come from tests/tui/states.py (the snapshot tests use the same drivers), on the
fixtures in tests/tui/fixtures, with a frozen clock so reruns give the same pictures.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(OUT.parent))  # the states are test code, under tests/

from tests.tui.states import STATES, frozen  # noqa: E402

#: file name -> (state, size, theme)
SHOTS: dict[str, tuple[str, tuple[int, int], str]] = {
    "start": ("start", (160, 48), "textual-dark"),
    "running": ("running", (160, 48), "textual-dark"),
    "finding": ("finding", (160, 48), "textual-dark"),
    "question": ("question", (160, 48), "textual-dark"),
    "conclusion": ("conclusion", (160, 48), "textual-dark"),
    "inconclusive": ("inconclusive", (160, 48), "textual-dark"),
    "report": ("report", (160, 48), "textual-dark"),
    "help": ("help", (160, 48), "textual-dark"),
    "result": ("result", (160, 48), "textual-dark"),
    "finding-detail": ("finding-detail", (160, 48), "textual-dark"),
    "result-80x24": ("result", (80, 24), "textual-dark"),
    "finding-80x24": ("finding", (80, 24), "textual-dark"),
    "running-80x24": ("running", (80, 24), "textual-dark"),
    "finding-light": ("finding", (160, 48), "textual-light"),
    "conclusion-light": ("conclusion", (160, 48), "textual-light"),
}


async def shoot(name: str, state: str, size: tuple[int, int], theme: str) -> Path:
    make, drive = STATES[state]
    with frozen():
        app = make()
        async with app.run_test(size=size) as pilot:
            app.theme = theme
            await drive(pilot)
            await pilot.pause(0.2)
            path = app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
    return Path(path)


def to_png(svg: Path) -> Path | None:
    if not shutil.which("rsvg-convert"):
        return None
    png = svg.with_suffix(".png")
    subprocess.run(["rsvg-convert", str(svg), "-o", str(png)], check=True)
    return png


def main(argv: list[str]) -> int:
    wanted = [n for n in SHOTS if not argv or any(n.startswith(a) for a in argv)]
    for name in wanted:
        state, size, theme = SHOTS[name]
        svg = asyncio.run(shoot(name, state, size, theme))
        png = to_png(svg)
        print(f"{svg.relative_to(OUT.parent)}" + (f"  {png.relative_to(OUT.parent)}" if png else ""))
    if not shutil.which("rsvg-convert"):
        print("rsvg-convert not found: SVG only", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
