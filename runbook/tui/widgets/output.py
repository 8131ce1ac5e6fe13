"""Output of one node: each command's header (host, check, command) above its own output.

The panel always shows the node named in the Current step panel (the step whose result is on
screen, or the one running). Output is kept per step, bounded, and redrawn at most a few times
a second while it streams; `l` toggles wrapping long lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import RichLog

from runbook.safety import clean

#: characters kept per step for the live view (the journal keeps the whole output)
MAX_CHARS = 200_000
#: lines of one step drawn in the panel; the finding detail and the report show the rest
MAX_LINES = 2000
#: redraws while output streams, at most this often (seconds)
FLUSH_EVERY = 1 / 8
#: lines drawn per flush while output streams faster than anyone reads; the rest is counted
STREAM_LINES = 200


@dataclass
class Block:
    node: str
    host: str
    title: str
    command: str = ""
    parts: list[str] = field(default_factory=list)
    size: int = 0
    result: str = ""
    style: str = "bold"

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size > 2 * MAX_CHARS:  # keep the end (that is where a failure shows); trimmed now and then
            joined = "".join(self.parts)[-MAX_CHARS:]
            self.parts, self.size = [joined], len(joined)

    def text(self) -> str:
        return "".join(self.parts)


class OutputView(Vertical):
    DEFAULT_CSS = """
    OutputView { height: 1fr; }
    OutputView > RichLog { height: 1fr; scrollbar-size-vertical: 1; background: $surface; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.blocks: dict[str, Block] = {}
        self.order: dict[str, list[str]] = {}
        self.shown: str | None = None
        self.wrap = False
        self._dirty = False
        #: while output streams in: what arrived since the last flush, in arrival order
        self._stream: list[tuple[str, str]] = []
        #: the block the streamed text last came from, and its unfinished last line
        self._last_block: str | None = None
        self._partial: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield RichLog(
            id="output-log", wrap=False, markup=False, highlight=False, auto_scroll=True, max_lines=4 * MAX_LINES
        )

    def on_mount(self) -> None:
        self.set_interval(FLUSH_EVERY, self.flush)

    # ---- feeding ----------------------------------------------------------------------
    def new_visit(self, node: str) -> None:
        """A node is entered (again): what an earlier visit ran is set aside."""
        for step_id in self.order.pop(node, []):
            self.blocks.pop(step_id, None)
        self._touch(node)

    def start(self, step_id: str, node: str, host: str, check: str, command: str) -> None:
        self.blocks[step_id] = Block(node, host, f"{host} · {check}", command)
        self.order.setdefault(node, []).append(step_id)
        self._touch(node)

    def feed(self, step_id: str, text: str) -> None:
        block = self.blocks.get(step_id)
        if block is not None:
            block.add(text)
            if block.node == self.shown and not self._dirty:
                self._stream.append((step_id, text))  # appended as it comes, no redraw

    def result(self, step_id: str, text: str) -> None:
        block = self.blocks.get(step_id)
        if block is not None:
            block.result = text
            self._touch(block.node)

    def note(self, node: str, host: str, text: str) -> None:
        """A line outside any step (following a log), under its own header for the host."""
        key = f"follow:{node}:{host}"
        if key not in self.blocks:
            self.blocks[key] = Block(node, host, f"{host} · following the log", style="bold cyan")
            self.order.setdefault(node, []).append(key)
        block = self.blocks[key]
        if block.parts and not block.parts[-1].endswith("\n"):
            block.add("\n")
        block.add(text + "\n")
        self._touch(node)

    def follow_feed(self, node: str, host: str, text: str) -> None:
        key = f"follow:{node}:{host}"
        if key in self.blocks:
            self.feed(key, text)

    def _touch(self, node: str) -> None:
        if node == self.shown:
            self._dirty = True
            self._stream.clear()

    # ---- showing ----------------------------------------------------------------------
    def show_node(self, node: str | None, *, settled: bool = False) -> None:
        """Show a node's output; a settled one (its result on screen) reads from the top."""
        log = self.query_one(RichLog)
        changed = node != self.shown or settled == log.auto_scroll
        log.auto_scroll = not settled
        if changed:
            self.shown = node
            self._dirty = True
            self.flush()
            if settled:  # after the layout settles too (the step panel grows when a result shows)
                log.scroll_home(animate=False, immediate=True)
                self.call_after_refresh(log.scroll_home, animate=False, immediate=True)

    def toggle_wrap(self) -> bool:
        self.wrap = not self.wrap
        self.query_one(RichLog).wrap = self.wrap
        self._dirty = True
        self.flush()
        return self.wrap

    def plain(self, node: str | None = None) -> str:
        """What the panel shows for a node, as plain text (tests, copy)."""
        return self.render_text(node if node is not None else self.shown).plain

    def render_text(self, node: str | None) -> Text:
        out = Text()
        for step_id in self.order.get(node or "", []):
            block = self.blocks[step_id]
            out.append(f"━━ {block.title}", style=block.style)
            if block.command:
                out.append(f"   $ {clean(block.command)}", style="dim")
            out.append("\n")
            # the whole block at once: a key block that arrived in pieces is redacted as one
            lines = clean(block.text()).splitlines()
            if len(lines) > MAX_LINES:
                out.append(f"… {len(lines) - MAX_LINES} earlier lines (the finding detail and the report have them)\n")
                lines = lines[-MAX_LINES:]
            for line in lines:
                out.append(line + "\n")
            if block.result:
                out.append(f"   └ {block.result}\n", style="italic")
            out.append("\n")
        if not out:
            out.append("No output for this step yet: r runs it.", style="dim")
        return out

    def flush(self) -> None:
        if not self.is_mounted:
            return
        log = self.query_one(RichLog)
        if not self._dirty:
            self._append_stream(log)
            return
        self._dirty = False
        self._stream.clear()
        self._partial.clear()
        self._last_block = None
        y = log.scroll_y
        log.clear()
        text = self.render_text(self.shown)
        text.rstrip()  # streamed lines then follow on the very next line, as a full redraw would show them
        log.write(text, expand=True, scroll_end=log.auto_scroll)
        if self.order.get(self.shown or ""):
            self._last_block = self.order[self.shown or ""][-1]
        if not log.auto_scroll:
            log.scroll_to(y=y, animate=False, immediate=True)

    def _append_stream(self, log: RichLog) -> None:
        """Streamed output, appended in arrival order; a header line marks a change of step."""
        if not self._stream:
            return
        chunks, self._stream = self._stream, []
        out = Text()
        for step_id, text in chunks:
            block = self.blocks.get(step_id)
            if block is None:
                continue
            if step_id != self._last_block:
                left = self._partial.pop(self._last_block or "", "")
                if left:
                    out.append(left + "\n")
                out.append(f"━━ {block.title} (continued)\n", style=block.style)
                self._last_block = step_id
            joined = self._partial.pop(step_id, "") + text
            whole, _, rest = joined.rpartition("\n")
            if rest:
                self._partial[step_id] = rest
            if whole:
                out.append(clean(whole) + "\n")
        if out:
            out.right_crop(1)
            lines = out.split("\n")
            if len(lines) > STREAM_LINES:  # a flood: draw its end, say how much went by
                skipped = len(lines) - STREAM_LINES
                out = Text(f"… {skipped} lines streamed past (the step's result shows them)\n", style="dim")
                out.append_text(Text("\n").join(lines[-STREAM_LINES:]))
            log.write(out, expand=True, scroll_end=log.auto_scroll)
