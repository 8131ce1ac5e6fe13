"""One line: each host and the state of its connection."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
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

    @dataclass
    class StateChanged(Message, bubble=False):
        """One host's connection changed (from the session's host-state event)."""

        host: str
        state: str

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.key: tuple[object, ...] = ()
        self.states: dict[str, str] = {}
        self.mode = ""

    def on_host_bar_state_changed(self, message: StateChanged) -> None:
        self.show({**self.states, message.host: message.state}, self.mode)

    def show(self, states: dict[str, str], mode: str = "") -> None:
        self.states, self.mode = dict(states), mode
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
