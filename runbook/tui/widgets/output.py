"""Live output, one tab per host: batched writes, bounded scrollback."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Log, TabbedContent, TabPane

#: lines kept per host; older lines scroll away
MAX_LINES = 5000
#: writes are gathered and flushed at most this often (seconds)
FLUSH_EVERY = 1 / 20


def pane_id(host: str) -> str:
    return "out-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in host)


class OutputTabs(Vertical):
    DEFAULT_CSS = """
    OutputTabs { height: 1fr; }
    OutputTabs > TabbedContent { height: 1fr; }
    OutputTabs TabPane { padding: 0; }
    OutputTabs Log { height: 1fr; scrollbar-size-vertical: 1; }
    """

    def __init__(self, hosts: list[str], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.hosts = list(hosts)
        self.pending: dict[str, list[str]] = {}
        self.written: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        with TabbedContent():
            for host in self.hosts:
                with TabPane(host, id=pane_id(host)):
                    yield Log(max_lines=MAX_LINES, id=f"log-{pane_id(host)}")

    def on_mount(self) -> None:
        self.set_interval(FLUSH_EVERY, self.flush)

    def feed(self, host: str, text: str) -> None:
        """Queue text for a host's log (cheap: called for every chunk of output)."""
        self.pending.setdefault(host, []).append(text)

    def line(self, host: str, text: str) -> None:
        """Queue a whole line (a header or a result), starting on a fresh line."""
        parts = self.pending.setdefault(host, [])
        parts.append(f"\n{text}\n" if self._mid_line(host) else f"{text}\n")

    def _mid_line(self, host: str) -> bool:
        parts = self.pending.get(host)
        if parts:
            return not parts[-1].endswith("\n")
        log = self.log_for(host)
        return bool(log and log.lines and log.lines[-1])

    def log_for(self, host: str) -> Log | None:
        found = self.query(f"#log-{pane_id(host)}")
        return found.first(Log) if found else None

    def flush(self) -> None:
        if not self.pending:
            return
        pending, self.pending = self.pending, {}
        for host, parts in pending.items():
            log = self.log_for(host)
            if log is None:
                self.hosts.append(host)
                self.query_one(TabbedContent).add_pane(
                    TabPane(host, Log(max_lines=MAX_LINES, id=f"log-{pane_id(host)}"), id=pane_id(host))
                )
                self.pending.setdefault(host, []).extend(parts)  # written on the next flush
                continue
            text = "".join(parts)
            log.write(text)
            self.written[host] = self.written.get(host, 0) + len(text)

    def show_host(self, host: str) -> None:
        if host in self.hosts:
            self.query_one(TabbedContent).active = pane_id(host)
