"""The main screen: the tree, the current step, live output per host, findings, notes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Static

from runbook.engine import PlannedStep
from runbook.events import (
    Branched,
    Event,
    FollowEnded,
    FollowLine,
    FollowStarted,
    HostStateChanged,
    MutatingRefused,
    NodeEntered,
    NoteAdded,
    StepFinished,
    StepOutput,
    StepStarted,
)
from runbook.follow import FollowResult
from runbook.tui.model import branch_why, node_state, result_summary, targets
from runbook.tui.screens import modals
from runbook.tui.screens.modals import (
    ChooseScreen,
    ConfirmScreen,
    FindingScreen,
    QuestionScreen,
    finding_options,
    typed_ahead,
)
from runbook.tui.widgets.findings import FindingsTable
from runbook.tui.widgets.hostbar import HostBar
from runbook.tui.widgets.output import OutputView
from runbook.tui.widgets.step import StepPanel, commands_text
from runbook.tui.widgets.tree import PlaybookTree, TreeLegend

if TYPE_CHECKING:
    from runbook.session import Session

#: the main screen's keys; the help screen and the command palette list them from here
ACTIONS: list[tuple[str, str, str, bool]] = [
    # key, action, description, shown in the footer (when it does something now)
    ("enter", "continue", "Continue", True),
    ("r", "run", "Run", True),
    ("a", "auto", "Auto", True),
    ("e", "rerun", "Re-run", False),
    ("x", "cancel", "Cancel", True),
    ("s", "skip", "Skip", True),
    ("w", "answer", "Answer", True),
    ("c", "conclusion", "Conclusion", True),
    ("o", "override", "Override", True),
    ("b", "back", "Back", True),
    ("n", "note", "Note", False),
    ("l", "wrap", "Wrap", False),
    ("f", "follow", "Follow log", False),
    ("y", "copy", "Copy commands", False),
]

#: keys that change the walk: never taken from letters typed just as a dialog closed
WALK_ACTIONS = {"continue", "run", "auto", "rerun", "skip", "answer", "override", "back", "note"}

ACTION_HELP = {
    "continue": "after a step's result: go on to the next step (r does the same)",
    "conclusion": "show the conclusion again",
    "wrap": "wrap long lines in the Output panel (again: no wrap)",
    "run": "run the current step on its hosts; its result stays on screen until Enter or r",
    "auto": "auto-advance: run read-only steps without pausing on results, until a question or a conclusion",
    "rerun": "run the last step again (the current one if it was cancelled)",
    "cancel": "cancel the running step (or stop following a log)",
    "skip": "skip the current step; the default branch is taken",
    "answer": "answer the current question",
    "override": "override a verdict: dismiss a finding, or take another branch",
    "back": "go back to a visited node and branch again",
    "note": "write a note on the current step (Enter saves it to the journal)",
    "follow": "follow the step's log (tail -f) while test requests go through the gateway",
    "copy": "copy the current step's commands to the clipboard",
}


class MainScreen(Screen[None]):
    # Help and Quit first, so the footer never cuts them off
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "app.help", "Help"),
        Binding("q", "app.quit", "Quit"),
        *(Binding(key, action, desc, show=show, priority=key == "enter") for key, action, desc, show in ACTIONS),
        Binding("r", "continue", "Continue", show=False),  # r goes on from a result as Enter does
        Binding("ctrl+s", "app.export", "Export", show=False),  # in help and the conclusion; the footer is full
        Binding("escape", "focus_tree", "Tree", show=False),
    ]
    #: pause on each step's result (training keeps its own flow: a result would name the next node)
    pause_on_result = True

    @dataclass
    class SessionEvent(Message):
        """A typed event from the session (step output goes straight to the output tabs)."""

        event: Event

    def __init__(self, session: Session, *, start: bool) -> None:
        super().__init__()
        self.session = session
        self.statuses: dict[str, tuple[str, str]] = {}
        self.auto = False
        self.following: asyncio.Event | None = None
        self.asked_for: str | None = None
        self.shown_end_for: str | None = None
        self._start = start
        self._refresh_pending = False
        self._draft_timer: Timer | None = None
        self._last_draft = ""
        self._step_nodes: set[str] = set()
        #: node entries so far: a question or a conclusion opens once per entry
        self.visits = 0
        #: the node whose result is on screen until the engineer moves on (Enter or r)
        self.result_for: str | None = None
        #: per node of this walk: (host, check, status word, detail) of each step, and the branch taken
        self.step_rows: dict[str, list[tuple[str, str, str, str]]] = {}
        self.branches: dict[str, Branched] = {}
        #: a step run by r is under way: its result will be shown before anything opens
        self._stepping = False
        self._guard_timer: Timer | None = None

    # ---- layout -----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield HostBar(id="hostbar")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield PlaybookTree(self.session.playbook, id="tree")
                yield TreeLegend(id="legend")
            with Vertical(id="right"):
                yield StepPanel(id="step")
                yield OutputView(id="output")
                yield FindingsTable(id="findings")
        yield Static(id="status")
        note = Input(placeholder="Note on the current step: Enter saves it to the journal", id="note")
        note.can_focus = False  # Tab never lands here: n opens it
        yield note
        yield Footer(show_command_palette=False, compact=True)

    def on_mount(self) -> None:
        self.query_one("#tree").border_title = "Decision tree"
        self.query_one("#step").border_title = "Current step"
        self.query_one("#output").border_title = "Output"
        self.query_one("#findings").border_title = "Findings"
        # a resumed session: show what the journal already holds
        for obs in self.session.walk.observations:
            self.statuses[obs.key] = result_summary(obs.to_event())
            self.step_rows.setdefault(obs.node, []).append((obs.host, obs.check, *self.statuses[obs.key]))
        if self._start:
            self.session.start()
        # drawn once; then each host-state event from the session updates it (no polling)
        self.update_hostbar()
        self.refresh_all()
        self.query_one("#tree").focus()

    # ---- session events -----------------------------------------------------------------
    def session_event(self, event: Event) -> None:
        """Called by the app for every session event, on the app's event loop."""
        if isinstance(event, StepOutput):
            self.query_one(OutputView).feed(event.step_id, event.text)
            return
        if isinstance(event, (FollowStarted, FollowLine, FollowEnded)):
            self.show_follow(event)
            return
        if isinstance(event, HostStateChanged):
            self.query_one(HostBar).post_message(HostBar.StateChanged(event.host, event.state))
            return
        self.post_message(self.SessionEvent(event))

    def show_follow(self, event: FollowStarted | FollowLine | FollowEnded) -> None:
        """Following a log: its lines under a header for the host, in the current step's Output."""
        output, host, node = self.query_one(OutputView), event.host, self.session.current or ""
        if output.shown != node:
            self.result_for = None
            self.schedule_refresh()
        if isinstance(event, FollowStarted):
            output.note(node, host, f"following on {host}: {event.command}  (f or x stops)")
        elif isinstance(event, FollowLine):
            text = event.text if event.stream == "log" else f"→ {event.text}"
            output.follow_feed(node, host, text if text.endswith("\n") else text + "\n")
        else:
            output.note(node, host, f"stopped following: {event.lines} lines in {event.duration_s:.0f}s")

    def on_main_screen_session_event(self, message: SessionEvent) -> None:
        event = message.event
        output = self.query_one(OutputView)
        if isinstance(event, StepStarted):
            self.statuses[event.key] = ("running", "")
            output.start(event.step_id, event.node, event.host, event.check, event.command)
        elif isinstance(event, StepFinished):
            obs = event.result
            word, detail = result_summary(obs.to_event())
            self.statuses[obs.key] = (word, detail)
            self.step_rows.setdefault(obs.node, []).append((obs.host, obs.check, word, detail))
            output.result(obs.step_id, detail)
        elif isinstance(event, Branched):
            if event.from_node is not None:
                self.branches[event.from_node] = event
        elif isinstance(event, NodeEntered):
            node = event.node
            self.visits += 1
            self._step_nodes.discard(node)
            self.step_rows.pop(node, None)
            self.branches.pop(node, None)
            if node != self.result_for:
                output.new_visit(node)
            self.statuses = {k: v for k, v in self.statuses.items() if not k.startswith(f"{node}/")}
        elif isinstance(event, MutatingRefused):
            self.notify(f"Mutating step not run: {event.reason}", severity="warning")
        elif isinstance(event, NoteAdded):
            self.notify("Note saved to the journal", timeout=2)
        self.schedule_refresh()

    def schedule_refresh(self) -> None:
        if not self._refresh_pending:
            self._refresh_pending = True
            self.call_after_refresh(self.refresh_all)

    def refresh_all(self) -> None:
        self._refresh_pending = False
        s = self.session
        states = {nid: node_state(s, nid) for nid in s.playbook.nodes}
        self.query_one(PlaybookTree).update_states(states, s.path, s.current)
        shown = self.result_for or s.current
        if self.result_for:
            self.show_result(self.result_for)
        elif s.current:
            node = s.node(s.current)
            self.query_one(StepPanel).show(s.current, node, s.plan(), self.statuses, s.status)
        output = self.query_one(OutputView)
        output.show_node(shown, settled=self.result_for is not None)
        output.border_title = f"Output · {shown}" + ("  (wrapped: l)" if output.wrap else "")
        step = self.query_one("#step")
        step.border_title = "Step result" if self.result_for else "Current step"
        step.set_class(self.result_for is not None, "-result")
        self.query_one(FindingsTable).show(s.walk.findings, s.walk.dismissed)
        self.query_one("#status", Static).update(self.status_line())
        self.query_one("#note", Input).placeholder = f"Note on {s.current}: Enter saves it to the journal"
        self.app.sub_title = f"{s.current} · {s.status}"
        self.refresh_bindings()
        self.after_change()

    def show_result(self, node_id: str) -> None:
        s = self.session
        findings = [f for f in s.walk.active_findings() if f.node == node_id]
        branch = self.branches.get(node_id)
        if branch is not None:
            cited_ids = set(branch.cited or [])
            cited = [f for f in s.walk.active_findings() if f.id in cited_ids]
            why = branch_why(branch.to, branch.reason, cited)
        else:
            why = branch_why(None, s.unresolved_reason or "no branch applies", [])
        nxt = branch.to if branch else None
        hint = "Enter or r continues" + (f" to {nxt}" if nxt else "") + " · a runs on without pausing"
        hint += " · Enter on a finding shows its evidence" if findings else ""
        rows = self.step_rows.get(node_id, [])
        self.query_one(StepPanel).show_result(node_id, s.node(node_id), rows, findings, why, hint)

    def status_line(self) -> Text:
        s = self.session
        text = Text()
        badge = {"ready": "READY", "running": "RUNNING", "question": "QUESTION"}.get(s.status, s.status.upper())
        style = {
            "running": "bold black on yellow",
            "concluded": "bold black on green",
            "question": "bold black on cyan",
        }
        text.append(f" {badge} ", style=style.get(s.status, "bold reverse"))
        if self.auto:
            text.append(" AUTO ", style="bold black on magenta")
        if self.following is not None:
            text.append(" FOLLOWING ", style="bold black on cyan")
        steps = s.plan() if s.current else []
        if self.result_for:
            text.append(f"  result of {self.result_for}: Enter or r goes on · a runs on")
            return text
        hint = {
            "ready": f"  r runs {len(steps)} command(s) · a auto-advances · s skips · o overrides · b goes back",
            "running": "  running… x cancels",
            "question": "  w answers the question",
            "concluded": f"  {(s.conclusion or {}).get('cause', '')}: p previews the report · ctrl+s exports it",
            "unconcluded": f"  no conclusion: {s.unresolved_reason or ''}",
            "inconclusive": "  inconclusive: c shows what could not be seen and how to fix it",
        }.get(s.status, "")
        if s.status == "ready" and not steps:
            hint = "  r decides from what was found so far"
        text.append(hint)
        return text

    def after_change(self) -> None:
        """Open the question or the conclusion when the walk reaches one (once per visit)."""
        s = self.session
        visit = f"{s.current}#{self.visits}"
        if self.app.screen is not self or self.result_for or self._stepping:
            return  # a question or the conclusion opens once the step's result was seen
        if s.status == "question" and self.asked_for != visit:
            self.asked_for = visit
            self.action_answer()
        elif s.finished and self.shown_end_for != visit:
            self.shown_end_for = visit
            self.app.call_later(self.app.run_action, "show_conclusion")

    def update_hostbar(self) -> None:
        s = self.session
        states = s.host_states()
        mode = "replay" if s.options.mode == "replay" else ""
        self.query_one(HostBar).show(states, mode)

    # ---- workers ------------------------------------------------------------------------
    @work(exclusive=True, group="session", exit_on_error=False)
    async def run_steps(self, auto: bool = False) -> str:
        try:
            return await self._run_steps(auto)
        finally:
            self._stepping = False

    async def _run_steps(self, auto: bool) -> str:
        s = self.session
        status: str = s.status
        ran = s.current
        pause = self.pause_on_result and s.gate is None and not auto  # training (a gate) keeps its flow
        self._stepping = pause
        while True:
            ran = s.current
            task = asyncio.ensure_future(s.run_current())
            try:
                status = await task
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise
                status = "cancelled"
            if status == "cancelled":
                self.notify("Step cancelled; it stays current (r runs it again)", severity="warning")
                self.auto = False
            if not (auto and self.auto) or s.status != "ready":
                break
            if any(step.mutating for step in s.plan()):
                self.notify("Auto-advance stops before a mutating step: r runs it", severity="warning")
                break
        if not s.finished and s.status != "question":
            self.auto = False
        self._stepping = False
        if pause and status != "cancelled" and ran and (ran != s.current or s.finished):
            self.result_for = ran  # stays on screen until Enter or r
        self.schedule_refresh()
        return status

    @work(exclusive=True, group="session", exit_on_error=False)
    async def answer_question(self, value: str) -> None:
        await self.session.answer(value)
        self.schedule_refresh()
        if self.auto and self.session.status == "ready":
            self.run_steps(auto=True)

    @work(exclusive=True, group="follow", exit_on_error=False)
    async def follow_log(self, steps: list[PlannedStep]) -> list[FollowResult]:
        """The session follows and journals; its follow-* events are rendered as they come."""
        stop = self.following = asyncio.Event()
        self.result_for = None
        self.schedule_refresh()
        try:
            results = await self.session.follow(steps, stop)
        finally:
            self.following = None
            self.schedule_refresh()
        for result in results:
            if result.error and "ended" not in result.error:
                self.notify(f"Follow on {result.host}: {result.error}", severity="warning")
        return results

    # ---- actions ------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.session.status == "running"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only keys that do something now are active and in the footer."""
        s = self.session
        showing = self.result_for is not None
        if action in WALK_ACTIONS and typed_ahead(self.app):
            if self._guard_timer is None:  # one footer refresh when the window is over
                self._guard_timer = self.set_timer(modals.TYPE_AHEAD_S + 0.05, self._guard_over)
            return None  # letters typed into a dialog that just closed do not act here
        if action == "continue":
            return showing and not isinstance(self.focused, (Input, DataTable))
        if action == "run":
            return not showing and not self.busy and s.status in ("ready", "question")
        if action == "auto":
            return not s.finished and s.status != "question"
        if action == "cancel":
            return self.busy or self.following is not None
        if action == "skip":
            return not showing and not self.busy and s.status in ("ready", "question")
        if action == "answer":
            return not showing and s.status == "question"
        if action == "conclusion":
            return s.finished and not showing
        if action in ("override", "back", "rerun"):
            return not self.busy and bool(s.path) and (action != "back" or len(s.path) > 1 or s.finished)
        if action == "follow":
            return self.following is not None or bool(self.session.follow_steps())
        if action == "copy":
            return not showing and bool(s.plan())
        return True

    def _guard_over(self) -> None:
        self._guard_timer = None
        self.refresh_bindings()

    def action_continue(self) -> None:
        """Leave a step's result for the next step (a question or the conclusion opens now)."""
        self.result_for = None
        self.refresh_all()

    def action_conclusion(self) -> None:
        self.app.call_later(self.app.run_action, "show_conclusion")

    def action_wrap(self) -> None:
        wrapped = self.query_one(OutputView).toggle_wrap()
        self.notify("Output: long lines wrapped" if wrapped else "Output: long lines not wrapped", timeout=2)
        self.schedule_refresh()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        table = self.query_one(FindingsTable)
        finding = table.finding_at(event.cursor_row)
        if finding is None:
            return
        obs = next(
            (o for o in reversed(self.session.walk.observations) if o.step_id and o.step_id == finding.step_id),
            None,
        )
        self.app.push_screen(FindingScreen(finding, obs))

    def action_run(self) -> None:
        s = self.session
        if self.result_for is not None:
            self.action_continue()
        elif s.status == "question":
            self.action_answer()
        elif s.status == "ready":
            self.run_steps(auto=False)
        elif s.finished:
            self.app.call_later(self.app.run_action, "show_conclusion")

    def action_auto(self) -> None:
        self.auto = not self.auto
        self.result_for = None
        self.notify(
            "Auto-advance on: read-only steps run until a question or a conclusion" if self.auto else "Auto-advance off"
        )
        if self.auto and self.session.status == "ready" and not any(x.mutating for x in self.session.plan()):
            self.run_steps(auto=True)
        self.schedule_refresh()

    def action_rerun(self) -> None:
        """Run again the step run last: the current one if it was cancelled, else the one before."""
        s = self.session
        cancelled = any(
            key.startswith(f"{s.current}/") and word == "cancelled" for key, (word, _) in self.statuses.items()
        )
        if not (cancelled and s.status == "ready"):
            earlier = [n for n in s.path[:-1] if s.node(n).checks]
            if s.finished or not earlier:
                earlier = [n for n in s.path if s.node(n).checks]
            if not earlier:
                self.notify("Nothing was run yet", severity="warning")
                return
            s.back(earlier[-1])
        self.run_steps(auto=False)

    def action_cancel(self) -> None:
        if self.following is not None:
            self.following.set()
        elif self.session.cancel():
            self.notify("Cancelling…")
        else:
            self.notify("Nothing is running")

    def action_skip(self) -> None:
        s = self.session
        if s.finished:
            self.notify("The walk is over: b goes back to a node", severity="warning")
            return
        s.skip("skipped by the engineer")

    def action_answer(self) -> None:
        s = self.session
        node = s.node(s.current or "")
        q = node.question
        if q is None or s.status != "question":
            return

        def answered(value: str | None) -> None:
            if value:
                self.answer_question(value)

        choices = [(c.value, c.label or c.value) for c in q.choices]
        self.app.push_screen(QuestionScreen(q.prompt, choices, q.default, " ".join(node.why.split())), answered)

    def action_override(self) -> None:
        s = self.session
        options = finding_options([f for f in s.walk.active_findings() if f.severity != "info"])
        options += finding_options([f for f in s.walk.active_findings() if f.severity == "info"])
        prev = s.path[-2] if len(s.path) > 1 else None
        if prev:
            for t in targets(s.node(prev)):
                if t != s.current:
                    options.append((f"goto:{t}", f"Take the branch {prev} → {t} instead of {s.current}"))
        taken = {key for key, _ in options}
        options += [
            (f"goto:{n}", f"Go to {n}") for n in s.playbook.nodes if f"goto:{n}" not in taken and n not in s.path
        ]

        def chosen(result: tuple[str, str] | None) -> None:
            if not result:
                return
            key, reason = result
            kind, _, target = key.partition(":")
            reason = reason or "the engineer disagrees with the verdict"
            try:
                if kind == "finding":
                    s.override(finding=target, reason=reason)
                else:
                    s.override(goto=target, reason=reason)
            except ValueError as exc:
                self.notify(str(exc), severity="error")

        self.app.push_screen(
            ChooseScreen(
                "Override a verdict",
                options,
                reason="",
                help="Pick what you disagree with, then say why (Enter). It is recorded as an override.",
            ),
            chosen,
        )

    def action_back(self) -> None:
        s = self.session
        visited = [n for n in s.path if n != s.current or s.finished]
        if not visited:
            self.notify("No visited node to go back to", severity="warning")
            return
        options = [(n, f"{i}. {n}: {s.node(n).title}") for i, n in enumerate(s.path, 1) if n in visited]

        def chosen(result: tuple[str, str] | None) -> None:
            if result:
                self.go_back(result[0])

        self.app.push_screen(
            ChooseScreen("Go back to a visited node", options, help="What was found after it is set aside."), chosen
        )

    def go_back(self, node_id: str) -> None:
        try:
            self.session.back(node_id)
        except ValueError as exc:
            self.notify(str(exc), severity="error")

    def on_playbook_tree_back_requested(self, message: PlaybookTree.BackRequested) -> None:
        s = self.session
        node = message.node
        if node not in s.path or (node == s.current and not s.finished) or self.busy:
            self.notify(f"{node}: {s.node(node).title}", timeout=3)
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.go_back(node)

        self.app.push_screen(
            ConfirmScreen(f"Go back to {node}?", "What was found after it is set aside; the journal keeps it."),
            confirmed,
        )

    def action_note(self) -> None:
        note = self.query_one("#note", Input)
        note.can_focus = True
        note.focus()

    def action_focus_tree(self) -> None:
        self.query_one(PlaybookTree).focus()

    def on_descendant_blur(self, event: Any) -> None:
        # leaving the note: Tab and focus cycling skip it again until n
        if getattr(event.widget, "id", None) == "note":
            event.widget.can_focus = False

    def on_input_changed(self, event: Input.Changed) -> None:
        # journal the note as it is typed (after a short pause), so a crash loses nothing
        if event.input.id == "note":
            if self._draft_timer is not None:
                self._draft_timer.stop()
            self._draft_timer = self.set_timer(0.8, self._journal_draft)

    def _journal_draft(self) -> None:
        self._draft_timer = None
        text = self.query_one("#note", Input).value
        if text != self._last_draft:
            self._last_draft = text
            self.session.note_draft(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "note":
            self.save_draft()
            self.action_focus_tree()

    def save_draft(self) -> None:
        note = self.query_one("#note", Input)
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None
        if note.value.strip():
            self.session.note(note.value)
            self._last_draft = ""
            note.value = ""

    def action_follow(self) -> None:
        if self.following is not None:
            self.following.set()
            return
        steps = self.session.follow_steps()
        if not steps:
            self.notify("No log to follow on this path", severity="warning")
            return
        self.follow_log(steps)

    def action_copy(self) -> None:
        steps = self.session.plan()
        if not steps:
            self.notify("This step runs no command", severity="warning")
            return
        self.app.copy_to_clipboard(commands_text(steps))
        self.notify(f"Copied {len(steps)} command(s) to the clipboard")
