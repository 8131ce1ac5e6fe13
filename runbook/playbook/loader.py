"""Load a playbook from YAML and check it as a whole: every problem as `file:line: message`."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from pydantic import ValidationError

from runbook.playbook.expr import (
    attribute_paths,
    check_syntax,
    expression_names,
    placeholder_names,
    template_names,
)

# found by find (kept importable from here)
from runbook.playbook.find import PLAYBOOK_DIRS, find_playbook, shipped_playbooks  # noqa: F401
from runbook.playbook.model import CAUSES, Node, Playbook
from runbook.yamlsource import SourceError, YamlSource, load_yaml, pydantic_problems

#: Names every command template may use, whatever the inventory says.
HOST_BUILTINS = {"host", "address", "ssh_port", "user", "roles"}
#: Names every expression may use.
EXPR_BUILTINS = {
    "vars",
    "host_vars",
    "answers",
    "inventory",
    "findings",
    "results",
    "gaps",
    "seen",
    "unreachable",
    "host",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
    "num",
    "range",
    "lipsum",
    "dict",
    "cycler",
    "joiner",
    "namespace",
}


def load_playbook(ref: str | Path) -> Playbook:
    """Parse and validate; raises SourceError listing every problem found."""
    path = find_playbook(str(ref))
    source = load_yaml(path)
    if not isinstance(source.data, dict):
        raise SourceError([f"{source.where(())}: a playbook is a mapping with id, start and nodes"])
    try:
        playbook = Playbook.model_validate(source.data)
    except ValidationError as exc:
        raise SourceError(pydantic_problems(source, exc)) from exc
    playbook._path = str(path)
    playbook._lines = source.lines
    # the whole-tree check parses every expression and template (a fifth of a second on the
    # shipped tree, on the way to the first frame); a tree that passed it once is not re-checked
    marker = _checked_marker(source)
    if marker is not None and marker.exists():
        return playbook
    problems = check_playbook(playbook, source)
    if problems:
        raise SourceError(problems)
    if marker is not None:
        _remember(marker)
    return playbook


def _checked_marker(source: YamlSource) -> Path | None:
    """Where a passed check of this exact content, by this exact checking code, is recorded."""
    try:
        from platformdirs import user_cache_dir

        from runbook import __version__

        digest = hashlib.sha256(repr(source.data).encode("utf-8", "surrogatepass"))
        digest.update(__version__.encode())
        # the checking code is part of the key: an edited checker (a source checkout) re-checks
        here = Path(__file__).resolve().parent
        for name in ("loader.py", "expr.py", "model.py"):
            st = (here / name).stat()
            digest.update(f"{name}:{st.st_size}:{st.st_mtime_ns}".encode())
        return Path(user_cache_dir("runbook")) / "checked-playbooks" / digest.hexdigest()
    except (OSError, ValueError):
        return None


def _remember(marker: Path) -> None:
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        tmp = marker.with_name(f"{marker.name}.{os.getpid()}.tmp")
        tmp.touch()
        tmp.replace(marker)
    except OSError:
        pass  # a read-only home: the check simply runs every time


def _successors(node: Node) -> list[str]:
    targets = [b.goto for b in node.next]
    if node.weigh:
        targets += [c.goto for c in node.weigh.candidates] + [node.weigh.otherwise]
    if node.question:
        targets += [c.goto for c in node.question.choices if c.goto]
    return targets


def check_playbook(pb: Playbook, source: YamlSource) -> list[str]:
    """Whole-tree checks pydantic cannot do: graph shape, names, expressions, regexes."""
    problems: list[str] = []

    def err(loc: tuple[str | int, ...], message: str) -> None:
        problems.append(f"{source.where(loc)}: {message}")

    if pb.start not in pb.nodes:
        err(("start",), f"start node {pb.start!r} does not exist")

    finding_ids = {f.id for n in pb.nodes.values() for f in n.findings}
    all_checks = {c.id for n in pb.nodes.values() for c in n.checks}

    def guarded(loc: tuple[str | int, ...], text: str, guard: str = "", template: bool = False) -> None:
        """A rule that reads a check's output by name must test seen('check') first: a check
        that could not run has no output to read (its gap is never evidence)."""
        try:
            names = template_names(text) if template else expression_names(text)
        except Exception:
            return  # a syntax problem is reported on its own
        for name in sorted(names & all_checks):
            if not re.search(rf"""seen\(\s*['"]{name}['"]\s*\)""", text + "\n" + guard):
                err(loc, f"reads {name} without guarding for a gap: test seen('{name}') first")

    answer_keys = {n.question.key for n in pb.nodes.values() if n.question}
    check_ids: dict[str, str] = {}
    provided = set(pb.vars) | set(pb.host_vars) | HOST_BUILTINS

    for node_id, node in pb.nodes.items():
        nloc = ("nodes", node_id)
        for i, branch in enumerate(node.next):
            if branch.goto not in pb.nodes:
                err((*nloc, "next", i, "goto"), f"branch to missing node {branch.goto!r}")
        if node.question:
            for i, choice in enumerate(node.question.choices):
                if choice.goto and choice.goto not in pb.nodes:
                    err((*nloc, "question", "choices", i, "goto"), f"choice leads to missing node {choice.goto!r}")
            if not any(c.goto for c in node.question.choices) and not node.next:
                err((*nloc, "question"), "a question needs `next` or a `goto` on its choices")

        node_checks = {c.id for c in node.checks}
        for i, check in enumerate(node.checks):
            cloc = (*nloc, "checks", i)
            if check.id in check_ids:
                err((*cloc, "id"), f"check id {check.id!r} is already used in node {check_ids[check.id]!r}")
            check_ids[check.id] = node_id
            local_names = provided | ({"item"} if check.foreach else set())
            for field, text in _check_templates(check):
                for name in placeholder_names(text):
                    root = name.split(".")[0]
                    if root not in local_names:
                        err(
                            (*cloc, *field),
                            f"template names {{{name}}}, which no inventory, "
                            f"playbook var or builtin provides (declare it under vars or host_vars)",
                        )
            if check.foreach:
                guarded((*cloc, "foreach"), check.foreach)
                problems += _expr_problems(
                    source, (*cloc, "foreach"), check.foreach, set(check_ids) | EXPR_BUILTINS | set(pb.vars)
                )
            if check.http and check.http.speak:
                speak = (*cloc, "http", "speak")
                guarded(speak, check.http.speak)
                problems += _expr_problems(
                    source, speak, check.http.speak, set(check_ids) | EXPR_BUILTINS | set(pb.vars) | {"host", "item"}
                )
            if check.parse:
                from runbook.parsers import PARSERS

                if check.parse not in PARSERS:
                    err((*cloc, "parse"), f"unknown parser {check.parse!r} (known: {', '.join(sorted(PARSERS))})")

        for i, rule in enumerate(node.findings):
            rloc = (*nloc, "findings", i)
            if rule.step_of and rule.step_of not in all_checks:
                err((*rloc, "step_of"), f"finding {rule.id!r} links to check {rule.step_of!r}, which no node has")
            if rule.check and rule.check not in node_checks:
                err(
                    (*rloc, "check"),
                    f"finding {rule.id!r} refers to check {rule.check!r}, which is not a check of this node",
                )
            names = set(check_ids) | EXPR_BUILTINS | set(pb.vars) | {"r"} | finding_ids
            read: list[tuple[str, str | None, bool]] = [
                ("when", rule.when, False),
                ("blame", rule.blame, False),
                ("evidence", rule.evidence, True),
                ("title", rule.title, True),
            ]
            for part, expr, template in read:
                if expr:
                    guarded((*rloc, part), expr, "" if part == "when" else rule.when or "", template)
            if rule.when:
                problems += _expr_problems(source, (*rloc, "when"), rule.when, names)
            if rule.blame:
                problems += _expr_problems(source, (*rloc, "blame"), rule.blame, names)
            if rule.evidence:
                bad = check_syntax_template(rule.evidence)
                if bad:
                    err((*rloc, "evidence"), f"evidence template: {bad}")
            if rule.match:
                try:
                    re.compile(rule.match)
                except re.error as exc:
                    err((*rloc, "match"), f"bad regular expression: {exc}")

        for i, branch in enumerate(node.next):
            if branch.when:
                loc = (*nloc, "next", i, "when")
                guarded(loc, branch.when)
                names = finding_ids | EXPR_BUILTINS | set(pb.vars) | set(check_ids)
                problems += _expr_problems(source, loc, branch.when, names)
                try:
                    for obj, attr in attribute_paths(branch.when):
                        if obj == "answers" and attr not in answer_keys:
                            err(loc, f"branch asks answers.{attr}, which no question sets")
                except Exception:
                    pass

    for node_id, node in pb.nodes.items():
        if node.weigh:
            wloc = ("nodes", node_id, "weigh")
            if node.weigh.otherwise not in pb.nodes:
                err((*wloc, "otherwise"), f"otherwise leads to missing node {node.weigh.otherwise!r}")
            for i, cand in enumerate(node.weigh.candidates):
                candloc: tuple[str | int, ...] = (*wloc, "candidates", i)
                target = pb.nodes.get(cand.goto)
                if target is None or target.conclusion is None:
                    err((*candloc, "goto"), f"candidate {cand.goto!r} is not a conclusion node")
                for part in ("support", "against", "explains"):
                    for name in getattr(cand, part):
                        if name not in finding_ids:
                            err((*candloc, part), f"{part} names {name!r}, which no finding rule records")
        if node.conclusion and "needs" not in node.model_fields_set:  # `needs: []` says "rests on nothing"
            err(
                ("nodes", node_id, "conclusion"),
                "a conclusion declares what it `needs:` (the checks or findings it rests on), "
                "so a walk that could not see them ends inconclusive instead",
            )
        for i, need in enumerate(node.needs):
            if need.name not in all_checks and need.name not in finding_ids:
                err(("nodes", node_id, "needs", i), f"needs {need.name!r}, which is no check or finding")
            elif need.hosts == "cited" and need.name not in all_checks:
                err(("nodes", node_id, "needs", i), f"@cited is for checks; {need.name!r} is a finding")

    problems += _graph_problems(pb, source)
    for node_id, node in pb.nodes.items():
        if node.conclusion and node.conclusion.cause not in CAUSES:  # pragma: no cover - pydantic
            err(("nodes", node_id, "conclusion", "cause"), "unknown cause")
    return problems


def check_syntax_template(text: str) -> str | None:
    try:
        template_names(text)
    except Exception as exc:
        return str(exc)
    return None


def _check_templates(check) -> list[tuple[tuple[str, ...], str]]:
    out: list[tuple[tuple[str, ...], str]] = []
    if check.shell:
        out.append((("shell",), check.shell))
    if check.fallback:
        out.append((("fallback",), check.fallback))
    if check.follow:
        out.append((("follow",), check.follow))
    if check.http:
        out.append((("http", "url"), check.http.url))
        if check.http.script:
            out.append((("http", "script"), check.http.script))
    if check.dns:
        out.append((("dns", "name"), check.dns.name))
        if check.dns.server:
            out.append((("dns", "server"), check.dns.server))
    if check.tcp:
        out.append((("tcp", "host"), check.tcp.host))
        out.append((("tcp", "port"), str(check.tcp.port)))
    return out


def _expr_problems(source: YamlSource, loc: tuple[str | int, ...], text: str, known: set[str]) -> list[str]:
    bad = check_syntax(text)
    if bad:
        return [f"{source.where(loc)}: cannot parse expression {text!r}: {bad}"]
    unknown = sorted(expression_names(text) - known)
    if unknown:
        return [
            f"{source.where(loc)}: expression names {', '.join(unknown)}, which no check, "
            f"finding, var or builtin provides"
        ]
    return []


def _graph_problems(pb: Playbook, source: YamlSource) -> list[str]:
    problems: list[str] = []
    if pb.start not in pb.nodes:
        return problems
    # unreachable nodes
    seen = {pb.start}
    stack = [pb.start]
    while stack:
        for nxt in _successors(pb.nodes[stack.pop()]):
            if nxt in pb.nodes and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    for node_id in pb.nodes:
        if node_id not in seen:
            problems.append(
                f"{source.where(('nodes', node_id))}: node {node_id!r} cannot be reached from start {pb.start!r}"
            )
    # cycles: depth-first search with colours; report the edge that closes each cycle
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(pb.nodes, WHITE)

    # Iterative, not recursive: a chain of a few thousand nodes must not hit the recursion limit.
    # `path` holds the grey nodes in order (the trail a cycle is reported with), each with the
    # index of its next successor to look at.
    for root in pb.nodes:
        if colour[root] != WHITE:
            continue
        colour[root] = GREY
        path: list[tuple[str, int]] = [(root, 0)]
        on_path: dict[str, int] = {root: 0}
        while path:
            node_id, i = path[-1]
            node = pb.nodes[node_id]
            succ = _successors(node)
            if i >= len(succ):
                colour[node_id] = BLACK
                path.pop()
                del on_path[node_id]
                continue
            path[-1] = (node_id, i + 1)
            nxt = succ[i]
            if nxt not in pb.nodes:
                continue
            if colour[nxt] == GREY:
                cycle = [n for n, _ in path[on_path[nxt] :]] + [nxt]
                loc = ("nodes", node_id, "next", i) if i < len(node.next) else ("nodes", node_id)
                problems.append(f"{source.where(loc)}: cycle: {' -> '.join(cycle)}")
            elif colour[nxt] == WHITE:
                colour[nxt] = GREY
                on_path[nxt] = len(path)
                path.append((nxt, 0))
    if not any(n.conclusion for n in pb.nodes.values()):
        problems.append(f"{source.where(('nodes',))}: the playbook has no conclusion node")
    return problems
