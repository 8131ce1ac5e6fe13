"""Parse nginx's error.log into classified entries.

The classification follows the wording nginx itself logs (ngx_http_upstream.c,
ngx_http_proxy_module.c, ngx_resolver.c, ngx_event_connect.c, ngx_event_openssl.c), so a rule
can say "the gateway saw connection refused from 198.18.0.3:8080" instead of grepping.

The playbook prints the host's clock before the log, because nginx writes local time without a
zone and the host's clock may differ from ours::

    echo "NOW $(date +%s)"; echo "TZOFFSET $(date +%z)"; tail -n 2000 /var/log/nginx/error.log

See `ERROR_LOG_PREAMBLE`. Without a TZOFFSET line, log times are taken as UTC.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from runbook.parsers.nginx_config import split_hostport

#: Shell that prints the host's clock in the form `parse_error_log` understands.
ERROR_LOG_PREAMBLE = 'echo "NOW $(date +%s)"; echo "TZOFFSET $(date +%z)"'

#: Every value `kind` can take, roughly from most to least specific.
KINDS: tuple[str, ...] = (
    "connect-refused",  # connect() failed (111: Connection refused): nothing listens there
    "socket-refused",  # connect() to unix:PATH failed (111: Connection refused): the file is
    # there but no process listens on it (a stale socket: its service stopped or crashed)
    "socket-missing",  # connect() to unix:PATH failed (2: No such file or directory): the service
    # behind the socket (php-fpm, uwsgi, gunicorn) is not running or listens elsewhere
    "socket-permission",  # connect() to unix:PATH failed (13: Permission denied): nginx's worker
    # user may not write the socket (listen.owner/listen.mode, chmod-socket) or enter its directory
    "socket-backlog",  # connect() to unix:PATH failed (11: Resource temporarily unavailable):
    # Linux's answer when the socket's listen queue is full: the pool is exhausted (pm.max_children)
    "no-live-upstreams",  # every server of the upstream block is marked failed (max_fails)
    "upstream-disabled",  # warn: one server reached max_fails and is out for fail_timeout
    "premature-close",  # upstream closed before sending a full response header
    "upstream-closed-early",  # upstream closed in the middle of the body (header already sent)
    "reset",  # (104: Connection reset by peer) / (32: Broken pipe) talking to upstream
    "read-timeout",  # proxy_read_timeout expired (header or body)
    "connect-timeout",  # proxy_connect_timeout expired, or connect() got 110 from the kernel
    "send-timeout",  # proxy_send_timeout expired while sending the request
    "unresolved",  # the resolver answered with an error / no answer for a run-time name
    "no-resolver",  # a variable proxy_pass needs a name resolved but no `resolver` is set
    "host-not-found",  # name in an upstream/proxy_pass did not resolve at config load
    "invalid-header",  # upstream sent invalid header / invalid status / duplicate header
    "no-valid-header",  # response does not start with an HTTP status line
    "too-big-header",  # response header larger than proxy_buffer_size
    "invalid-chunked",  # broken chunked transfer encoding
    "invalid-length",  # more data than Content-Length said
    "no-route",  # (113: No route to host) / (113: Host is unreachable)
    "net-unreachable",  # (101: Network is unreachable)
    "addr-unavailable",  # (99: Cannot assign requested address): local ports exhausted
    "fastcgi-protocol",  # upstream sent unsupported FastCGI protocol version / invalid or
    # unexpected FastCGI record: what listens there does not speak FastCGI (version 72 is the
    # "H" of an HTTP server's "HTTP/1.1")
    "fastcgi-stderr",  # FastCGI sent in stderr: "...": the application wrote to stderr (PHP
    # errors); context for another kind, not itself a failed request. `detail` has the text
    "ssl-handshake",  # SSL_do_handshake() failed while SSL handshaking to upstream
    "ssl-verify",  # upstream SSL certificate verify error / does not match
    "worker-connections",  # worker_connections are not enough
    "too-many-open-files",  # (24: Too many open files)
    "buffered-to-file",  # warn: an upstream response is buffered to a temporary file
    "client-side",  # the client went away or misbehaved; not an upstream problem
    "notice",  # notice/info/debug lines nothing above matched (start-up, keepalive closes)
    "other",
)

_LINE_RE = re.compile(
    r"^(?P<ts>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) \[(?P<level>\w+)\] "
    r"(?P<pid>\d+)#(?P<tid>\d+): (?:\*(?P<conn>\d+) )?(?P<rest>.*)\Z",
    re.DOTALL,  # a FastCGI stderr message keeps the application's newlines
)
_START_RE = re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} \[")
_STDERR_PREFIX = 'FastCGI sent in stderr: "'
# Where nginx's own words resume after the application's stderr text: `" while ACTION, client: `.
_STDERR_END_RE = re.compile(r'" while [a-z ]+, client: ')
_MAX_RECORD = 2048 + 64  # NGX_MAX_ERROR_STR (src/core/ngx_log.h), plus room for a stray \r or two
_SOCKET_RE = re.compile(r"^connect\(\) to (unix:\S+) failed")
# ngx_http_log_error appends these, always in this order, after the message.
_FIELD_RE = re.compile(r', (client|server|request|subrequest|upstream|host|referrer): ("(?:[^"\\]|\\.)*"|[^,]*)')
_ERRNO_RE = re.compile(r"\((\d+): ([^)]*)\)")
_UPSTREAM_URL_RE = re.compile(
    r"^(?P<scheme>[a-z][a-z0-9+.-]*)://"
    r"(?P<hostport>unix:[^\s]*?(?=:/|:$|$)|\[[^\]]*\](?::\d+)?|[^/:\s]*(?::\d+)?)"
)
_NOW_RE = re.compile(r"^\s*NOW\s+(\d+(?:\.\d+)?)\s*$")
_TZ_RE = re.compile(r"^\s*TZOFFSET\s+([+-])(\d{2}):?(\d{2})\s*$")


def _classify(message: str, has_upstream: bool, level: str = "error") -> str:
    kind = _classify_message(message, has_upstream)
    if kind == "other" and level in ("notice", "info", "debug"):
        return "notice"
    return kind


def _classify_message(message: str, has_upstream: bool) -> str:
    m = message
    if m.startswith(_STDERR_PREFIX):  # first: the rest is the application's text, not nginx's
        return "fastcgi-stderr"
    low = m.lower()
    errno = _errno(m)
    towards_upstream = has_upstream or "upstream" in low
    if low.startswith("connect() to unix:"):
        by_errno_unix = {2: "socket-missing", 13: "socket-permission", 11: "socket-backlog", 111: "socket-refused"}
        if errno in by_errno_unix:
            return by_errno_unix[errno]
    if "no live upstreams" in low:
        return "no-live-upstreams"
    if "could not be resolved" in low:
        return "unresolved"
    if "no resolver defined to resolve" in low:
        return "no-resolver"
    if "host not found in upstream" in low or "host not found in resolver" in low:
        return "host-not-found"
    if "upstream server temporarily disabled" in low:
        return "upstream-disabled"
    if "worker_connections are not enough" in low:
        return "worker-connections"
    if "upstream timed out" in low:
        if "while connecting to upstream" in low:
            return "connect-timeout"
        if "while sending request to upstream" in low:
            return "send-timeout"
        return "read-timeout"
    if "upstream prematurely closed" in low:
        # Before the header is in, nginx has nothing to give the client: a 502. After it,
        # the client gets a truncated response instead.
        if "reading response header" in low:
            return "premature-close"
        return "upstream-closed-early"
    if "upstream ssl certificate" in low:
        return "ssl-verify"
    if "ssl_do_handshake() failed" in low and towards_upstream:
        return "ssl-handshake"
    if "upstream sent too big header" in low:
        return "too-big-header"
    if "upstream sent no valid http/1.0 header" in low:
        return "no-valid-header"
    if "upstream sent invalid chunked response" in low:
        return "invalid-chunked"
    if "upstream sent more data than specified" in low:
        return "invalid-length"
    if (
        "upstream sent unsupported fastcgi" in low
        or "upstream sent invalid fastcgi" in low
        or "upstream sent unexpected fastcgi" in low
    ):
        return "fastcgi-protocol"
    if low.startswith("upstream sent") or "upstream sent invalid" in low:
        return "invalid-header"
    if "buffered to a temporary file" in low:
        return "buffered-to-file"
    if errno == 24:
        return "too-many-open-files"
    if towards_upstream:
        by_errno = {
            111: "connect-refused",
            104: "reset",
            32: "reset",
            113: "no-route",
            101: "net-unreachable",
            99: "addr-unavailable",
            110: "connect-timeout" if "connect" in low else "read-timeout",
        }
        if errno in by_errno:
            return by_errno[errno]
    if "client" in low and (
        "client prematurely closed" in low
        or "client timed out" in low
        or "while reading client" in low
        or "while sending to client" in low
        or "client intended to send" in low
    ):
        return "client-side"
    if not towards_upstream and errno in (104, 32, 110):
        return "client-side"
    return "other"


def _errno(message: str) -> int | None:
    m = _ERRNO_RE.search(message)
    return int(m.group(1)) if m else None


def parse_upstream_url(url: str) -> dict[str, Any]:
    """Split nginx's `upstream: "http://198.18.0.3:8080/x"` value into scheme, host, port."""
    m = _UPSTREAM_URL_RE.match(url or "")
    if not m:
        return {"scheme": None, "host": None, "port": None}
    host, port = split_hostport(m.group("hostport"))
    return {"scheme": m.group("scheme"), "host": host, "port": port}


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    return value


def _name_in(message: str, kind: str) -> str | None:
    if kind == "unresolved":
        m = re.search(r"(\S+) could not be resolved", message)
        return m.group(1) if m else None
    if kind == "no-resolver":
        m = re.search(r"no resolver defined to resolve (\S+)", message)
        return m.group(1).rstrip(",") if m else None
    if kind == "host-not-found":
        m = re.search(r'host not found in (?:upstream|resolver) "([^"]*)"', message)
        return split_hostport(m.group(1))[0] if m else None
    return None


def _parse_line(line: str, tz: timezone) -> dict[str, Any] | None:
    m = _LINE_RE.match(line)
    if not m:
        return None
    rest = m.group("rest")
    fields: dict[str, str] = {}
    cut = -1
    if rest.startswith(_STDERR_PREFIX):
        end = _STDERR_END_RE.search(rest, len(_STDERR_PREFIX))
        if end:
            cut = end.end() - len(", client: ")
    if cut < 0:
        cut = rest.find(", client: ")
    if cut < 0:
        message = rest
    else:
        message = rest[:cut]
        for fm in _FIELD_RE.finditer(rest, cut):
            fields.setdefault(fm.group(1), _unquote(fm.group(2)))
    try:
        ts = datetime.strptime(m.group("ts"), "%Y/%m/%d %H:%M:%S").replace(tzinfo=tz)
    except ValueError:
        return None
    upstream = fields.get("upstream")
    kind = _classify(message, upstream is not None, m.group("level"))
    up: dict[str, Any] = parse_upstream_url(upstream) if upstream else {"scheme": None, "host": None, "port": None}
    name = _name_in(message, kind)
    if kind == "host-not-found" and up["host"] is None:
        hm = re.search(r'host not found in upstream "([^"]*)"', message)
        if hm:
            up["host"], up["port"] = split_hostport(hm.group(1))
    socket_path: str | None = None
    if isinstance(up["host"], str) and up["host"].startswith("unix:"):
        socket_path = up["host"][5:]
    elif sm := _SOCKET_RE.match(message):  # no upstream field (a cut line): the message names it
        up["host"], socket_path = sm.group(1), sm.group(1)[5:]
    detail = None
    if kind == "fastcgi-stderr":
        detail = message[len(_STDERR_PREFIX) :]
        quote = detail.rfind('"')
        detail = (detail[:quote] if quote >= 0 else detail)[:2000]
    action = _action(message)
    return {
        "ts": ts.isoformat(),
        "epoch": ts.timestamp(),
        "level": m.group("level"),
        "pid": int(m.group("pid")),
        "connection": int(m.group("conn")) if m.group("conn") else None,
        "message": message,
        "action": action,
        "kind": kind,
        "errno": _errno(message),
        "name": name,
        "upstream": upstream,
        "upstream_host": up["host"],
        "upstream_port": up["port"],
        "upstream_scheme": up["scheme"],
        "upstream_socket": socket_path,
        "detail": detail,
        "client": fields.get("client"),
        "server": fields.get("server"),
        "request": fields.get("request"),
        "host": fields.get("host"),
        "line": line,
    }


def parse_error_log(text: str, *, now: datetime | None = None, window_s: float | None = None) -> dict[str, Any]:
    """Classify each nginx error-log line; keep only the last `window_s` seconds if set.

    A leading `NOW <epoch>` line (the host's `date +%s`) wins over `now`, since the log was
    written by the host's clock; `TZOFFSET +hhmm` says which zone the log's times are in.
    Without either, `now` defaults to our clock, and log times are read as UTC.
    Lines of kind "notice" (start-up chatter, keepalive closes) are only counted, in
    "notices"; "unparsed" counts lines that are not nginx log lines at all.
    """
    errors: list[str] = []
    tz: timezone = UTC
    host_now: float | None = None
    lines = (text or "").splitlines()
    for line in lines[:20]:  # the preamble comes first; don't scan the whole log for it
        if nm := _NOW_RE.match(line):
            host_now = float(nm.group(1))
        elif tm := _TZ_RE.match(line):
            minutes = int(tm.group(2)) * 60 + int(tm.group(3))
            try:
                tz = timezone(timedelta(minutes=-minutes if tm.group(1) == "-" else minutes))
            except ValueError:
                errors.append(f"bad TZOFFSET: {line.strip()}")
    if host_now is not None:
        now_epoch = host_now
    elif now is not None:
        now_epoch = (now if now.tzinfo else now.replace(tzinfo=UTC)).timestamp()
    else:
        now_epoch = datetime.now(UTC).timestamp()

    entries: list[dict[str, Any]] = []
    unparsed = notices = 0
    for line in _records(lines):
        if not line.strip() or _NOW_RE.match(line) or _TZ_RE.match(line):
            continue
        try:
            entry = _parse_line(line, tz)
        except Exception as exc:  # never let one odd line sink the whole log
            errors.append(f"{exc!r} on line: {line[:200]}")
            entry = None
        if entry is None:
            unparsed += 1
            continue
        if window_s is not None and entry["epoch"] < now_epoch - window_s:
            continue
        if entry["kind"] == "notice":  # start-up chatter and keepalive closes: counted only
            notices += 1
            continue
        entries.append(entry)

    counts = Counter(e["kind"] for e in entries)
    upstreams: dict[str, dict[str, int]] = {}
    latest: dict[str, str] = {}
    for e in entries:
        latest[e["kind"]] = e["line"]
        if e["upstream_host"] is not None:
            key = e["upstream_host"] if e["upstream_port"] is None else _hostport(e)
            bucket = upstreams.setdefault(key, {})
            bucket[e["kind"]] = bucket.get(e["kind"], 0) + 1
    names: dict[str, int] = {}
    for e in entries:
        if e["name"]:
            names[e["name"]] = names.get(e["name"], 0) + 1
    return {
        "entries": entries,
        "counts": dict(counts),
        "kinds": [k for k, _ in counts.most_common()],
        "upstreams": upstreams,
        "names": names,
        "latest": latest,
        "total": len(entries),
        "notices": notices,
        "unparsed": unparsed,
        "now": now_epoch,
        "window_s": window_s,
        "errors": errors,
    }


def _action(message: str) -> str | None:
    """What nginx was doing (" while %s", from ngx_http_log_error): the first " while " after
    the message's last comma or newline. Found with plain string search, in linear time."""
    tail = message[max(message.rfind(","), message.rfind("\n")) + 1 :]
    cut = tail.find(" while ")
    return tail[cut + len(" while ") :] if cut >= 0 else None


def _records(lines: list[str]) -> list[str]:
    """Physical lines -> log records. nginx writes a FastCGI stderr message as the application
    sent it, newlines included, so its record goes on until nginx's own `" while ..., client: `
    (or the next timestamp, or nginx's cap on a record's length)."""
    records: list[str] = []
    open_stderr = False
    for raw in lines:
        line = raw.rstrip("\r")
        if open_stderr and not _START_RE.match(line) and len(records[-1]) + len(line) < _MAX_RECORD:
            records[-1] += "\n" + line
            open_stderr = not _STDERR_END_RE.search(line)
            continue
        records.append(line)
        cut = line.find(_STDERR_PREFIX)
        open_stderr = cut >= 0 and not _STDERR_END_RE.search(line, cut + len(_STDERR_PREFIX))
    return records


def _hostport(e: dict[str, Any]) -> str:
    host = e["upstream_host"]
    if ":" in host and not host.startswith("unix:"):
        return f"[{host}]:{e['upstream_port']}"
    return f"{host}:{e['upstream_port']}"
