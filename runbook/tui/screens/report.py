"""Report preview: the Markdown report as it would be exported now."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, MarkdownViewer


class ReportScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,p", "app.pop_screen", "Close"),
        Binding("ctrl+s", "app.export", "Export"),
    ]

    def __init__(self, markdown: str) -> None:
        super().__init__()
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        yield Header()
        yield MarkdownViewer(self.markdown, show_table_of_contents=False, id="report")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "report preview"
        self.query_one(MarkdownViewer).focus()
