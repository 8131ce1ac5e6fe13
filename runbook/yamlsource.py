"""YAML loading that remembers where every key and item came from, for file:line errors."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runbook.errors import SourceError

__all__ = ["SourceError", "YamlSource", "load_yaml", "pydantic_problems"]

Loc = tuple[str | int, ...]


@dataclass
class YamlSource:
    path: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Iterable[str | int]) -> int:
        """The line of the deepest known prefix of `loc` (1-based)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)

    def where(self, loc: Iterable[str | int]) -> str:
        return f"{self.path}:{self.line_of(loc)}"


# libyaml's parser when PyYAML was built with it (several times faster on large playbooks)
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """SafeLoader with YAML 1.2 booleans: `on:`, `yes`, `no` stay strings (a check's `on:`)."""


_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            child = (*loc, key)
            lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, lines)
            # the value's own line wins only where the key did not set one
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*loc, index)
            lines[child] = item.start_mark.line + 1
            _walk(item, child, lines)


# --- limits: a hostile or careless file must give an error, not a hang or a RecursionError -----

#: bytes of YAML one playbook or inventory may have
MAX_FILE_BYTES = 8 * 1024 * 1024
#: nesting depth (mappings and sequences inside each other; real playbooks need under 15)
MAX_DEPTH = 100
#: alias references (`*name`) in one file
MAX_ALIASES = 10_000
#: nodes the document would have with every alias expanded (billion laughs)
MAX_EXPANDED = 1_000_000


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_limits(path: str, root: yaml.Node) -> None:
    """Alias cycles, alias bombs and deep nesting, found on the composed node tree (iteratively,
    so a deep file cannot overflow the stack here either) before anything is constructed."""

    def problem(node: yaml.Node, message: str) -> SourceError:
        return SourceError([f"{path}:{node.start_mark.line + 1}: {message}"])

    expanded: dict[int, int] = {}  # id(node) -> nodes under it, aliases expanded (capped)
    height: dict[int, int] = {}
    visiting: set[int] = set()
    aliases = 0
    stack: list[tuple[yaml.Node, list[yaml.Node]]] = [(root, _children(root))]
    visiting.add(id(root))
    while stack:
        node, todo = stack[-1]
        if todo:
            child = todo.pop()
            key = id(child)
            if key in visiting:
                raise problem(child, "YAML alias refers to a node that contains it (an alias cycle)")
            if key in expanded:  # seen before: an alias
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise problem(child, f"more than {MAX_ALIASES:,} YAML aliases")
                if len(stack) + height[key] > MAX_DEPTH:
                    raise problem(child, f"nested more than {MAX_DEPTH} levels deep")
                continue
            if len(stack) >= MAX_DEPTH:
                raise problem(child, f"nested more than {MAX_DEPTH} levels deep")
            visiting.add(key)
            stack.append((child, _children(child)))
            continue
        stack.pop()
        visiting.discard(id(node))
        kids = _children(node)
        total = 1 + sum(expanded[id(c)] for c in kids)
        if total > MAX_EXPANDED:
            raise problem(node, f"expands to more than {MAX_EXPANDED:,} nodes through YAML aliases (an alias bomb?)")
        expanded[id(node)] = total
        height[id(node)] = 1 + max((height[id(c)] for c in kids), default=0)


def load_yaml(path: str | Path, text: str | None = None) -> YamlSource:
    """Parse YAML into plain data plus a map of path -> line. Syntax errors become SourceError."""
    path = str(path)
    if text is None:
        try:
            size = Path(path).stat().st_size
            if size > MAX_FILE_BYTES:
                raise SourceError([f"{path}:1: {size:,} bytes; a YAML file may have at most {MAX_FILE_BYTES:,}"])
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise SourceError([f"{path}:1: cannot read: {exc.strerror or exc}"]) from exc
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise SourceError([f"{path}:{line}: not UTF-8 text: {exc.reason} at byte {exc.start}"]) from exc
    if len(text) > MAX_FILE_BYTES:
        raise SourceError([f"{path}:1: {len(text):,} characters; a YAML file may have at most {MAX_FILE_BYTES:,}"])
    try:
        # compose once: the node tree gives the lines, and the same tree is constructed into data
        loader = _LineLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _check_limits(path, node)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise SourceError([f"{path}:{line}: YAML syntax: {exc.problem or exc}"]) from exc
    except yaml.YAMLError as exc:
        raise SourceError([f"{path}:1: YAML: {exc}"]) from exc
    except RecursionError as exc:  # the pure-Python parser on deep input, without libyaml
        raise SourceError([f"{path}:1: nested too deeply to read"]) from exc
    lines: dict[Loc, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return YamlSource(path=path, data=data, lines=lines)


def pydantic_problems(source: YamlSource, exc: Any, prefix: Loc = ()) -> list[str]:
    """Turn a pydantic ValidationError into file:line: messages."""
    problems = []
    for err in exc.errors():
        loc = tuple(p for p in (*prefix, *err["loc"]) if not (isinstance(p, str) and p.startswith("function-")))
        dotted = ".".join(str(p) for p in loc) or "(top)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r}"
            dotted = ".".join(str(p) for p in loc[:-1]) or "(top)"
        elif err["type"] == "missing":
            msg = f"missing required key {loc[-1]!r}"
            dotted = ".".join(str(p) for p in loc[:-1]) or "(top)"
        problems.append(f"{source.where(loc)}: {dotted}: {msg}")
    return problems
