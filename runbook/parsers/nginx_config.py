"""Turn `nginx -T` output into what the gateway will actually do: upstreams, proxy targets,
resolvers, timeouts and buffers, with nginx's inheritance (http -> server -> location) applied.

Every target (`proxy_pass`, `fastcgi_pass`, `uwsgi_pass`, `scgi_pass`, `grpc_pass`, directly or
through an `upstream` block) says its `protocol` (one of PROTOCOLS) and, for a unix socket,
its `socket` path; such a target's host is `unix:/path`, never a name to resolve. `user` and
`user_group` are the main context's `user` directive (None when unset: nginx's built-in default).

`nginx -T` prints every file it read as `# configuration file PATH:` followed by its text. Each
section is parsed on its own with crossplane (single-file mode, from a private temp dir), and
`include` directives are stitched back in by matching their patterns against the dumped paths, so
nothing is ever read from this machine's /etc/nginx.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import os
import re
import tempfile
from typing import Any

import crossplane

# nginx's documented defaults for what rules care about (ngx_http_proxy_module).
DEFAULT_TIMEOUTS = {
    "proxy_connect_timeout": 60.0,
    "proxy_read_timeout": 60.0,
    "proxy_send_timeout": 60.0,
}
DEFAULT_NEXT_UPSTREAM = ["error", "timeout"]
PAGE = 4096  # "4k|8k": one memory page; 4k on x86-64 and most arm64 builds
DEFAULT_BUFFERS: dict[str, Any] = {
    "proxy_buffering": True,
    "proxy_buffer_size": PAGE,
    "proxy_buffers": {"number": 8, "size": PAGE},
    "proxy_busy_buffers_size": 2 * PAGE,
    "proxy_max_temp_file_size": 1024 * 1024 * 1024,
}
# Default max_fails/fail_timeout/weight of an upstream `server` (ngx_http_upstream_module).
SERVER_DEFAULTS = {"max_fails": 1, "fail_timeout": 10.0, "weight": 1}
PASS_DIRECTIVES = {
    "proxy_pass": "http",
    "fastcgi_pass": "fastcgi",
    "uwsgi_pass": "uwsgi",
    "scgi_pass": "scgi",
    "grpc_pass": "grpc",
    "memcached_pass": "memcached",
}
#: What a target speaks on the wire: the scheme nginx logs as `upstream: "SCHEME://..."`.
PROTOCOLS = ("http", "https", "fastcgi", "uwsgi", "suwsgi", "scgi", "grpc", "grpcs", "memcached")
DEFAULT_PORTS = {"http": 80, "https": 443, "grpc": 80, "grpcs": 443, "memcached": 11211}
_INHERITED = (
    *DEFAULT_TIMEOUTS,
    *DEFAULT_BUFFERS,
    "proxy_next_upstream",
    "proxy_next_upstream_tries",
    "proxy_next_upstream_timeout",
    "proxy_cache_use_stale",
    "proxy_http_version",
    "resolver",
    "resolver_timeout",
)
_SECTION_RE = re.compile(r"^# configuration file (.+):\s*$")
_STATUS_RE = re.compile(r"^nginx: (?:\[(\w+)\] )?(.*)$")
_LOGLINE_RE = re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} \[(\w+)\] \d+#\d+: (.*)$")
_VAR_RE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_UNITS_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000}
_UNITS_S["y"] = 31536000
_SIZE = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_duration(value: str | None) -> float | None:
    """nginx time: "60s", "2m", "500ms", "1m30s", "3" (seconds) -> seconds; None if invalid."""
    if value is None:
        return None
    v = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", v):
        return float(v)
    parts = re.findall(r"(\d+)(ms|[smhdwMy])", v)
    if not parts or "".join(n + u for n, u in parts) != v:
        return None
    return float(sum(int(n) * _UNITS_S[u] for n, u in parts))


def parse_size(value: str | None) -> int | None:
    """nginx size: "4k", "1m", "8192" -> bytes; None if invalid."""
    if value is None:
        return None
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", value.strip())
    return int(m.group(1)) * _SIZE[m.group(2).lower()] if m else None


def split_sections(text: str) -> tuple[list[tuple[str, str]], list[dict[str, str]]]:
    """Split `nginx -T` output into [(path, content)] and nginx's own status/error lines.

    nginx's lines ("nginx: [emerg] ...", "nginx: the configuration file ... syntax is ok", or a
    timestamped log line on stderr) may come before, after or (2>&1) between the sections.
    """
    files: list[tuple[str, list[str]]] = []
    status: list[dict[str, str]] = []
    for line in (text or "").splitlines():
        if m := _SECTION_RE.match(line):
            files.append((m.group(1).strip(), []))
        elif (sm := _STATUS_RE.match(line)) and (sm.group(1) or "configuration file" in line):
            status.append({"level": sm.group(1) or "notice", "message": sm.group(2)})
        elif lm := _LOGLINE_RE.match(line):
            status.append({"level": lm.group(1), "message": lm.group(2)})
        elif files:
            files[-1][1].append(line)
    return [(p, "\n".join(lines) + "\n") for p, lines in files], status


def _crossplane_file(content: str, tmpdir: str, index: int) -> dict[str, Any]:
    path = os.path.join(tmpdir, f"{index}.conf")
    with open(path, "w", encoding="utf-8") as f:
        f.write(content)
    # single=True: never follow includes from disk; we stitch them from the dump instead.
    return crossplane.parse(path, single=True, check_ctx=False, catch_errors=True)


def _stitch(
    stmts: list[dict[str, Any]],
    parsed: dict[str, list[dict[str, Any]]],
    conf_dir: str,
    errors: list[str],
    depth: int = 0,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for st in stmts:
        if st.get("directive") == "include" and st.get("args"):
            if depth > 20:
                errors.append("include nesting deeper than 20 levels")
                continue
            pattern = st["args"][0]
            if not os.path.isabs(pattern):
                pattern = os.path.join(conf_dir, pattern)
            for path in sorted(p for p in parsed if fnmatch.fnmatchcase(p, pattern)):
                out.extend(_stitch(parsed[path], parsed, conf_dir, errors, depth + 1))
            continue
        st = dict(st)
        if "block" in st:
            st["block"] = _stitch(st["block"], parsed, conf_dir, errors, depth)
        out.append(st)
    return out


def split_hostport(hostport: str, default_port: int | None = None) -> tuple[str | None, int | None]:
    """`host:port`, `[v6]:port`, `unix:/path` or a bare host; the port is default_port when absent."""
    if not hostport:
        return None, None
    if hostport.startswith("unix:"):
        return hostport, None
    if hostport.startswith("["):
        host, _, rest = hostport[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        return host, int(port) if port.isdigit() else default_port
    host, sep, port = hostport.rpartition(":")
    if sep and ":" not in host and port.isdigit():
        return host, int(port)
    if sep and ":" not in host and not port:
        return host, default_port
    return hostport, default_port


def _is_ip(host: str | None) -> bool:
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _substitute(value: str, variables: dict[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        return variables.get(name, m.group(0))

    return _VAR_RE.sub(repl, value)


def _parse_target(raw: str, variables: dict[str, str], default_scheme: str) -> dict[str, Any]:
    """Scheme/host/port of a *_pass argument, with literal `set` variables filled in.

    port is None when the argument gives none (the caller decides between an upstream block
    of that name and the scheme's default port).
    """
    resolved = _substitute(raw, variables)
    scheme, sep, rest = resolved.partition("://")
    if not sep:  # fastcgi_pass 127.0.0.1:9000 / unix:/run/php.sock
        scheme, rest = default_scheme, resolved
    if rest.startswith("unix:"):
        # unix:/path/sock:/uri -> the socket path ends at the first ":" after "unix:"
        sock = rest[5:].split(":", 1)[0]
        return {"resolved": resolved, "scheme": scheme, "host": "unix:" + sock, "port": None}
    # "backend$request_uri": the authority ends at "/", "?" or an unresolved variable
    authority = re.split(r"[/?$]", rest, maxsplit=1)[0]
    host: str | None
    port: int | None = None
    if authority.startswith("["):
        host, _, tail = authority[1:].partition("]")
        port_s = tail[1:] if tail.startswith(":") else ""
    else:
        host, _, port_s = authority.partition(":")
    if port_s.isdigit():
        port = int(port_s)
    return {"resolved": resolved, "scheme": scheme, "host": host or None, "port": port}


def socket_of(host: str | None) -> str | None:
    """The path of a `unix:/path` host, else None."""
    return host[5:] if isinstance(host, str) and host.startswith("unix:") else None


def _protocol(scheme: str | None, directive: str) -> str:
    return scheme if scheme in PROTOCOLS else PASS_DIRECTIVES[directive]


def _server_entry(args: list[str]) -> dict[str, Any]:
    address = args[0] if args else ""
    host, port = split_hostport(address, 80)
    params: dict[str, Any] = {}
    for a in args[1:]:
        key, sep, val = a.partition("=")
        if not sep:
            params[key] = True
        elif key in ("max_fails", "weight", "max_conns"):
            params[key] = int(val) if val.isdigit() else val
        elif key in ("fail_timeout", "slow_start"):
            params[key] = parse_duration(val)
        else:
            params[key] = val
    entry = {"address": address, "host": host, "port": port, "params": params}
    for k, default in SERVER_DEFAULTS.items():
        entry[k] = params.get(k, default)
    entry["backup"] = bool(params.get("backup"))
    entry["down"] = bool(params.get("down"))
    entry["name_based"] = not (host or "").startswith("unix:") and not _is_ip(host)
    entry["socket"] = socket_of(host)
    return entry


def _upstream(st: dict[str, Any]) -> dict[str, Any]:
    up: dict[str, Any] = {
        "name": st["args"][0] if st.get("args") else "",
        "servers": [],
        "keepalive": None,
        "balancing": "round-robin",
        "zone": None,
        "line": st.get("line"),
    }
    for s in st.get("block", []):
        d, args = s.get("directive"), s.get("args", [])
        if d == "server":
            up["servers"].append(_server_entry(args))
        elif d == "keepalive" and args:
            up["keepalive"] = int(args[0]) if args[0].isdigit() else args[0]
        elif d in ("least_conn", "ip_hash", "hash", "random", "least_time"):
            up["balancing"] = d
        elif d == "zone" and args:
            up["zone"] = args[0]
    return up


def _resolver(args: list[str], where: str) -> dict[str, Any]:
    res: dict[str, Any] = {"addresses": [], "valid": None, "ipv6": True, "context": where}
    for a in args:
        if a.startswith("valid="):
            res["valid"] = parse_duration(a[6:])
        elif a.startswith("ipv6="):
            res["ipv6"] = a[5:] == "on"
        elif "=" not in a:
            res["addresses"].append(a)
    return res


def _effective(settings: dict[str, list[str]]) -> dict[str, Any]:
    eff: dict[str, Any] = {}
    for k, default in DEFAULT_TIMEOUTS.items():
        v = parse_duration(settings[k][0]) if settings.get(k) else None
        eff[k] = default if v is None else v
    nu = settings.get("proxy_next_upstream")
    eff["proxy_next_upstream"] = list(nu) if nu else list(DEFAULT_NEXT_UPSTREAM)
    tries = settings.get("proxy_next_upstream_tries")
    eff["proxy_next_upstream_tries"] = int(tries[0]) if tries and tries[0].isdigit() else 0
    stale = settings.get("proxy_cache_use_stale")
    eff["proxy_cache_use_stale"] = None if not stale or stale == ["off"] else list(stale)
    buffers = dict(DEFAULT_BUFFERS)
    if settings.get("proxy_buffering"):
        buffers["proxy_buffering"] = settings["proxy_buffering"][0] == "on"
    for k in ("proxy_buffer_size", "proxy_busy_buffers_size", "proxy_max_temp_file_size"):
        if settings.get(k):
            size = parse_size(settings[k][0])
            if size is not None:
                buffers[k] = size
    pb = settings.get("proxy_buffers")
    if pb and len(pb) == 2 and pb[0].isdigit() and parse_size(pb[1]) is not None:
        buffers["proxy_buffers"] = {"number": int(pb[0]), "size": parse_size(pb[1])}
    eff["buffers"] = buffers
    hv = settings.get("proxy_http_version")
    eff["proxy_http_version"] = hv[0] if hv else "1.0"
    res = settings.get("resolver")
    eff["resolver"] = _resolver(res, "inherited")["addresses"] if res else None
    return eff


class _Walker:
    def __init__(self) -> None:
        self.upstreams: list[dict[str, Any]] = []
        self.resolvers: list[dict[str, Any]] = []
        self.passes: list[dict[str, Any]] = []
        self.http_settings: dict[str, list[str]] = {}
        #: the main context's `user USER [GROUP];` (workers' identity), if set
        self.user: list[str] | None = None
        #: values a variable may take, from `map` and `split_clients` blocks
        self.alternatives: dict[str, list[str]] = {}

    def walk_main(self, stmts: list[dict[str, Any]]) -> None:
        for st in stmts:
            if st.get("directive") == "http":
                self.walk_http(st.get("block", []))
            elif st.get("directive") == "user" and st.get("args"):
                self.user = list(st["args"])

    def walk_http(self, stmts: list[dict[str, Any]]) -> None:
        settings = self._collect(stmts, {}, "http")
        self.http_settings = settings
        for st in stmts:
            d = st.get("directive")
            if d == "upstream":
                self.upstreams.append(_upstream(st))
            elif d in ("map", "split_clients") and st.get("args") and "block" in st:
                name = st["args"][-1].lstrip("$").strip("{}")
                values = [
                    b["args"][-1]
                    for b in st["block"]
                    if b.get("args") and b.get("directive") not in ("hostnames", "volatile", "include")
                ]
                self.alternatives[name] = list(dict.fromkeys(v for v in values if "$" not in v and v))
            elif d == "server":
                self.walk_server(st.get("block", []), settings)

    def walk_server(self, stmts: list[dict[str, Any]], parent: dict[str, list[str]]) -> None:
        names: list[str] = []
        listens: list[str] = []
        for st in stmts:
            if st.get("directive") == "server_name":
                names.extend(st.get("args", []))
            elif st.get("directive") == "listen" and st.get("args"):
                listens.append(" ".join(st["args"]))
        ctx = {"server_names": names, "listen": listens or ["80"]}
        where = f"server {names[0] if names else ''}".strip()
        settings = self._collect(stmts, parent, where)
        variables = self._sets(stmts, {})
        self.walk_block(stmts, settings, variables, ctx, location=None)

    def walk_block(
        self,
        stmts: list[dict[str, Any]],
        settings: dict[str, list[str]],
        variables: dict[str, str],
        ctx: dict[str, Any],
        location: str | None,
    ) -> None:
        for st in stmts:
            d = st.get("directive")
            args = st.get("args", [])
            if d in PASS_DIRECTIVES and args:
                self.passes.append(
                    {
                        "directive": d,
                        "target": args[0],
                        "location": location,
                        "settings": settings,
                        "variables": variables,
                        "line": st.get("line"),
                        **ctx,
                    }
                )
            elif d in ("location", "if", "limit_except") and "block" in st:
                block = st["block"]
                # `if`/`limit_except` live inside their location and inherit from it
                loc = " ".join(args) if d == "location" else location
                where = f"location {loc}" if loc else "server"
                inner = self._collect(block, settings, where)
                inner_vars = self._sets(block, variables)
                self.walk_block(block, inner, inner_vars, ctx, loc)

    def _collect(self, stmts: list[dict[str, Any]], parent: dict[str, list[str]], where: str) -> dict[str, list[str]]:
        settings = dict(parent)
        for st in stmts:
            d = st.get("directive")
            if d in _INHERITED:
                settings[d] = list(st.get("args", []))
            if d == "resolver":
                res = _resolver(st.get("args", []), where)
                res["line"] = st.get("line")
                self.resolvers.append(res)
        return settings

    @staticmethod
    def _sets(stmts: list[dict[str, Any]], parent: dict[str, str]) -> dict[str, str]:
        variables = dict(parent)
        for st in stmts:
            if st.get("directive") == "set" and len(st.get("args", [])) == 2:
                name, value = st["args"]
                name = name.lstrip("$").strip("{}")
                value = _substitute(value, variables)
                if "$" in value:
                    variables.pop(name, None)  # depends on the request: unknown here
                else:
                    variables[name] = value
        return variables


def _combine(values: list[Any], pick_min: bool) -> Any:
    if not values:
        return None
    if all(v == values[0] for v in values):
        return values[0]
    return min(values) if pick_min else values[0]


def _access_logs(tree: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every access log nginx writes to a file: path, format name and the format itself
    (nginx's predefined `combined` when none is named). Formats are looked up after the walk,
    since `log_format` may come after the `access_log` that uses it."""
    from runbook.parsers.nginx_access import COMBINED

    formats: dict[str, str] = {"combined": COMBINED}
    logs: dict[str, str] = {}
    stack = [iter(tree)]
    while stack:  # iterative: a deep configuration must not exhaust the recursion limit
        st = next(stack[-1], None)
        if st is None:
            stack.pop()
            continue
        d, args = st.get("directive"), [str(a) for a in st.get("args") or []]
        if d == "log_format" and len(args) >= 2:
            formats[args[0]] = "".join(a for a in args[1:] if not a.startswith("escape="))
        elif (
            d == "access_log" and args and args[0] != "off" and not args[0].startswith("syslog:") and "$" not in args[0]
        ):
            logs.setdefault(args[0], args[1] if len(args) > 1 and "=" not in args[1] else "combined")
        if st.get("block"):
            stack.append(iter(st["block"]))
    return [{"path": p, "format": name, "fmt": formats.get(name)} for p, name in logs.items()]


def parse_nginx_t(text: str) -> dict[str, Any]:
    """Parse `nginx -T` (stdout and stderr, in any order) into the gateway's effective setup.

    "timeouts" and "buffers" give the value in force where requests are proxied: if the
    proxying locations disagree, the strictest (smallest) value; with no proxying location, the
    http level. "timeouts_http" is the http level itself; "location_timeouts" has every
    proxying location's own effective values. nginx's defaults apply where nothing is set.
    """
    result: dict[str, Any] = {
        "ok": False,
        "errors": [],
        "warnings": [],
        "files": [],
        "upstreams": [],
        "proxy_passes": [],
        "resolvers": [],
        "timeouts": dict(DEFAULT_TIMEOUTS),
        "timeouts_http": dict(DEFAULT_TIMEOUTS),
        "location_timeouts": [],
        "proxy_next_upstream": list(DEFAULT_NEXT_UPSTREAM),
        "proxy_cache_use_stale": None,
        "buffers": dict(DEFAULT_BUFFERS),
        "targets": [],
        "unresolved_targets": [],
        "user": None,
        "user_group": None,
        "access_logs": [],
    }
    try:
        _parse_into(text, result)
    except Exception as exc:  # a parser bug must not lose the rest of the step
        result["ok"] = False
        result["errors"].append(f"internal error: {exc!r}")
    return result


def _parse_into(text: str, result: dict[str, Any]) -> None:
    files, status = split_sections(text)
    errors: list[str] = result["errors"]
    test_ok = test_failed = False
    for s in status:
        msg = s["message"]
        if s["level"] in ("emerg", "alert", "crit", "error"):
            errors.append(f"[{s['level']}] {msg}")
        elif s["level"] == "warn":
            result["warnings"].append(msg)
        if "test is successful" in msg:
            test_ok = True
        if "test failed" in msg:
            test_failed = True
    result["files"] = [p for p, _ in files]
    if not files:
        if not errors and not test_failed:
            errors.append("no '# configuration file' sections in the output")
        return

    parsed: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="rb-nginx-t-") as tmp:
        for i, (path, content) in enumerate(files):
            payload = _crossplane_file(content, tmp, i)
            for err in payload.get("errors", []):
                errors.append(f"{path}:{err.get('line')}: {err.get('error')}")
            cfg = payload.get("config") or [{}]
            parsed.setdefault(path, cfg[0].get("parsed", []))
    main = files[0][0]
    tree = _stitch(parsed[main], parsed, os.path.dirname(main), errors)

    result["access_logs"] = _access_logs(tree)
    walker = _Walker()
    walker.walk_main(tree)
    upstreams = {u["name"]: u for u in walker.upstreams}
    result["upstreams"] = walker.upstreams
    if walker.user:
        result["user"] = walker.user[0]
        result["user_group"] = walker.user[1] if len(walker.user) > 1 else None
    result["resolvers"] = walker.resolvers
    http_eff = _effective(walker.http_settings)
    result["timeouts_http"] = {k: http_eff[k] for k in DEFAULT_TIMEOUTS}

    targets: dict[tuple[Any, ...], dict[str, Any]] = {}
    per_location: list[dict[str, Any]] = []
    passes: list[dict[str, Any]] = []
    for p in walker.passes:
        # a target chosen by `map`/`split_clients` may be any of their values: one pass each
        names = [m.group(1) or m.group(2) for m in _VAR_RE.finditer(p["target"])]
        open_names = [n for n in names if n not in p["variables"] and n in walker.alternatives]
        if len(open_names) == 1 and walker.alternatives[open_names[0]]:
            for value in walker.alternatives[open_names[0]]:
                passes.append({**p, "variables": {**p["variables"], open_names[0]: value}})
        else:
            passes.append(p)
    for p in passes:
        scheme_default = PASS_DIRECTIVES[p["directive"]]
        t = _parse_target(p["target"], p["variables"], scheme_default)
        eff = _effective(p["settings"])
        uses_vars = "$" in p["target"]
        up_name = None
        if t["host"] in upstreams and t["port"] is None:
            up_name = t["host"]  # nginx prefers an upstream block of that name, vars or not
        elif t["host"] and t["port"] is None and not t["host"].startswith("unix:"):
            t["port"] = DEFAULT_PORTS.get(t["scheme"])
        runtime_dns = bool(uses_vars and up_name is None and t["host"] and not _is_ip(t["host"])) and not t[
            "host"
        ].startswith("unix:")
        protocol = _protocol(t["scheme"], p["directive"])
        entry = {
            "directive": p["directive"],
            "server_name": p["server_names"][0] if p["server_names"] else None,
            "server_names": p["server_names"],
            "listen": p["listen"],
            "location": p["location"],
            "target": p["target"],
            "resolved_target": t["resolved"],
            "scheme": t["scheme"],
            "protocol": protocol,
            "host": t["host"],
            "port": t["port"],
            "socket": socket_of(t["host"]) if up_name is None else None,
            "upstream": up_name,
            "uses_variables": uses_vars,
            "runtime_dns": runtime_dns,
            "resolver": eff["resolver"],
            "line": p["line"],
        }
        result["proxy_passes"].append(entry)
        loc = {
            "server_name": entry["server_name"],
            "location": p["location"],
            "target": p["target"],
            **{k: eff[k] for k in DEFAULT_TIMEOUTS},
            "proxy_next_upstream": eff["proxy_next_upstream"],
            "proxy_next_upstream_tries": eff["proxy_next_upstream_tries"],
            "proxy_cache_use_stale": eff["proxy_cache_use_stale"],
            "proxy_http_version": eff["proxy_http_version"],
            "buffers": eff["buffers"],
        }
        per_location.append(loc)
        if up_name is not None:
            for s in upstreams[up_name]["servers"]:
                key = (s["host"], s["port"], t["scheme"], f"upstream {up_name}")
                targets.setdefault(
                    key,
                    {
                        "host": s["host"],
                        "port": s["port"],
                        "scheme": t["scheme"],
                        "via": f"upstream {up_name}",
                        "name_based": s["name_based"],
                        "backup": s["backup"],
                        "down": s["down"],
                        "protocol": protocol,
                        "socket": s["socket"],
                    },
                )
        elif t["host"]:
            via = "variable" if uses_vars else p["directive"]
            key = (t["host"], t["port"], t["scheme"], via)
            targets.setdefault(
                key,
                {
                    "host": t["host"],
                    "port": t["port"],
                    "scheme": t["scheme"],
                    "via": via,
                    "name_based": not t["host"].startswith("unix:") and not _is_ip(t["host"]),
                    "backup": False,
                    "down": False,
                    "protocol": protocol,
                    "socket": socket_of(t["host"]),
                },
            )
        else:
            result["unresolved_targets"].append(p["target"])
    result["location_timeouts"] = per_location
    result["targets"] = list(targets.values())
    if per_location:
        for k in DEFAULT_TIMEOUTS:
            result["timeouts"][k] = _combine([loc[k] for loc in per_location], pick_min=True)
        buffers = dict(per_location[0]["buffers"])
        for k in ("proxy_buffer_size", "proxy_busy_buffers_size", "proxy_max_temp_file_size"):
            buffers[k] = _combine([loc["buffers"][k] for loc in per_location], pick_min=True)
        result["buffers"] = buffers
        result["proxy_next_upstream"] = per_location[0]["proxy_next_upstream"]
        result["proxy_cache_use_stale"] = per_location[0]["proxy_cache_use_stale"]
    else:
        result["timeouts"] = dict(result["timeouts_http"])
        result["buffers"] = http_eff["buffers"]
        result["proxy_next_upstream"] = http_eff["proxy_next_upstream"]
        result["proxy_cache_use_stale"] = http_eff["proxy_cache_use_stale"]
    result["ok"] = not test_failed and not any(e.startswith("[emerg]") for e in errors)
    if not test_ok and not test_failed:
        # Bare dump without nginx's verdict: trust it only if it parsed cleanly.
        result["ok"] = not errors
