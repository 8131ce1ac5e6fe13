"""One line: each host and the state of its connection."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

STATE_STYLES = {
    "connected": ("●", "green"),
    "replayed": ("●", "cyan"),
    "connecting": ("◌", "yellow"),
    "idle": ("○", "dim"),
    "unreachable": ("✖", "red"),
    "key-unknown": ("?", "bold red"),
}


class HostBar(Static):
    DEFAULT_CSS = """
    HostBar { height: 1; padding: 0 1; background: $panel; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.key: tuple[object, ...] = ()

    def show(self, states: dict[str, str], mode: str = "") -> None:
        key = (mode, tuple(states.items()))
        if key == self.key:
            return
        self.key = key
        text = Text()
        if mode:
            text.append(f"{mode}  ", style="bold")
        for host, state in states.items():
            icon, style = STATE_STYLES.get(state, ("·", ""))
            text.append(f"{icon} ", style=style)
            text.append(host, style="bold")
            text.append(f" {state}   ", style="dim")
        self.update(text)
