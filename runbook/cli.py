"""The `runbook` command: argument parsing and dispatch (see DESIGN.md for the contract).

Exit codes: 0 a conclusion was reached, 1 the run could not conclude, 2 usage, validation
or inventory error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from runbook import __version__
from runbook.errors import SourceError

if TYPE_CHECKING:
    import argparse

EXIT_OK, EXIT_UNCONCLUDED, EXIT_USAGE = 0, 1, 2


def say(line: str) -> None:
    """safety.say, imported when there is something to say (its redaction patterns cost a
    first frame time)."""
    from runbook.safety import say as say_safely

    say_safely(line)


def _pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"runbook: {flag} expects KEY=VALUE, got {item!r}")
        out[key.strip()] = value
    return out


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--inventory", help="inventory file (YAML, or an Ansible INI/YAML inventory)")
    p.add_argument(
        "--role-map", metavar="ROLE=GROUP,...", help="Ansible groups to runbook roles (gateway=lbs,backend=web)"
    )
    p.add_argument("--scenario", help="replayed hosts from a recorded scenario instead of an inventory")
    p.add_argument("--headless", action="store_true", help="no TUI: progress on stderr")
    p.add_argument("--json", dest="json_out", metavar="OUT.json", help="write the result as JSON")
    p.add_argument("--report", dest="report_out", metavar="OUT.md", help="write the incident report")
    p.add_argument("--template", help="a Jinja2 template to use for the report")
    p.add_argument(
        "--transport",
        choices=["asyncssh", "paramiko", "local"],
        default="asyncssh",
        help="how to reach the hosts: asyncssh (default), paramiko, or local (run on this machine)",
    )
    p.add_argument(
        "--accept-new-host-keys",
        action="store_true",
        help="trust and record unknown host keys (changed keys are always refused)",
    )
    p.add_argument("--read-only", action="store_true", help="refuse every mutating step")
    p.add_argument("--answer", action="append", metavar="KEY=VALUE", help="answer a question node")
    p.add_argument("--var", action="append", metavar="KEY=VALUE", help="override a playbook variable")
    p.add_argument("--journal", metavar="PATH", help="where to write the journal")
    p.add_argument("--title", help="incident title")
    p.add_argument("--severity", help="incident severity (e.g. SEV2)")
    p.add_argument("--ticket", help="ticket or incident link")
    p.add_argument("--responder", help="who is responding")


DESCRIPTION = """\
Interactive incident runbook: walk a troubleshooting tree live over SSH, turn what the
hosts say into findings, and write the incident report.

Bare `runbook` (no command) opens the TUI on the embedded demo: a recorded 502 on
replayed hosts, nothing to set up."""

EPILOG = """\
examples:
  runbook                                              the demo
  runbook run 502-bad-gateway -i inventory.yaml        TUI on real hosts
  runbook run 502-bad-gateway -i inventory.yaml --headless --json R.json
  runbook journals                                     the sessions on this machine
  runbook resume                                       go on with the latest unfinished one

exit codes: 0 a conclusion was reached, 1 the run could not conclude, 2 usage,
validation or inventory error."""


def _parser_class() -> type[argparse.ArgumentParser]:
    """argparse, with 'did you mean' for a mistyped option (argparse is imported when a command
    line is to be parsed: bare `runbook`, the demo, has none)."""
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            import difflib
            import re

            bad = re.findall(r"(?<![\w-])(--?[\w-]+)", message.partition(":")[2])
            known = [o for a in self._actions for o in a.option_strings]
            for word in bad:
                close = difflib.get_close_matches(word.split("=")[0], known, n=1)
                if close:
                    message += f" (did you mean {close[0]}?)"
                    break
            super().error(message)

    return _Parser


#: the parsers of the subcommands, so an unknown option shows the right usage
SUBPARSERS: dict[str, argparse.ArgumentParser] = {}


def build_parser() -> argparse.ArgumentParser:
    import argparse

    _Parser = _parser_class()
    parser = _Parser(
        prog="runbook",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"runbook {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, help_text: str, **kw: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=kw.pop("description", help_text), **kw)
        SUBPARSERS[name] = p
        return p

    p = add("run", "run a playbook on real hosts (-i) or replayed ones (--scenario); TUI, or --headless")
    p.add_argument("playbook", help="playbook file, or the id of a shipped one (502-bad-gateway)")
    _add_run_options(p)

    add("scenarios", "list the shipped scenarios, one per line, name first")

    p = add("inventory", "how each host resolves (ssh -G, ansible-inventory) and from where")
    p.add_argument("-i", "--inventory", required=True, help="runbook YAML, or any Ansible inventory source")
    p.add_argument("--json", action="store_true", help="the documented JSON contract instead of text")
    p.add_argument(
        "--role-map", metavar="ROLE=GROUP,...", help="Ansible groups to runbook roles (gateway=lbs,backend=web)"
    )

    p = add("validate", "check playbooks (.yaml) and scenarios (.jsonl): file:line: message per problem, exit 2")
    p.add_argument("files", nargs="+", metavar="FILE", help="playbook YAML or scenario JSONL files")

    p = add("report", "render the incident report from a journal (any prefix of one)")
    p.add_argument("journal", help="the session's journal (.jsonl); `runbook journals` lists them")
    p.add_argument("-o", "--output", metavar="OUT", help="write here (default: stdout)")
    p.add_argument(
        "--format",
        choices=["md", "json", "html"],
        default=None,
        help="md (the Markdown report, default), json (the structured result) or html",
    )
    p.add_argument("--json", dest="json_out", metavar="OUT.json", help="also write the JSON result here")
    p.add_argument("--template", help="a Jinja2 template to render the Markdown with")

    add("journals", "the sessions on this machine, unfinished first (path, kind, status, node)")

    p = add("resume", "pick an interrupted session up where it stopped")
    p.add_argument(
        "journal",
        nargs="?",
        help="journal file (default: the latest unfinished session on real hosts; never a demo or training run)",
    )
    p.add_argument("--headless", action="store_true", help="no TUI: progress on stderr")
    p.add_argument(
        "--from-last-existing-node",
        action="store_true",
        help="when the playbook no longer has the node the session stopped at, go on from the last one it has",
    )
    p.add_argument("--json", dest="json_out", metavar="OUT.json", help="write the result as JSON")
    p.add_argument("--report", dest="report_out", metavar="OUT.md", help="write the incident report")

    p = add("train", "a training session on a recorded incident (or --lab: live fire)")
    p.add_argument("scenario", nargs="?", help="the scenario to train on (default: a random one)")
    p.add_argument("--list", action="store_true", help="list the training scenarios and exit")
    p.add_argument("--lab", action="store_true", help="live fire on the lab with a hidden fault (Linux, root)")
    p.add_argument("--name", help="the trainee's name (asked at the start otherwise)")
    p.add_argument("--summary", metavar="DIR", help="the class summary over the training reports in DIR")

    p = add("scenario", "make a training scenario: from-journal JOURNAL")
    p.add_argument("scenario_command", choices=["from-journal"], help="from-journal: a journal -> a scenario")
    p.add_argument("journal", help="the incident's journal (.jsonl)")
    p.add_argument("-o", "--output", metavar="OUT.jsonl", help="where to write it (default: ./NAME.jsonl)")
    p.add_argument("--name", help="the scenario's name (default: the journal's file name)")

    p = add(
        "lab",
        "the live lab (Linux, root): up | down | status | faults | fault NAME [--host H] | record FAULT",
        description=(
            "the live lab in network namespaces (Linux, root):\n"
            "  up              build the gateway, backends and DNS, write an inventory\n"
            "  down            tear it down\n"
            "  status          what runs and which fault is on\n"
            "  faults          the faults it can make\n"
            "  fault NAME      make one (fault NAME --host app2 picks the host; fault healthy clears)\n"
            "  record FAULT    run the playbook on a fault and save it as a replay scenario"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="VERB ...", help="up, down, status, faults, fault, record")

    p = add("serve", "serve the app to browsers (textual-serve): the demo, or a training session per browser")
    p.add_argument(
        "--train",
        nargs="?",
        const="",
        metavar="SCENARIO",
        help="serve a training session (a random scenario when none is named)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL browsers use when the room is behind a proxy (e.g. https://lab.example.org/runbook)",
    )
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse; an unknown option is reported with the usage of the subcommand it was given to."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        owner = SUBPARSERS.get(args.command or "", parser)
        owner.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    # bare `runbook` (the demo) has nothing to parse: no parser is built (argparse and the
    # subcommands' parsers would cost its first frame a few milliseconds)
    args = parse_args(given) if given else None
    try:
        return dispatch(args) if args is not None else _tui_demo()
    except SourceError as exc:
        for problem in exc.problems:
            say(problem)
        return EXIT_USAGE
    except KeyboardInterrupt:
        say("runbook: interrupted; the journal is safe (runbook resume picks it up)")
        return EXIT_UNCONCLUDED


def dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command is None:
        return _tui_demo()
    if command == "run":
        return _run(args)
    if command == "scenarios":
        from runbook.scenario import shipped_scenarios

        for s in shipped_scenarios():
            # a training scenario's title gives its answer away: show the page the on-call gets
            print(f"{s.name}\t{s.header.get('briefing') or s.title}")
        return EXIT_OK
    if command == "validate":
        return _validate(args.files)
    if command == "inventory":
        return _inventory(args)
    if command == "report":
        return _report(args)
    if command == "resume":
        return _resume(args)
    if command == "journals":
        return _journals()
    if command == "lab":
        if args.args[:1] == ["record"]:
            from runbook.lab.record import main as record_main

            return record_main(args.args[1:])
        from runbook.lab.cli import main as lab_main

        return lab_main(args.args)
    if command == "train":
        return _train(args)
    if command == "serve":
        return _serve(args)
    if command == "scenario":
        from runbook.training.cli import scenario_main

        return scenario_main(args)
    return EXIT_USAGE


def _config(args: argparse.Namespace) -> Any:
    from runbook.wiring import RunConfig

    incident = {k: v for k in ("title", "severity", "ticket", "responder") if (v := getattr(args, k, None))}
    return RunConfig(
        playbook=args.playbook,
        inventory=args.inventory,
        scenario=args.scenario,
        transport=args.transport,
        accept_new_host_keys=args.accept_new_host_keys,
        read_only=args.read_only,
        answers=_pairs(args.answer, "--answer"),
        variables=_pairs(args.var, "--var"),
        journal=args.journal,
        incident=incident,
        role_map=args.role_map,
    )


def _run(args: argparse.Namespace) -> int:
    if not args.inventory and not args.scenario:
        say("runbook: run needs -i INVENTORY or --scenario NAME")
        return EXIT_USAGE
    cfg = _config(args)
    if not args.headless:
        return _tui(cfg)
    from runbook.headless import run_headless, run_sync, write_outputs
    from runbook.wiring import build_session

    try:
        session = build_session(cfg)
    except ValueError as exc:
        say(f"runbook: {exc}")
        return EXIT_USAGE
    code = run_sync(run_headless(session, announce=True))
    if code == EXIT_USAGE:  # stopped before the walk: nothing was recorded
        return code
    from runbook.journal import read_journal

    write_outputs(read_journal(session.journal.path), args.json_out, args.report_out, args.template)
    _report_at_end(session.journal.path, args.template)
    return code


def _inventory(args: argparse.Namespace) -> int:
    from runbook.inventory import load_inventory
    from runbook.inventory.show import describe, render_json, render_text

    try:
        inventory = load_inventory(args.inventory, role_map=args.role_map)
    except ValueError as exc:  # a bad --role-map
        say(f"runbook: {exc}")
        return EXIT_USAGE
    doc, problems = describe(inventory)
    sys.stdout.write(render_json(doc) if args.json else render_text(doc))
    for problem in problems:
        say(problem)
    return EXIT_USAGE if problems else EXIT_OK


def _validate(files: list[str]) -> int:
    from runbook.playbook import load_playbook
    from runbook.scenario import parse_scenario

    failed = False
    for f in files:
        try:
            if f.endswith(".jsonl"):
                parse_scenario(Path(f))
            else:
                load_playbook(f)
            print(f"{f}: ok")
        except SourceError as exc:
            failed = True
            for problem in exc.problems:
                say(problem)
    return EXIT_USAGE if failed else EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from runbook.headless import write_outputs
    from runbook.journal import scan_journal

    try:
        scan = scan_journal(args.journal)
    except OSError as exc:
        say(f"runbook: cannot read {args.journal}: {exc.strerror}")
        return EXIT_USAGE
    for warning in scan.warnings:
        say(warning)
    events = scan.events
    if not events:
        say(f"runbook: {args.journal} holds no events")
        return EXIT_USAGE
    fmt = args.format or ("json" if str(args.output or "").endswith(".json") else "md")
    if str(args.output or "").endswith((".html", ".htm")) and args.format is None:
        fmt = "html"
    text = render_format(events, fmt, args.template)
    if args.json_out:
        write_outputs(events, args.json_out, None)
    if args.output and fmt == "md":
        from runbook.report import write_report

        report, attachment = write_report(events, args.output, args.template)
        say(f"report: {report} (structured result: {attachment})")
    elif args.output:
        from runbook.report import write_atomic

        write_atomic(args.output, text)
        say(f"report: {args.output}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def render_format(events: list[dict[str, Any]], fmt: str, template: str | None = None) -> str:
    """The report in one of the export formats: md, json (the structured result), html."""
    if fmt == "json":
        import json

        from runbook.report import build_result

        return json.dumps(build_result(events), indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        from runbook.report.html import render_html

        return render_html(events, template)
    from runbook.report import render_markdown

    return render_markdown(events, template)


def _resume(args: argparse.Namespace) -> int:
    from runbook.events import WarningRecorded
    from runbook.headless import run_headless, run_sync, write_outputs
    from runbook.journal import read_journal
    from runbook.resume_guard import AlreadyEnded, NotResumable, resumable
    from runbook.wiring import build_session, config_from_journal

    path: str | Path | None = args.journal
    if path is None:
        from runbook.journal_index import latest_unfinished_real

        latest = latest_unfinished_real()
        if latest is None:
            print(
                "runbook: no unfinished session on real hosts to resume (runbook journals lists them all; "
                "runbook resume JOURNAL picks one)",
                file=sys.stderr,
            )
            return EXIT_USAGE
        path = latest.path
    elif not Path(path).is_file():
        say(f"runbook: no journal at {path} (runbook journals lists them)")
        return EXIT_USAGE
    try:
        found = resumable(path, from_last_existing=args.from_last_existing_node)
    except NotResumable as exc:
        say(f"runbook: {exc}")
        return EXIT_USAGE
    except AlreadyEnded as exc:
        say(f"runbook: {exc}")
        write_outputs(read_journal(path), args.json_out, args.report_out)
        return EXIT_OK if exc.status == "concluded" else EXIT_UNCONCLUDED
    events = found.events
    cfg = config_from_journal(events, str(path))
    if any(e.get("type") == "training-start" for e in events):
        from runbook.training.cli import resume_training

        return resume_training(cfg, events, headless=args.headless)
    if not args.headless:
        return _tui(cfg, resume_events=events)
    try:
        session = build_session(cfg, resume_events=events)
    except ValueError as exc:
        say(f"runbook: cannot resume {path}: {exc}")
        return EXIT_USAGE
    # the skipped lines go on record, once each
    recorded = {e.get("message") for e in events if e.get("type") == "warning"}
    for warning in found.warnings:
        if warning not in recorded:
            session.log(WarningRecorded(message=warning, source="journal"))
    say(f"resuming {path} at node {session.current}")
    code = run_sync(run_headless(session, resumed=True))
    write_outputs(read_journal(path), args.json_out, args.report_out)
    _report_at_end(path)
    return code


def _report_at_end(journal: str | Path, template: str | None = None) -> None:
    from runbook.headless import report_beside_journal

    report = report_beside_journal(journal, template)
    if report is not None:
        say(f"report: {report}")


def _journals() -> int:
    from runbook.journal import default_journal_dir
    from runbook.journal_index import list_journals

    found = list_journals()
    if not found:
        say(f"runbook: no sessions in {default_journal_dir()}")
        return EXIT_OK
    print(f"{'STARTED':<20}  {'KIND':<8}  {'STATUS':<11}  {'AT NODE':<22}  JOURNAL")
    for j in found:
        print(f"{j.started_at[:19]:<20}  {j.kind:<8}  {j.status:<11}  {j.node[:22]:<22}  {j.path}")
    return EXIT_OK


def _no_tty_hint() -> str | None:
    """Why the TUI cannot start here, or None. textual-serve runs it over pipes: that is fine."""
    import os

    if os.environ.get("TEXTUAL_DRIVER"):
        return None
    if sys.stdin.isatty() and sys.stdout.isatty():
        return None
    which = "stdin" if not sys.stdin.isatty() else "stdout"
    return (
        f"runbook: {which} is not a terminal, so the TUI cannot run here; "
        "add --headless for progress lines (with --json OUT.json / --report OUT.md), "
        "e.g. runbook run 502-bad-gateway --scenario demo --headless"
    )


def _tui(cfg: Any, resume_events: list[dict[str, Any]] | None = None) -> int:
    hint = _no_tty_hint()
    if hint:
        say(hint)
        return EXIT_USAGE
    if cfg.inventory and not cfg.scenario and resume_events is None:
        failed = _unreachable(cfg)
        if failed:
            say(failed)
            return EXIT_USAGE
    try:
        from runbook.tui.app import run_app
    except ImportError as exc:
        say(f"runbook: the TUI is not available ({exc}); use --headless")
        return EXIT_USAGE
    return run_app(cfg, resume_events=resume_events)


def _unreachable(cfg: Any) -> str | None:
    """The message when no inventory host can be reached (checked before the TUI opens)."""
    from runbook.inventory import load_inventory
    from runbook.playbook import load_playbook
    from runbook.preflight import message, targeted_hosts, unreachable_hosts
    from runbook.wiring import make_remote

    inventory = load_inventory(cfg.inventory, role_map=cfg.role_map)
    hosts = targeted_hosts(load_playbook(cfg.playbook), inventory)
    remote = make_remote(cfg.transport, accept_new_host_keys=cfg.accept_new_host_keys, host_key_prompt=None)

    async def probe() -> Any:
        try:
            return await unreachable_hosts(remote, hosts)
        finally:
            await remote.close()

    failed = run_sync_probe(probe())
    return message(failed) if failed else None


def run_sync_probe(coro: Any) -> Any:
    import asyncio

    return asyncio.run(coro)


def _tui_demo() -> int:
    from runbook.wiring import RunConfig

    return _tui(RunConfig(playbook="502-bad-gateway", scenario="demo", replay_speed=0.3))


def _train(args: argparse.Namespace) -> int:
    try:
        from runbook.training.cli import main as train_main
    except ImportError:
        say("runbook: training is not available in this build")
        return EXIT_USAGE
    return train_main(args)


def _serve(args: argparse.Namespace) -> int:
    try:
        from textual_serve.server import Server
    except ImportError:
        say("runbook: serve needs textual-serve (pip install 'runbook[serve]')")
        return EXIT_USAGE
    import shlex

    command = f"{shlex.quote(sys.executable)} -m runbook"
    if args.train is not None:  # every browser that connects gets its own session
        command += " train" + (f" {shlex.quote(args.train)}" if args.train else "")
    # the page title would otherwise be the command line, with this machine's paths in it
    title = "runbook training" if args.train is not None else "runbook"
    public_url = args.public_url.rstrip("/") if args.public_url else None
    Server(command, host=args.host, port=args.port, title=title, public_url=public_url).serve()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
