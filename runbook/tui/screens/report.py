"""Report preview: the Markdown report as it would be exported now.

Rendering runs in a thread (reading the journal, the template, and laying the Markdown out as
terminal text), so the screen opens at once with a progress line and never blocks keys.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

from rich.console import Console
from rich.markdown import Markdown
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, LoadingIndicator, Static


def markdown_as_text(markdown: str, width: int) -> Text:
    """The Markdown laid out for a terminal of `width` columns (pure: safe in a thread)."""
    out = io.StringIO()
    console = Console(file=out, width=max(40, width), force_terminal=True, color_system="truecolor", highlight=False)
    console.print(Markdown(markdown, code_theme="ansi_dark", hyperlinks=True))  # link text only, no "(#step-1)"
    return Text.from_ansi(out.getvalue())


#: where the report's appendix starts (the template's "# Appendix" heading)
APPENDIX = "\n# Appendix\n"


class ReportScreen(Screen[None]):
    BINDINGS = [
        Binding("question_mark", "app.help", "Help"),
        Binding("q", "app.quit", "Quit"),
        Binding("escape", "app.pop_screen", "Close"),
        Binding("ctrl+s", "app.export", "Export"),
        Binding("p", "noop", "", show=False),  # p again: the preview stays (Escape closes it)
    ]

    def action_noop(self) -> None:
        pass

    def __init__(self, markdown: str | Callable[[], str]) -> None:
        super().__init__()
        self.source = markdown
        self.markdown = markdown if isinstance(markdown, str) else ""
        #: seconds from opening to the report on screen (benchmarks read it)
        self.opened_at = time.perf_counter()
        self.shown_after: float | None = None
        #: the whole report, appendix included, is on screen
        self.complete = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Rendering the report…", id="report-progress")
        yield LoadingIndicator(id="report-loading")
        with VerticalScroll(id="report"):
            yield Static(id="report-text")
        yield Footer(show_command_palette=False, compact=True)

    def on_mount(self) -> None:
        self.sub_title = "report preview"
        self.query_one("#report").display = False
        self.render_report(max(40, self.app.size.width - 4))

    @work(thread=True, exclusive=True, group="report")
    def render_report(self, width: int) -> None:
        """The main body first (what a reader looks at), then the appendix below it."""
        markdown = self.source() if callable(self.source) else self.source
        body, marker, appendix = markdown.partition(APPENDIX)
        text = markdown_as_text(body, width)
        self.app.call_from_thread(self.show, markdown, text, bool(marker))
        if marker:
            text.append_text(markdown_as_text(marker.lstrip("\n") + appendix, width))
            self.app.call_from_thread(self.show, markdown, text, False)

    def show(self, markdown: str, text: Text, more: bool) -> None:
        self.markdown = markdown
        self.query_one("#report-text", Static).update(text)
        self.query_one("#report-loading").display = False
        progress = self.query_one("#report-progress", Static)
        progress.display = more
        progress.update("Rendering the appendix (every step)…")
        scroll = self.query_one("#report")
        if not scroll.display:
            scroll.display = True
            scroll.focus()
            self.shown_after = time.perf_counter() - self.opened_at
        self.complete = not more
