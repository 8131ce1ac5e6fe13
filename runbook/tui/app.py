"""The Textual app: a thin driver of a Session (intents in, events out).

The first frame comes before the session: the start screen needs only the playbook's head and
the scenario's hosts (wiring.start_info), and the session, its transports and the engine are
built in a worker once that frame is on screen. What only later screens use is imported there."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import sys
import threading
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from runbook.tui.screens.start import StartScreen
from runbook.wiring import RunConfig, StartInfo, start_info

if TYPE_CHECKING:
    from runbook.engine import PlannedStep
    from runbook.events import Event
    from runbook.inventory import Host
    from runbook.report.live import LiveReport
    from runbook.session import Session
    from runbook.tui.screens.main import MainScreen

APP_ACTIONS: list[tuple[str, str, str, str]] = [
    # key, action, footer label, help
    ("p", "preview", "Report", "preview the incident report (rendered Markdown)"),
    ("ctrl+s", "export", "Export", "export the report (the path is shown)"),
    ("question_mark", "help", "Help", "this list of keys (f1 too)"),
    ("t", "toggle_theme", "Theme", "switch between the dark and the light theme"),
    ("q", "quit", "Quit", "quit (the journal is safe; asks first while a step runs)"),
]


class RunbookApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "runbook"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(key, action, label, show=action not in ("toggle_theme",)) for key, action, label, _ in APP_ACTIONS),
        Binding("f1", "help", "Help", show=False),
    ]

    def __init__(
        self,
        cfg: RunConfig,
        resume_events: list[dict[str, Any]] | None = None,
        *,
        export_dir: str | Path | None = None,
        ask_incident: bool = True,
    ) -> None:
        super().__init__()
        self.cfg = cfg
        self.resumed = resume_events is not None
        self._resume_events = resume_events
        self._session: Session | None = None
        self._session_lock = threading.Lock()
        #: why the session could not be built (the app exits; run_app raises it)
        self.build_error: Exception | None = None
        self.export_dir = Path(export_dir) if export_dir else Path.cwd()
        self.exported: Path | None = None
        self.ask_incident = ask_incident and not self.resumed
        #: the start screen's facts, when they can be had without the session
        self.start_info: StartInfo | None = start_info(cfg) if self.ask_incident else None
        self.main: MainScreen | None = None
        self.closed = False
        self._live_report: LiveReport | None = None  # made on first use: its imports wait till then
        if self.start_info is None:
            # no start screen to show first (or it needs the session): built here, so that a
            # bad playbook, scenario or inventory stops before the TUI as it always has
            self._session = self.build_session()

    @property
    def session(self) -> Session:
        """Built on first use, or in a worker behind the first frame (then this waits for it)."""
        with self._session_lock:
            if self.build_error is not None:
                raise self.build_error
            if self._session is None:
                try:
                    self._session = self.build_session()
                except Exception as exc:
                    self.build_error = exc
                    raise
            return self._session

    def build_session(self) -> Session:
        from runbook.wiring import build_session

        session = build_session(
            self.cfg,
            host_key_prompt=self.host_key_prompt,
            confirm_mutating=self.confirm_mutating,
            resume_events=self._resume_events,
            prepared=self.start_info,
        )
        session.subscribe(self.on_session_event)
        return session

    # ---- start -------------------------------------------------------------------------
    def on_mount(self) -> None:
        info = self.start_info
        if info is None:  # the start screen needs the session (or there is none): built now
            s = self.session
            info = StartInfo(
                playbook_id=s.playbook.id,
                title=s.playbook.title,
                public_url=s.public_url,
                hosts=len(s.inventory.hosts),
                journal=s.journal.path,
            )
            scenario = s.options.scenario
        else:
            scenario = info.scenario_name
        self.title = f"runbook · {info.title}"
        if self.ask_incident:
            incident = dict(self.cfg.incident)
            incident.setdefault("title", f"{info.title} on {info.public_url or 'the site'}")
            incident.setdefault("responder", _user())
            where = f"scenario {scenario} (replayed hosts)" if scenario else "live hosts"
            subtitle = f"{info.title} · {info.hosts} hosts · {where}\njournal: {self.shown(info.journal)}"
            # pushed once the app's start-up is over: Textual holds back the frames painted until
            # then, so a screen composed inside it reaches the terminal only with the next full
            # layout (some 40 ms later)
            self.call_next(self.open_start_screen, StartScreen(incident, subtitle))
            return
        self.begin(None)
        # what the first frame does not need waits until it is on screen
        self.call_after_refresh(self.after_first_frame)

    def open_start_screen(self, screen: StartScreen) -> None:
        self.push_screen(screen, self.begin)
        self.call_after_refresh(self.after_first_frame)  # after the start screen's first frame

    def after_first_frame(self) -> None:
        if self._session is None:
            self.build_in_background()
        else:
            self.warm_up()

    @work(thread=True, group="session-build", exit_on_error=False)
    def build_in_background(self) -> None:
        try:
            self.session  # noqa: B018 (built and kept by the property)
        except Exception as exc:
            self.call_from_thread(self.build_failed, exc)
            return
        self.warm_up_now()

    def build_failed(self, exc: Exception) -> None:
        """A bad playbook or scenario: leave the TUI; run_app reports it as before (exit 2)."""
        self.build_error = exc
        self.exit(2, return_code=2)

    @work(thread=True, group="warm-up", exit_on_error=False)
    def warm_up(self) -> None:
        self.warm_up_now()

    def warm_up_now(self) -> None:
        """Compile the report template while the engineer reads the first screen (the preview is then quick),
        and load the secret detectors (detect-secrets pulls in requests) before the first output needs them."""
        from runbook.report.markdown import _environment
        from runbook.safety import warm_up as warm_up_safety

        _environment(None)
        warm_up_safety()

    def begin(self, incident: dict[str, str] | None) -> None:
        from runbook.tui.screens.main import MainScreen

        try:
            session = self.session  # waits for the worker if it is still at it
        except Exception as exc:
            self.build_failed(exc)
            return
        if incident is not None:
            session.options.incident = incident
        self.main = MainScreen(session, start=not self.resumed)
        self.push_screen(self.main)

    def on_session_event(self, event: Event) -> None:
        from runbook.events import NodeEntered, StepFinished

        if self.main is not None and self.main.is_mounted:
            self.main.session_event(event)
        if isinstance(event, (StepFinished, NodeEntered)):
            self.catch_up_report()

    @work(thread=True, group="report-catch-up", exit_on_error=False)
    def catch_up_report(self) -> None:
        """Clean each journal event for the report as the walk goes, off the UI thread, so the
        preview (p) has only the fold and the layout left to do."""
        if self._live_report is not None:
            self._live_report.catch_up()
            return
        # the first time: also what p would do (imports, the template's compilation, Markdown
        # tables and code blocks), so that the first preview costs what later ones do
        from runbook.tui.screens.report import markdown_as_text

        markdown_as_text(self.live_report().markdown(), 80)

    # ---- prompts the core awaits --------------------------------------------------------
    async def host_key_prompt(self, host: Host, fingerprint: str) -> str:
        from runbook.tui.screens.modals import HostKeyScreen

        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def decided(decision: str | None) -> None:
            if not future.done():
                future.set_result(decision or "abort")

        self.push_screen(HostKeyScreen(host.name, host.address, fingerprint), decided)
        decision = await future
        self.session.record_host_key(host.name, fingerprint, decision)
        return decision

    async def confirm_mutating(self, steps: list[PlannedStep]) -> bool:
        from runbook.tui.screens.modals import MutatingScreen

        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def decided(yes: bool | None) -> None:
            if not future.done():
                future.set_result(bool(yes))

        self.push_screen(MutatingScreen(steps), decided)
        return await future

    # ---- app-wide actions ---------------------------------------------------------------
    def live_report(self) -> LiveReport:
        from runbook.report.live import LiveReport

        if self._live_report is None:
            self._live_report = LiveReport(self.session.journal.path)
        return self._live_report

    def report_markdown(self) -> str:
        """The report as exported now: the fold of the journal so far (safe to call in a thread)."""
        from runbook import journal

        live = self.live_report()
        events = live.catch_up()
        extra: list[dict[str, Any]] = []
        s = self.session
        if s.finished and not any(e.get("type") == "session-end" for e in events):
            # the walk is over but the app still runs (the journal gets the real record on quit)
            reason = "conclusion reached" if s.status == "concluded" else s.unresolved_reason or ""
            extra.append({"type": "session-end", "ts": journal.utcnow(), "status": s.status, "reason": reason})
        return live.markdown(extra)

    def action_preview(self) -> None:
        """Open the preview (p again does nothing: Escape closes it); it renders in a thread."""
        from runbook.tui.screens.report import ReportScreen

        if isinstance(self.screen, ReportScreen):
            return
        self.push_screen(ReportScreen(self.report_markdown))

    def export_path(self) -> Path:
        return self.export_dir / f"{self.session.journal.path.stem}.md"

    def shown(self, path: Path | str) -> str:
        """A path as this user may see it: in a browser (runbook serve) only its name, never the
        server's directories."""
        return Path(path).name if self.is_web else str(path)

    def action_export(self) -> Path:
        from runbook.report import write_atomic

        if self.main is not None:
            self.main.save_draft()
        path = self.export_path()
        markdown = self.report_markdown()
        write_atomic(path, markdown)
        self.exported = path
        if self.is_web:  # the browser's user gets the file itself
            import io

            self.deliver_text(io.StringIO(markdown), save_filename=path.name, mime_type="text/markdown")
            self.notify(f"{path.name} offered as a download", title="Exported", timeout=10)
        else:
            self.notify(f"Report written to {path}", title="Exported", timeout=10)
        from runbook.tui.screens.conclusion import ConclusionScreen

        if isinstance(self.screen, ConclusionScreen):
            self.screen.update(self.conclusion_text())
        return path

    def conclusion_text(self) -> str:
        from runbook.tui.screens.conclusion import conclusion_markdown

        s = self.session
        inconclusive = s.walk.inconclusive
        return conclusion_markdown(
            s.conclusion,
            s.unresolved_reason,
            s.walk.active_findings(),
            self.shown(s.journal.path),
            self.shown(self.exported) if self.exported else None,
            missing=list(inconclusive.missing) if inconclusive else None,
            security=[f"SECURITY: {h}: {why}" for h, why in s.walk.blocked_hosts.items()],
        )

    def action_show_conclusion(self) -> None:
        from runbook.tui.screens.conclusion import ConclusionScreen

        if not isinstance(self.screen, ConclusionScreen):
            self.push_screen(ConclusionScreen(self.conclusion_text()))

    def action_help(self) -> None:
        from runbook.tui.screens.modals import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(help_rows()))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    async def action_quit(self) -> None:
        main = self.main
        busy = main is not None and (main.busy or main.following is not None)
        if busy:
            from runbook.tui.screens.modals import ConfirmScreen

            def confirmed(ok: bool | None) -> None:
                if ok:
                    self.call_later(self.shutdown)

            self.push_screen(
                ConfirmScreen("A step is running", "Cancel it and quit? The journal is safe (runbook resume)."),
                confirmed,
            )
            return
        await self.shutdown()

    async def shutdown(self) -> None:
        """Save the note being typed, stop what runs, end the journal, exit."""
        main = self.main
        if main is not None:
            main.save_draft()
            if main.following is not None:
                main.following.set()
            self.session.cancel()
            for worker in list(self.workers):
                if worker.is_running and worker.group in ("session", "follow"):
                    with contextlib.suppress(Exception):
                        await worker.wait()
        if self.build_error is not None:
            self.exit(2, return_code=2)
            return
        await self.close_session()
        code = 0 if self.session.status == "concluded" else 1
        self.exit(code, return_code=code)

    async def close_session(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.session.status != "new":
            self.session.finish()
        await self.session.close()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        from runbook.tui.screens.main import ACTION_HELP, ACTIONS, MainScreen

        yield from super().get_system_commands(screen)
        if isinstance(screen, MainScreen):
            for key, action, desc, _ in ACTIONS:
                yield SystemCommand(f"{desc} ({key})", ACTION_HELP[action], partial(screen.run_action, action))
        for key, action, label, help_text in APP_ACTIONS:
            if action != "quit":
                yield SystemCommand(f"{label} ({key.split(',')[0]})", help_text, partial(self.run_action, action))


def help_rows() -> list[tuple[str, str]]:
    from runbook.tui.screens.main import ACTION_HELP, ACTIONS

    rows = [(key, ACTION_HELP[action]) for key, action, _, _ in ACTIONS]
    rows += [(key.replace("question_mark", "?").replace(",", " "), text) for key, _, _, text in APP_ACTIONS]
    rows += [("ctrl+p", "command palette"), ("escape", "back to the tree (from the note, a dialog or a screen)")]
    return rows


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return ""


def run_app(cfg: RunConfig, resume_events: list[dict[str, Any]] | None = None) -> int:
    """Run the TUI; the exit code is 0 when a conclusion was reached, else 1."""
    try:
        app = RunbookApp(cfg, resume_events)
    except ValueError as exc:
        print(f"runbook: {exc}", file=sys.stderr)
        return 2
    code = app.run()
    if app.build_error is not None:  # built behind the first frame: reported as if before it
        if isinstance(app.build_error, ValueError):
            print(f"runbook: {app.build_error}", file=sys.stderr)
            return 2
        raise app.build_error
    if not app.closed:
        # the app ended another way (a crash, a signal): still end the journal
        app.closed = True
        if app.session.status != "new":
            app.session.finish()
        app.session.journal.close()
    print(f"journal: {app.session.journal.path}", file=sys.stderr)
    from runbook.headless import report_beside_journal

    beside = report_beside_journal(app.session.journal.path)
    if app.exported and app.exported != beside:
        print(f"report: {app.exported}", file=sys.stderr)
    if beside is not None:
        print(f"report: {beside}", file=sys.stderr)
    if code is None:
        return 0 if app.session.status == "concluded" else 1
    return int(code)
