"""The `runbook` command: argument parsing and dispatch (see DESIGN.md for the contract).

Exit codes: 0 a conclusion was reached, 1 the run could not conclude, 2 usage, validation
or inventory error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from runbook import __version__
from runbook.yamlsource import SourceError

EXIT_OK, EXIT_UNCONCLUDED, EXIT_USAGE = 0, 1, 2


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
    p.add_argument("--transport", choices=["asyncssh", "paramiko", "local"], default="asyncssh")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runbook", description="Interactive incident runbook: walk a troubleshooting tree live over SSH."
    )
    parser.add_argument("--version", action="version", version=f"runbook {__version__}")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("run", help="run a playbook (TUI, or --headless)")
    p.add_argument("playbook", help="playbook path or id (502-bad-gateway)")
    _add_run_options(p)

    sub.add_parser("scenarios", help="list the shipped scenarios")

    p = sub.add_parser("inventory", help="how each host resolves (ssh -G, ansible-inventory) and from where")
    p.add_argument("-i", "--inventory", required=True, help="runbook YAML, or any Ansible inventory source")
    p.add_argument("--json", action="store_true", help="the documented JSON contract instead of text")
    p.add_argument(
        "--role-map", metavar="ROLE=GROUP,...", help="Ansible groups to runbook roles (gateway=lbs,backend=web)"
    )

    p = sub.add_parser("validate", help="check playbooks and scenarios")
    p.add_argument("files", nargs="+")

    p = sub.add_parser("report", help="render a report from a journal")
    p.add_argument("journal")
    p.add_argument("-o", "--output", help="write here (default: stdout)")
    p.add_argument("--json", dest="json_out", help="also write the JSON result")
    p.add_argument("--template", help="a Jinja2 template to use")

    p = sub.add_parser("resume", help="pick an interrupted session up where it stopped")
    p.add_argument("journal", nargs="?", help="journal file (default: the most recent)")
    p.add_argument("--headless", action="store_true")
    p.add_argument(
        "--from-last-existing-node",
        action="store_true",
        help="when the playbook no longer has the node the session stopped at, go on from the last one it has",
    )
    p.add_argument("--json", dest="json_out")
    p.add_argument("--report", dest="report_out")

    p = sub.add_parser("train", help="a training session")
    p.add_argument("scenario", nargs="?")
    p.add_argument("--list", action="store_true")
    p.add_argument("--lab", action="store_true", help="live fire on the lab (Linux, root)")
    p.add_argument("--name", help="the trainee's name (asked at the start otherwise)")
    p.add_argument("--summary", metavar="DIR", help="the class summary over the training reports in DIR")

    p = sub.add_parser("scenario", help="make a training scenario: from-journal JOURNAL")
    p.add_argument("scenario_command", choices=["from-journal"])
    p.add_argument("journal")
    p.add_argument("-o", "--output", metavar="OUT.jsonl", help="where to write it (default: ./NAME.jsonl)")
    p.add_argument("--name", help="the scenario's name (default: the journal's file name)")

    p = sub.add_parser("lab", help="the live lab: up | down | status | fault NAME | faults | record FAULT")
    p.add_argument("args", nargs=argparse.REMAINDER)

    p = sub.add_parser("serve", help="serve the app to a browser (textual-serve): the demo, or a training session")
    p.add_argument(
        "--train",
        nargs="?",
        const="",
        metavar="SCENARIO",
        help="serve a training session (a random scenario when none is named)",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return dispatch(args)
    except SourceError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("runbook: interrupted; the journal is safe (runbook resume picks it up)", file=sys.stderr)
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
    from runbook.headless import run_headless, run_sync, write_outputs
    from runbook.wiring import build_session

    if not args.inventory and not args.scenario:
        print("runbook: run needs -i INVENTORY or --scenario NAME", file=sys.stderr)
        return EXIT_USAGE
    cfg = _config(args)
    if not args.headless:
        return _tui(cfg)
    try:
        session = build_session(cfg)
    except ValueError as exc:
        print(f"runbook: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"journal: {session.journal.path}", file=sys.stderr)
    code = run_sync(run_headless(session))
    from runbook.journal import read_journal

    write_outputs(read_journal(session.journal.path), args.json_out, args.report_out, args.template)
    return code


def _inventory(args: argparse.Namespace) -> int:
    from runbook.inventory import load_inventory
    from runbook.inventory.show import describe, render_json, render_text

    try:
        inventory = load_inventory(args.inventory, role_map=args.role_map)
    except ValueError as exc:  # a bad --role-map
        print(f"runbook: {exc}", file=sys.stderr)
        return EXIT_USAGE
    doc, problems = describe(inventory)
    sys.stdout.write(render_json(doc) if args.json else render_text(doc))
    for problem in problems:
        print(problem, file=sys.stderr)
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
                print(problem, file=sys.stderr)
    return EXIT_USAGE if failed else EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from runbook.headless import write_outputs
    from runbook.journal import scan_journal
    from runbook.report import render_markdown

    try:
        scan = scan_journal(args.journal)
    except OSError as exc:
        print(f"runbook: cannot read {args.journal}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    for warning in scan.warnings:
        print(warning, file=sys.stderr)
    events = scan.events
    if not events:
        print(f"runbook: {args.journal} holds no events", file=sys.stderr)
        return EXIT_USAGE
    if args.output or args.json_out:
        write_outputs(events, args.json_out, args.output, args.template)
        if args.output:
            print(f"report: {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(render_markdown(events, args.template))
    return EXIT_OK


def _resume(args: argparse.Namespace) -> int:
    from runbook.events import WarningRecorded
    from runbook.headless import run_headless, run_sync, write_outputs
    from runbook.journal import latest_journal, read_journal
    from runbook.resume_guard import AlreadyEnded, NotResumable, resumable
    from runbook.wiring import build_session, config_from_journal

    path = args.journal or latest_journal()
    if path is None:
        print("runbook: no journal to resume", file=sys.stderr)
        return EXIT_USAGE
    try:
        found = resumable(path, from_last_existing=args.from_last_existing_node)
    except NotResumable as exc:
        print(f"runbook: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AlreadyEnded as exc:
        print(f"runbook: {exc}", file=sys.stderr)
        write_outputs(read_journal(path), args.json_out, args.report_out)
        return EXIT_OK if exc.status == "concluded" else EXIT_UNCONCLUDED
    events = found.events
    cfg = config_from_journal(events, str(path))
    if not args.headless:
        return _tui(cfg, resume_events=events)
    try:
        session = build_session(cfg, resume_events=events)
    except ValueError as exc:
        print(f"runbook: cannot resume {path}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # the skipped lines go on record, once each
    recorded = {e.get("message") for e in events if e.get("type") == "warning"}
    for warning in found.warnings:
        if warning not in recorded:
            session.log(WarningRecorded(message=warning, source="journal"))
    print(f"resuming {path} at node {session.current}", file=sys.stderr)
    code = run_sync(run_headless(session, resumed=True))
    write_outputs(read_journal(path), args.json_out, args.report_out)
    return code


def _tui(cfg: Any, resume_events: list[dict[str, Any]] | None = None) -> int:
    try:
        from runbook.tui.app import run_app
    except ImportError as exc:
        print(f"runbook: the TUI is not available ({exc}); use --headless", file=sys.stderr)
        return EXIT_USAGE
    return run_app(cfg, resume_events=resume_events)


def _tui_demo() -> int:
    from runbook.wiring import RunConfig

    return _tui(RunConfig(playbook="502-bad-gateway", scenario="demo", replay_speed=0.3))


def _train(args: argparse.Namespace) -> int:
    try:
        from runbook.training.cli import main as train_main
    except ImportError:
        print("runbook: training is not available in this build", file=sys.stderr)
        return EXIT_USAGE
    return train_main(args)


def _serve(args: argparse.Namespace) -> int:
    try:
        from textual_serve.server import Server
    except ImportError:
        print("runbook: serve needs textual-serve (pip install 'runbook[serve]')", file=sys.stderr)
        return EXIT_USAGE
    import shlex

    command = f"{shlex.quote(sys.executable)} -m runbook"
    if args.train is not None:  # every browser that connects gets its own session
        command += " train" + (f" {shlex.quote(args.train)}" if args.train else "")
    Server(command, host=args.host, port=args.port).serve()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
