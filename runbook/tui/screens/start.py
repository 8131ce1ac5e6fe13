"""The start screen: the incident's title, severity, ticket and responder (prefilled, skippable)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static

SEVERITIES = ["SEV1", "SEV2", "SEV3", "SEV4"]


class StartScreen(Screen[dict[str, str]]):
    """Dismissed with the incident fields (empty ones left out)."""

    BINDINGS = [
        Binding("ctrl+s", "start", "Start", priority=True),
        Binding("escape", "skip", "Skip"),
    ]
    #: the app's -wide/-narrow classes style only the main screen: set here, they would restyle
    #: every widget of this form once more before its first frame
    HORIZONTAL_BREAKPOINTS = []

    def __init__(self, incident: dict[str, str], subtitle: str) -> None:
        super().__init__()
        self.incident = incident
        self.subtitle = subtitle

    def compose(self) -> ComposeResult:
        with Vertical(id="start-box"):
            yield Label("runbook", id="start-logo")
            yield Static(self.subtitle, id="start-subtitle")
            yield Label("Incident title")
            yield Input(self.incident.get("title", ""), id="title", placeholder="what users see")
            with Horizontal(id="start-row"):
                with Vertical(id="start-severity"):
                    yield Label("Severity")
                    severity = self.incident.get("severity") or "SEV2"
                    options = SEVERITIES if severity in SEVERITIES else [severity, *SEVERITIES]
                    yield Select([(s, s) for s in options], value=severity, allow_blank=False, id="severity")
                with Vertical():
                    yield Label("Responder")
                    yield Input(self.incident.get("responder", ""), id="responder")
            yield Label("Ticket or incident link")
            yield Input(self.incident.get("ticket", ""), id="ticket", placeholder="https://... (optional)")
            with Horizontal(id="start-buttons"):
                yield Button("Skip (esc)", id="skip")
                yield Button("Start (enter)", id="start", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    def fields(self) -> dict[str, str]:
        out = {k: self.query_one(f"#{k}", Input).value.strip() for k in ("title", "responder", "ticket")}
        out["severity"] = str(self.query_one("#severity", Select).value)
        return {k: v for k, v in out.items() if v}

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self.action_start()
        else:
            self.action_skip()

    def action_start(self) -> None:
        self.dismiss(self.fields())

    def action_skip(self) -> None:
        self.dismiss(dict(self.incident))
