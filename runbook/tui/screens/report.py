"""Report preview: the Markdown report as it would be exported now.

Rendering runs in a thread (reading the journal, the template, and laying the Markdown out as
terminal text), so the screen opens at once with a progress line and never blocks keys.
"""

from __future__ import annotations

import io
import threading
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
from textual.widgets import Footer, Header, Static


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
        # a line of text, not a LoadingIndicator: its animation repaints on the UI thread and
        # takes the interpreter from the thread that lays the report out
        yield Static("Rendering the report…", id="report-progress")
        with VerticalScroll(id="report"):
            yield Static(id="report-text")
            yield Static(id="report-appendix")
        yield Footer(show_command_palette=False, compact=True)

    def on_mount(self) -> None:
        self.sub_title = "report preview"
        # focused now, not when the text comes: a focus change then would recompose the footer
        # in the very frame that first shows the report
        self.query_one("#report").focus()
        self.render_report(max(40, self.app.size.width - 4))

    @work(thread=True, exclusive=True, group="report")
    def render_report(self, width: int) -> None:
        """The main body first (what a reader looks at), then the appendix below it."""
        markdown = self.source() if callable(self.source) else self.source
        body, marker, appendix = markdown.partition(APPENDIX)
        self.app.call_from_thread(self.show, markdown, "#report-text", markdown_as_text(body, width), bool(marker))
        if marker:
            # the body is painted before the appendix takes the interpreter (a thread laying out
            # Markdown would otherwise delay that first frame till both were done)
            painted = threading.Event()
            self.app.call_from_thread(self.call_after_refresh, painted.set)
            painted.wait(timeout=1.0)  # bounded: a screen closed meanwhile never refreshes
            text = markdown_as_text(marker.lstrip("\n") + appendix, width)
            self.app.call_from_thread(self.show, markdown, "#report-appendix", text, False)

    def show(self, markdown: str, target: str, text: Text, more: bool) -> None:
        """One part of the report on screen (the body, then the appendix below it, untouched)."""
        self.markdown = markdown
        self.query_one(target, Static).update(text)
        progress = self.query_one("#report-progress", Static)
        progress.display = more
        progress.update("Rendering the appendix (every step)…")
        if self.shown_after is None:
            self.shown_after = time.perf_counter() - self.opened_at
        self.complete = not more
