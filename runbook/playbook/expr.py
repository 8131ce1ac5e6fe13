"""Templates and rule expressions.

Commands use `{name}` / `{item.host}` placeholders (`{{` and `}}` for literal braces; `${VAR}`
is left to the shell); every substituted value is shell-quoted. Rules, branches and evidence
use Jinja2 expressions in a sandbox, with regex tests and filters added.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import meta, nodes
from jinja2.exceptions import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from runbook.safety import shell_quote

PLACEHOLDER = re.compile(r"\{\{|\}\}|(?<!\$)\{([A-Za-z_]\w*(?:\.\w+)*)\}")


class ExprError(Exception):
    pass


class MissingVar(ExprError):
    def __init__(self, name: str):
        super().__init__(f"no value for {{{name}}}")
        self.name = name


def placeholder_names(template: str) -> list[str]:
    """Dotted names used by a command template, in order."""
    return [m.group(1) for m in PLACEHOLDER.finditer(template) if m.group(1)]


def lookup(ctx: Mapping[str, Any], dotted: str) -> Any:
    value: Any = ctx
    for part in dotted.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list | tuple) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif hasattr(value, part) and not part.startswith("_"):
            value = getattr(value, part)
        else:
            raise MissingVar(dotted)
    return value


def render_template(template: str, ctx: Mapping[str, Any], *, quote: bool = True) -> str:
    """Fill placeholders; values are shell-quoted unless quote=False (URLs, names)."""

    def sub(m: re.Match[str]) -> str:
        text = m.group(0)
        if text == "{{":
            return "{"
        if text == "}}":
            return "}"
        value = lookup(ctx, m.group(1))
        if value is None:
            raise MissingVar(m.group(1))
        return shell_quote(value) if quote else str(value)

    return PLACEHOLDER.sub(sub, template)


def _search(value: Any, pattern: str) -> bool:
    return value is not None and re.search(pattern, str(value), re.MULTILINE) is not None


def _regex_findall(value: Any, pattern: str) -> list[Any]:
    return re.findall(pattern, "" if value is None else str(value), re.MULTILINE)


def _regex_search(value: Any, pattern: str) -> str | None:
    m = re.search(pattern, "" if value is None else str(value), re.MULTILINE)
    if not m:
        return None
    return m.group(1) if m.groups() else m.group(0)


def _num(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _upstreams_of(data: Any, *kinds: str) -> list[str]:
    """`host:port` of the upstreams that error-log entries of these kinds name (or the name
    that failed to resolve)."""
    out: list[str] = []
    for entry in (data or {}).get("entries", []) if isinstance(data, Mapping) else []:
        if entry.get("kind") in kinds:
            if entry.get("name"):
                out.append(str(entry["name"]))
            elif entry.get("upstream_host"):
                port = entry.get("upstream_port")
                out.append(f"{entry['upstream_host']}:{port}" if port else str(entry["upstream_host"]))
    return list(dict.fromkeys(out))


def _lines_of(data: Any, *kinds: str) -> str:
    """The latest error-log line of each kind, for evidence."""
    latest = (data or {}).get("latest", {}) if isinstance(data, Mapping) else {}
    return "\n".join(str(latest[k]) for k in kinds if k in latest)


def _not_in_inventory(targets: Any, endpoints: Any) -> list[Any]:
    """Proxy targets whose host:port is not an endpoint the inventory knows."""
    known = {str(e) for e in endpoints or []}
    return [t for t in targets or [] if isinstance(t, Mapping) and f"{t.get('host')}:{t.get('port')}" not in known]


def _fw_blocking(parsed: Any, port: Any = None, address: Any = None) -> list[str]:
    """Firewall rules (as written) that would drop or reject traffic to this port/address."""
    from runbook.parsers.firewall import rules_affecting

    if not isinstance(parsed, Mapping) or "rules" not in parsed:
        return []
    try:
        port_n = int(port) if port not in (None, "") else None
    except (TypeError, ValueError):
        port_n = None
    rules = rules_affecting(dict(parsed), port=port_n, address=str(address) if address else None)
    return [str(r.get("spec") or r) for r in rules]


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(autoescape=False)
    env.tests["search"] = _search
    env.tests["match"] = lambda v, p: v is not None and re.match(p, str(v)) is not None
    env.filters["regex_findall"] = _regex_findall
    env.filters["regex_search"] = _regex_search
    env.filters["num"] = _num
    env.globals["num"] = _num
    env.filters["upstreams_of"] = _upstreams_of
    env.filters["lines_of"] = _lines_of
    env.filters["not_in_inventory"] = _not_in_inventory
    env.filters["fw_blocking"] = _fw_blocking
    return env


@lru_cache(maxsize=2048)
def _compiled(source: str) -> Any:
    return environment().compile_expression(source, undefined_to_none=True)


def check_syntax(source: str) -> str | None:
    """None if the expression parses, else the parser's message."""
    try:
        environment().parse("{{ " + source + " }}")
    except TemplateError as exc:
        return str(exc)
    return None


def expression_names(source: str) -> set[str]:
    """Free top-level names an expression uses (for validation)."""
    ast = environment().parse("{{ " + source + " }}")
    return set(meta.find_undeclared_variables(ast))


def template_names(source: str) -> set[str]:
    ast = environment().parse(source)
    return set(meta.find_undeclared_variables(ast))


def attribute_paths(source: str) -> set[tuple[str, str]]:
    """(name, attribute) pairs such as ('answers', 'key') used by an expression."""
    ast = environment().parse("{{ " + source + " }}")
    pairs = set()
    for node in ast.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name):
            pairs.add((node.node.name, node.attr))
    return pairs


def evaluate(source: str, ctx: Mapping[str, Any]) -> Any:
    try:
        return _compiled(source)(**ctx)
    except TemplateError as exc:
        raise ExprError(f"{source!r}: {exc}") from exc
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, ZeroDivisionError) as exc:
        raise ExprError(f"{source!r}: {type(exc).__name__}: {exc}") from exc


def render_text(source: str, ctx: Mapping[str, Any]) -> str:
    try:
        return environment().from_string(source).render(**ctx)
    except (TemplateError, TypeError, ValueError, AttributeError, KeyError) as exc:
        raise ExprError(f"{source!r}: {exc}") from exc
