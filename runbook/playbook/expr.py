"""Templates and rule expressions.

Commands use `{name}` / `{item.host}` placeholders (`{{` and `}}` for literal braces; `${VAR}`
is left to the shell); every substituted value is shell-quoted. Rules, branches and evidence
use Jinja2 expressions in a sandbox, with regex tests and filters added.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import re
import signal
import threading
from collections.abc import Iterator, Mapping
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


def _history(data: Any) -> list[str]:
    """One line per kind of error-log entry: how many, first and last time, and the upstreams
    named (for a log read while the gateway answers well: what happened, not what happens)."""
    entries = (data or {}).get("entries", []) if isinstance(data, Mapping) else []
    spans: dict[str, dict[str, Any]] = {}
    for e in entries:
        if not isinstance(e, Mapping):
            continue
        span = spans.setdefault(str(e.get("kind")), {"n": 0, "first": e.get("ts"), "last": e.get("ts"), "up": {}})
        span["n"] += 1
        span["last"] = e.get("ts")
        up = e.get("name") or e.get("upstream_host")
        if up:
            port = e.get("upstream_port")
            span["up"][f"{up}:{port}" if port and not e.get("name") else str(up)] = True
    lines = []
    for kind, span in sorted(spans.items(), key=lambda kv: -kv[1]["n"]):
        where = f"; {', '.join(list(span['up'])[:5])}" if span["up"] else ""
        lines.append(f"{kind}: {span['n']}, first {span['first']}, last {span['last']}{where}")
    return lines


def _access_summary(text: Any, fmt: Any = None) -> dict[str, Any]:
    """The access log read by its format (see runbook/parsers/nginx_access.py). Each rule on
    the check asks again (when, evidence, blame): the same log is parsed once."""
    return _parsed_access_log(str(text or ""), str(fmt) if fmt else None)


@lru_cache(maxsize=4)
def _parsed_access_log(text: str, fmt: str | None) -> dict[str, Any]:
    from runbook.parsers.nginx_access import parse_access_log

    return parse_access_log(text, fmt)


def _counter_verdict(before: Any, after: Any, probes: Any = None) -> dict[str, Any]:
    """The firewall verdict of one host from its counters read before (a result of another
    check, for the same host) and after the gateway's calls (`after`, one result). `probes`:
    the gateway's own probe results (fw_counters), whose flows (the addresses and port its
    calls really used) tell the probe's packets from other traffic's."""
    from runbook.parsers.fw_counters import flow_lines, parse_fw_counters

    if not isinstance(after, Mapping):
        return {"verdict": "unknown", "why": "no counters read after the calls", "blockers": []}
    first = next((b for b in before or [] if isinstance(b, Mapping) and b.get("host") == after.get("host")), None)
    if first is None:
        return {"verdict": "unknown", "why": "no counters read before the calls", "blockers": []}
    flows = [f for p in probes or [] if isinstance(p, Mapping) for f in (p.get("data") or {}).get("flows") or []]
    return parse_fw_counters(f"{flow_lines(flows)}{first.get('stdout') or ''}\n{after.get('stdout') or ''}")


def _answers(resolved: Any) -> dict[str, list[str]]:
    """name -> addresses, from the results of resolving names (a dns check's `item` and answers)."""
    answers: dict[str, list[str]] = {}
    for r in resolved or []:
        if isinstance(r, Mapping) and isinstance(r.get("data"), Mapping):
            answers.setdefault(str(r.get("item")), []).extend(str(a) for a in r["data"].get("answers") or [])
    return answers


def _is_ip(value: Any) -> bool:
    try:
        ipaddress.ip_address(str(value).strip("[]"))
    except ValueError:
        return False
    return True


def _not_in_inventory(targets: Any, endpoints: Any, resolved: Any = None, inventory_resolved: Any = None) -> list[Any]:
    """Proxy targets whose host:port is not an endpoint the inventory knows. Names are compared
    by what they resolve to from the gateway, in either direction: `resolved` for the names in
    the config, `inventory_resolved` for the inventory's addresses that are names. So
    `app1.internal:8080` and `198.18.0.3:8080` are one backend when the name points there."""
    known = {str(e) for e in endpoints or []}
    for name, addrs in _answers(inventory_resolved).items():
        for endpoint in list(known):
            host, _, port = endpoint.rpartition(":")
            if host == name:
                known.update(f"{a}:{port}" for a in addrs)
    answers = _answers(resolved)
    out = []
    for t in targets or []:
        if not isinstance(t, Mapping) or t.get("socket"):  # a unix socket is on the gateway itself
            continue
        names = [str(t.get("host")), *answers.get(str(t.get("host")), [])]
        if not any(f"{n}:{t.get('port')}" in known for n in names):
            out.append(t)
    return out


def _stale_names(config: Any, resolved: Any, log: Any) -> dict[str, dict[str, Any]]:
    """Upstream names nginx resolved once (in an `upstream` block or a proxy_pass without
    variables) whose current addresses it never connects to, while its error log shows it
    connecting to addresses that no upstream name resolves to now: name -> {port, via, now,
    old, certain}. `certain` is False when more names than old addresses could be stale."""
    if not isinstance(config, Mapping) or not isinstance(log, Mapping):
        return {}
    answers = _answers(resolved)
    resolve_param = {
        (str(srv.get("host")), srv.get("port"))
        for up in config.get("upstreams") or []
        if isinstance(up, Mapping)
        for srv in up.get("servers") or []
        if isinstance(srv, Mapping) and (srv.get("params") or {}).get("resolve")
    }
    targets = [t for t in config.get("targets") or [] if isinstance(t, Mapping)]
    known = {a for addrs in answers.values() for a in addrs}
    known |= {str(t.get("host")) for t in targets if _is_ip(t.get("host"))}
    peers: set[tuple[str, Any]] = set()
    for e in log.get("entries") or []:
        if isinstance(e, Mapping) and _is_ip(e.get("upstream_host")):
            peers.add((str(e["upstream_host"]).strip("[]"), e.get("upstream_port")))
    stale: dict[str, dict[str, Any]] = {}
    for t in targets:
        name, port = str(t.get("host")), t.get("port")
        static = t.get("name_based") and t.get("via") != "variable" and (name, port) not in resolve_param
        now = answers.get(name) or []
        if not static or not now:
            continue
        old = sorted(ip for ip, p in peers if p == port and ip not in known)
        if old and not any((a, port) in peers for a in now):
            stale[name] = {"port": port, "via": t.get("via"), "now": now, "old": old}
    for info in stale.values():
        info["certain"] = sum(1 for i in stale.values() if i["port"] == info["port"]) <= len(info["old"])
    return stale


def _fw_blocking(
    parsed: Any,
    port: Any = None,
    address: Any = None,
    source: Any = None,
    destination: Any = None,
    chains: Any = None,
) -> list[str]:
    """Firewall rules (as written) that would drop or reject a new connection to this port,
    involving `address`, or from `source` to `destination`, in `chains` (default INPUT and
    OUTPUT). A rule that lets the source in surely hides the DROP policy after it."""
    from runbook.parsers.firewall import rules_affecting

    if not isinstance(parsed, Mapping) or "rules" not in parsed:
        return []
    try:
        port_n = int(port) if port not in (None, "") else None
    except (TypeError, ValueError):
        port_n = None

    def ip(value: Any) -> str | None:
        return str(value).strip("[]") if value and _is_ip(value) else None

    rules = rules_affecting(
        dict(parsed),
        port=port_n,
        address=str(address) if address else None,
        source=ip(source),
        destination=ip(destination),
        chains=tuple(chains) if chains else ("INPUT", "OUTPUT"),
    )
    return [f"{r.get('table')}/{r.get('chain')}: {r.get('spec') or r}" for r in rules]


def _identities(host: Mapping[str, Any], resolved: list[dict[str, list[str]]]) -> set[str]:
    """Every way a host may be named: its inventory name, address and `hostname`, and what
    any of them resolved to."""
    names = {str(host.get(k)) for k in ("name", "address", "var_hostname") if host.get(k)}
    for answers in resolved:
        for name in list(names):
            names.update(answers.get(name, []))
    for answers in resolved:  # and the names that resolve to one of its addresses
        names.update(name for name, addrs in answers.items() if names & set(addrs))
    return names


def _addresses_of(hosts: Any, *resolved: Any) -> list[str]:
    """The IP addresses of inventory hosts: the address itself, or what a name resolved to."""
    maps = [_answers(r) for r in resolved]
    out: list[str] = []
    for h in hosts or []:
        if isinstance(h, Mapping):
            out += [n for n in sorted(_identities(h, maps)) if _is_ip(n)]
    return list(dict.fromkeys(out))


def _section(text: Any, name: str) -> list[str]:
    """The non-empty lines of one `== name` section of a check that prints several."""
    lines: list[str] = []
    inside = False
    for line in ("" if text is None else str(text)).splitlines():
        if line.startswith("== "):
            inside = line[3:].strip() == name
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


_NAMEI = re.compile(r"^([dlsp-][rwxsStT-]{9})\s+(\S+)\s+(\S+)\s+(.+)$")


def _socket_denied(lines: Any, user: Any) -> list[str]:
    """What keeps `user` (nginx's workers) from a unix socket, read from `namei -l` of its path:
    a directory it may not search, or a socket it may not write. Only the user's own group
    (a group of its name, as Debian's www-data has) is assumed; another membership is not
    known, so each line says which one would allow it."""
    user = str(user or "nobody")
    if user == "root":
        return []
    rows = [m.groups() for line in (lines or []) if (m := _NAMEI.match(str(line).strip()))]
    out = []
    for i, (mode, owner, group, name) in enumerate(rows):
        is_socket = i == len(rows) - 1 and mode.startswith("s")
        need, what = (1, "write") if is_socket else (2, "search")  # offsets of w, x in a triplet
        triplet = mode[1:4] if owner == user else mode[4:7] if group == user else mode[7:10]
        if triplet[need] not in ("w", "x", "s", "t"):
            out.append(f"{name}: {mode} {owner}:{group}, {user} may not {what} it (unless it is in group {group})")
    return out


_LISTENER = re.compile(r"\bLISTEN\s+(\d+)\s+(\d+)\s+(\S+)")


def _full_queues(text: Any) -> list[str]:
    """The listeners in `ss -l` output whose accept queue is full (Recv-Q, the connections
    waiting to be accepted, has reached Send-Q, the queue's limit): every worker is busy and
    the kernel turns new connections away. One line per listener: "address queued/backlog"."""
    out = []
    for m in _LISTENER.finditer("" if text is None else str(text)):
        queued, backlog = int(m.group(1)), int(m.group(2))
        if queued and queued >= backlog:
            out.append(f"{m.group(3)} {queued}/{backlog}")
    return out


#: the protocols a health check can speak besides HTTP (runbook/speak.py)
SPOKEN = ("fastcgi", "uwsgi")


def _protocol_of(configs: Any, host: Any, *resolved: Any) -> str:
    """The protocol the gateway speaks to `host` (an inventory host view) on its port, read from
    the gateway's parsed config (`nginx -T` results): a target naming the host on its port, else
    the targets on that port (a name not resolved yet), else the one protocol of every pass
    through a variable (a pool behind one names no host); HTTP when the
    config is not known or says nothing, so a backend that only speaks HTTP keeps its HTTP check."""
    if not isinstance(host, Mapping):
        return "http"
    maps = [_answers(r) for r in resolved]
    names = _identities(host, maps)
    port = str((host.get("vars") or {}).get("port", host.get("var_port", "")))
    matched: set[str] = set()
    on_port: set[str] = set()  # names not resolved yet: the targets on the host's port
    passes: set[str] = set()
    for result in configs or []:
        data = result.get("data", {}) if isinstance(result, Mapping) else {}
        for t in data.get("targets") or []:
            if not isinstance(t, Mapping) or t.get("socket") or (port and str(t.get("port")) != port):
                continue
            (matched if str(t.get("host")) in names else on_port).add(str(t.get("protocol") or "http"))
        # a pass through a variable names no host until run time: its protocol is a candidate
        passes.update(
            str(p.get("protocol") or "http")
            for p in data.get("proxy_passes") or []
            if isinstance(p, Mapping) and p.get("uses_variables") and not p.get("upstream")
        )
    found = matched or on_port or passes
    return found.pop() if len(found) == 1 and found <= {"http", "https", *SPOKEN} else "http"


#: the gap reasons of a host that does not answer at all (as opposed to refusing us)
_SILENT = {"unreachable", "timeout", "disconnected"}
#: how the gateway fails to connect to a host that answers nothing
_NO_ANSWER_KINDS = {"connect-timeout", "no-route", "net-unreachable"}


def _dead_hosts(gaps: Any, backends: Any, reach: Any, log: Any, *resolved: Any) -> list[str]:
    """Backends that answer nothing from either side: SSH to them fails without an answer
    (unreachable, timeout) and the gateway's connections to them time out or find no route
    (the reach check, or the gateway's log)."""
    silent = {str(g.get("host")) for g in gaps or [] if isinstance(g, Mapping) and g.get("reason") in _SILENT}
    failed: set[str] = set()
    for r in reach or []:
        if isinstance(r, Mapping) and isinstance(r.get("item"), Mapping):
            state = (r.get("data") or {}).get("state")
            if state in ("timeout", "no-route") or r.get("timed_out"):
                failed.add(str(r["item"].get("host")))
    if isinstance(log, Mapping):
        for e in log.get("entries") or []:
            if isinstance(e, Mapping) and e.get("kind") in _NO_ANSWER_KINDS and e.get("upstream_host"):
                failed.add(str(e["upstream_host"]).strip("[]"))
    maps = [_answers(r) for r in resolved]
    dead = []
    for h in backends or []:
        if isinstance(h, Mapping) and str(h.get("name")) in silent and _identities(h, maps) & failed:
            dead.append(str(h["name"]))
    return dead


# --- bounds: a playbook that validates must not be able to crash or stall a run ----------------

#: the longest string or list one operation may build, and the largest integer (in bits)
MAX_SIZE = 1_000_000
MAX_INT_BITS = 100_000
#: wall-clock budget of one evaluation (enforced where a timer signal can be used)
MAX_SECONDS = 2.0
#: elements all range() calls of one evaluation may produce together (nested loops multiply)
MAX_RANGE_TOTAL = 1_000_000

_range_budget: contextvars.ContextVar[list[int]] = contextvars.ContextVar("range_budget")
_SIZED_METHODS = {"center", "ljust", "rjust", "zfill", "expandtabs"}
_FORMAT_WIDTH = re.compile(r"\d{7,}")


class _Limit(Exception):
    """An evaluation went past a bound; becomes an ExprError naming it."""


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple) else 0


def _bounded_range(*args: Any) -> range:
    r = range(*args)
    budget = _range_budget.get(None)
    if budget is not None:
        budget[0] -= len(r)
        if budget[0] < 0:
            raise _Limit(f"range() would make more than {MAX_RANGE_TOTAL:,} elements in one expression")
    elif len(r) > MAX_RANGE_TOTAL:
        raise _Limit(f"range of {len(r):,} elements (limit {MAX_RANGE_TOTAL:,})")
    return r


class _BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox plus limits on what one operation may build."""

    intercepted_binops = frozenset(["*", "**", "+", "%"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if _size(seq) and isinstance(n, int) and _size(seq) * n > MAX_SIZE:
                    raise _Limit(f"repetition would build {_size(seq) * n:,} items (limit {MAX_SIZE:,})")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
            if max(1, abs(left).bit_length()) * right > MAX_INT_BITS and abs(left) > 1:
                raise _Limit(f"{left} ** {right} is too large a number")
        elif operator == "%" and isinstance(left, str) and _FORMAT_WIDTH.search(left):
            raise _Limit("format width past the limit")
        elif operator == "+" and _size(left) + _size(right) > MAX_SIZE:
            raise _Limit(f"concatenation would build {_size(left) + _size(right):,} items (limit {MAX_SIZE:,})")
        return super().call_binop(context, operator, left, right)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        name = getattr(__obj, "__name__", "")
        if isinstance(getattr(__obj, "__self__", None), str):
            if name in _SIZED_METHODS and any(isinstance(a, int) and a > MAX_SIZE for a in args):
                raise _Limit(f"str.{name} width past {MAX_SIZE:,}")
            if name in ("format", "format_map") and _FORMAT_WIDTH.search(__obj.__self__):
                raise _Limit("format width past the limit")
        result = super().call(__context, __obj, *args, **kwargs)
        if _size(result) > MAX_SIZE:
            raise _Limit(f"{name or 'a call'} built {_size(result):,} items (limit {MAX_SIZE:,})")
        return result


@contextlib.contextmanager
def _bounded() -> Iterator[None]:
    """A fresh range budget, and a wall-clock limit where a timer signal can be set (the main
    thread); elsewhere the size bounds still hold."""
    token = _range_budget.set([MAX_RANGE_TOTAL])
    timer = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    previous: Any = None
    if timer:

        def expired(signum: int, frame: Any) -> None:
            raise _Limit(f"evaluation took longer than {MAX_SECONDS:g}s")

        try:
            previous = signal.signal(signal.SIGALRM, expired)
            signal.setitimer(signal.ITIMER_REAL, MAX_SECONDS)
        except ValueError:
            timer = False
    try:
        yield
    finally:
        if timer:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
        _range_budget.reset(token)


def _failure(source: str, exc: BaseException) -> ExprError:
    if isinstance(exc, _Limit):
        return ExprError(f"{source!r}: over a limit: {exc}")
    if isinstance(exc, TemplateError):
        return ExprError(f"{source!r}: {exc}")
    return ExprError(f"{source!r}: {type(exc).__name__}: {exc}")


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    env = _BoundedSandbox(autoescape=False)
    env.globals["range"] = _bounded_range
    env.tests["search"] = _search
    env.tests["ip"] = _is_ip
    env.tests["match"] = lambda v, p: v is not None and re.match(p, str(v)) is not None
    env.filters["regex_findall"] = _regex_findall
    env.filters["regex_search"] = _regex_search
    env.filters["num"] = _num
    env.globals["num"] = _num
    env.filters["upstreams_of"] = _upstreams_of
    env.filters["lines_of"] = _lines_of
    env.filters["history"] = _history
    env.filters["access_summary"] = _access_summary
    env.filters["counter_verdict"] = _counter_verdict
    env.filters["not_in_inventory"] = _not_in_inventory
    env.filters["protocol_of"] = _protocol_of
    env.filters["full_queues"] = _full_queues
    env.filters["section"] = _section
    env.filters["socket_denied"] = _socket_denied
    env.filters["fw_blocking"] = _fw_blocking
    env.filters["stale_names"] = _stale_names
    env.filters["addresses_of"] = _addresses_of
    env.filters["dead_hosts"] = _dead_hosts
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


# Anything an expression can raise (ZeroDivisionError, OverflowError, MemoryError, RecursionError,
# a limit...) is the playbook's problem, reported as an ExprError, never a crash of the run.
_EVAL_ERRORS = (Exception, MemoryError, RecursionError)


def evaluate(source: str, ctx: Mapping[str, Any]) -> Any:
    try:
        with _bounded():
            result = _compiled(source)(**ctx)
        if _size(result) > MAX_SIZE:
            raise _Limit(f"the result has {_size(result):,} items (limit {MAX_SIZE:,})")
        return result
    except ExprError:
        raise
    except _EVAL_ERRORS as exc:
        raise _failure(source, exc) from exc


def render_text(source: str, ctx: Mapping[str, Any]) -> str:
    try:
        with _bounded():
            out: list[str] = []
            size = 0
            # generate() rather than render(): the output is bounded as it is made
            for chunk in environment().from_string(source).generate(**ctx):
                size += len(chunk)
                if size > MAX_SIZE:
                    raise _Limit(f"the text would be longer than {MAX_SIZE:,} characters")
                out.append(chunk)
        return "".join(out)
    except ExprError:
        raise
    except _EVAL_ERRORS as exc:
        raise _failure(source, exc) from exc
