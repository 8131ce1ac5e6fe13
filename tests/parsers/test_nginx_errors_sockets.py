"""Error-log lines of unix-socket, FastCGI, uwsgi, SCGI and gRPC upstreams (issue 23).

Each line is built from the format string in nginx's source; file:line refer to nginx/nginx at
commit 3f6f7824d4e2 (2026-08). The same lines from a real nginx 1.22.1 are in
fixtures/error-sockets.log (fixtures/generate_sockets.py).

How ngx_http_log_error (src/http/ngx_http_request.c) completes every line:
  4140: p = ngx_snprintf(buf, len, " while %s", log->action);
  4147: p = ngx_snprintf(buf, len, ", client: %V", &ctx->connection->addr_text);
  4214: p = ngx_snprintf(buf, len, ", upstream: \"%V%V%s%V\"", &u->schema, u->peer.name,
                         uri_separator, &u->uri);   /* uri_separator is ":" for AF_UNIX (4210) */
and ngx_log_error_core (src/core/ngx_log.c:304) writes an errno as " (%d: " strerror ")".
"""

from __future__ import annotations

import pytest

from runbook.parsers.nginx_errors import KINDS, parse_error_log
from runbook.playbook.expr import _upstreams_of

TAIL = ', client: 10.0.0.9, server: _, request: "GET /index.php HTTP/1.1", upstream: "{up}", host: "shop"'
FPM = "fastcgi://unix:/run/php/php8.2-fpm.sock:"  # u->schema "fastcgi://" (fastcgi module:735)


def line(level: str, message: str, upstream: str | None = FPM) -> str:
    head = f"2026/11/22 03:00:00 [{level}] 812#812: *41 {message}"
    return head + (TAIL.format(up=upstream) if upstream else "")


def one(text: str) -> dict:
    (entry,) = parse_error_log(text)["entries"]
    assert entry["kind"] in KINDS
    return entry


# src/event/ngx_event_connect.c:254:
#     ngx_log_error(level, c->log, err, "connect() to %V failed", pc->name);
# level is NGX_LOG_ERR for ECONNREFUSED and, on Linux, EAGAIN (lines 236-247), else NGX_LOG_CRIT;
# the action is "connecting to upstream" (src/http/ngx_http_upstream.c:1577).
CONNECT = "connect() to unix:/run/php/php8.2-fpm.sock failed ({err}) while connecting to upstream"


def test_unix_socket_missing_errno_2():
    e = one(line("crit", CONNECT.format(err="2: No such file or directory")))
    assert e["kind"] == "socket-missing"
    assert e["errno"] == 2
    assert e["upstream_host"] == "unix:/run/php/php8.2-fpm.sock"
    assert e["upstream_socket"] == "/run/php/php8.2-fpm.sock"
    assert e["upstream_port"] is None
    assert e["upstream_scheme"] == "fastcgi"
    assert e["action"] == "connecting to upstream"


def test_unix_socket_permission_errno_13():
    e = one(line("crit", CONNECT.format(err="13: Permission denied")))
    assert (e["kind"], e["errno"], e["upstream_socket"]) == ("socket-permission", 13, "/run/php/php8.2-fpm.sock")


def test_unix_socket_backlog_errno_11():
    # ngx_event_connect.c:236-238: "Linux returns EAGAIN instead of ECONNREFUSED for unix sockets
    # if listen queue is full"
    e = one(line("error", CONNECT.format(err="11: Resource temporarily unavailable")))
    assert (e["kind"], e["errno"], e["upstream_socket"]) == ("socket-backlog", 11, "/run/php/php8.2-fpm.sock")


def test_unix_socket_stale_errno_111():
    # the same format string (ngx_event_connect.c:254); the file exists but nothing listens
    # (the lab's uwsgi-socket-stale fault leaves exactly this line)
    e = one(line("error", CONNECT.format(err="111: Connection refused")))
    assert (e["kind"], e["errno"], e["upstream_socket"]) == ("socket-refused", 111, "/run/php/php8.2-fpm.sock")


@pytest.mark.parametrize(
    ("upstream", "socket"),
    [
        # proxy_pass http://unix:/run/app.sock:/ -> schema "http://", uri "/"
        ("http://unix:/run/gunicorn.sock:/api/users", "/run/gunicorn.sock"),
        # uwsgi_pass unix:... -> u->schema "uwsgi://" (src/http/modules/ngx_http_uwsgi_module.c:714)
        ("uwsgi://unix:/run/uwsgi/app.sock:", "/run/uwsgi/app.sock"),
        # scgi_pass unix:... -> u->schema "scgi://" (src/http/modules/ngx_http_scgi_module.c:532)
        ("scgi://unix:/run/scgi.sock:", "/run/scgi.sock"),
        # grpc_pass unix:... -> u->schema "grpc://" (src/http/modules/ngx_http_grpc_module.c:601)
        ("grpc://unix:/run/grpc.sock:", "/run/grpc.sock"),
    ],
)
def test_socket_missing_through_every_pass_directive(upstream, socket):
    msg = f"connect() to unix:{socket} failed (2: No such file or directory) while connecting to upstream"
    e = one(line("crit", msg, upstream))
    assert (e["kind"], e["upstream_socket"], e["upstream_host"]) == ("socket-missing", socket, f"unix:{socket}")
    assert e["upstream_scheme"] == upstream.split("://")[0]


def test_socket_named_by_the_message_when_the_fields_are_cut_off():
    e = one(line("crit", CONNECT.format(err="2: No such file or directory"), upstream=None))
    assert (e["kind"], e["upstream_host"], e["upstream_socket"]) == (
        "socket-missing",
        "unix:/run/php/php8.2-fpm.sock",
        "/run/php/php8.2-fpm.sock",
    )


def test_tcp_connect_errors_are_not_socket_kinds():
    # EACCES on a TCP connect (e.g. SELinux) is not a unix-socket permission problem
    msg = "connect() to 10.0.0.3:9000 failed (13: Permission denied) while connecting to upstream"
    e = one(line("crit", msg, "fastcgi://10.0.0.3:9000"))
    assert e["kind"] == "other"
    assert e["upstream_socket"] is None


def test_upstreams_of_names_the_socket():
    text = "\n".join(
        [
            line("crit", CONNECT.format(err="2: No such file or directory")),
            line("error", CONNECT.format(err="11: Resource temporarily unavailable")),
        ]
    )
    data = parse_error_log(text)
    assert _upstreams_of(data, "socket-missing") == ["unix:/run/php/php8.2-fpm.sock"]
    assert _upstreams_of(data, "socket-backlog") == ["unix:/run/php/php8.2-fpm.sock"]
    assert data["upstreams"] == {"unix:/run/php/php8.2-fpm.sock": {"socket-missing": 1, "socket-backlog": 1}}


# src/http/ngx_http_upstream.c:3066 (ngx_http_upstream_test_connect):
#     (void) ngx_connection_error(c, err, "connect() failed");
# ngx_connection_error logs at NGX_LOG_ERR (src/core/ngx_connection.c:1597-1656).
@pytest.mark.parametrize(
    ("upstream", "scheme", "port"),
    [
        ("fastcgi://10.0.0.3:9000", "fastcgi", 9000),
        ("uwsgi://10.0.0.4:3031", "uwsgi", 3031),  # uwsgi module:711
        ("suwsgi://10.0.0.4:3031", "suwsgi", 3031),  # uwsgi module:708
        ("scgi://10.0.0.5:4000", "scgi", 4000),
        ("grpc://10.0.0.6:50051", "grpc", 50051),
        ("grpcs://10.0.0.6:50051", "grpcs", 50051),  # grpc module:595
    ],
)
def test_tcp_refused_carries_the_protocol(upstream, scheme, port):
    msg = "connect() failed (111: Connection refused) while connecting to upstream"
    e = one(line("error", msg, upstream))
    assert (e["kind"], e["upstream_scheme"], e["upstream_port"], e["upstream_socket"]) == (
        "connect-refused",
        scheme,
        port,
        None,
    )


# src/http/modules/ngx_http_fastcgi_module.c:1844-1845:
#     ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
#                   "FastCGI sent in stderr: \"%*s\"", p - msg, msg);
# (also 2384-2385 and 2650-2651 while the body is read)
def test_fastcgi_stderr():
    msg = 'FastCGI sent in stderr: "PHP message: PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted"'
    e = one(line("error", msg + " while reading response header from upstream", "fastcgi://10.0.0.3:9000"))
    assert e["kind"] == "fastcgi-stderr"
    assert e["detail"] == "PHP message: PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted"
    assert e["action"] == "reading response header from upstream"
    assert (e["upstream_host"], e["upstream_port"]) == ("10.0.0.3", 9000)


def test_fastcgi_stderr_is_the_applications_text_not_nginxs():
    # what PHP writes cannot pass for nginx's own words, nor cut the fields short
    app = "PHP message: upstream timed out (110: Connection timed out), client: 6.6.6.6, no live upstreams"
    msg = f'FastCGI sent in stderr: "{app}" while reading response header from upstream'
    e = one(line("error", msg, FPM))
    assert e["kind"] == "fastcgi-stderr"
    assert e["detail"] == app
    assert e["client"] == "10.0.0.9"
    assert e["upstream_socket"] == "/run/php/php8.2-fpm.sock"


def test_fastcgi_stderr_spanning_lines():
    # "%*s" writes the application's newlines as they are (a stack trace): one record
    text = "\n".join(
        [
            line("error", "upstream timed out (110: Connection timed out) while reading upstream", FPM),
            '2026/11/22 03:00:01 [error] 812#812: *42 FastCGI sent in stderr: "PHP message: PHP Fatal error:  boom',
            "Stack trace:",
            "",
            '#0 {main}" while reading response header from upstream' + TAIL.format(up="fastcgi://10.0.0.3:9000"),
            "2026/11/22 03:00:02 [error] 812#812: *43 no live upstreams while connecting to upstream"
            + TAIL.format(up="fastcgi://php"),
        ]
    )
    r = parse_error_log(text)
    assert [e["kind"] for e in r["entries"]] == ["read-timeout", "fastcgi-stderr", "no-live-upstreams"]
    assert r["unparsed"] == 0
    e = r["entries"][1]
    assert e["detail"] == "PHP message: PHP Fatal error:  boom\nStack trace:\n\n#0 {main}"
    assert e["action"] == "reading response header from upstream"
    assert e["upstream_port"] == 9000


def test_fastcgi_stderr_cut_at_nginxs_limit_does_not_swallow_the_log():
    # NGX_MAX_ERROR_STR is 2048 (src/core/ngx_log.h:79): a long message loses its end, fields and all
    text = "\n".join(
        [
            '2026/11/22 03:00:01 [error] 812#812: *42 FastCGI sent in stderr: "PHP message: ' + "x" * 1990,
            *["junk"] * 500,
            line("crit", CONNECT.format(err="2: No such file or directory")),
        ]
    )
    r = parse_error_log(text)
    assert [e["kind"] for e in r["entries"]] == ["fastcgi-stderr", "socket-missing"]
    assert r["unparsed"] > 0


# src/http/modules/ngx_http_fastcgi_module.c:2761-2763:
#     ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
#                   "upstream sent unsupported FastCGI "
#                   "protocol version: %d", ch);
@pytest.mark.parametrize("version", [72, 2])  # 72 is the "H" of an HTTP server's "HTTP/1.1 400"
def test_fastcgi_unsupported_version(version):
    msg = f"upstream sent unsupported FastCGI protocol version: {version} while reading response header from upstream"
    e = one(line("error", msg, "fastcgi://10.0.0.3:8080"))
    assert (e["kind"], e["upstream_port"]) == ("fastcgi-protocol", 8080)


@pytest.mark.parametrize(
    "msg",
    [
        # fastcgi module:2777-2779: "upstream sent invalid FastCGI record type: %d", ch
        "upstream sent invalid FastCGI record type: 13",
        # fastcgi module:1781-1783: "upstream sent unexpected FastCGI record: %ui", f->type
        "upstream sent unexpected FastCGI record: 3",
        # fastcgi module:2790-2792: "upstream sent unexpected FastCGI request id high byte: %d", ch
        "upstream sent unexpected FastCGI request id high byte: 1",
        # fastcgi module:2800-2802: "upstream sent unexpected FastCGI request id low byte: %d", ch
        "upstream sent unexpected FastCGI request id low byte: 7",
    ],
)
def test_fastcgi_records_nginx_cannot_read(msg):
    e = one(line("error", msg + " while reading response header from upstream"))
    assert e["kind"] == "fastcgi-protocol"


# src/http/modules/ngx_http_fastcgi_module.c:1789-1790 (response header not yet complete):
#     ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
#                   "upstream prematurely closed FastCGI stdout");
def test_fastcgi_stdout_closed_before_the_header():
    msg = "upstream prematurely closed FastCGI stdout while reading response header from upstream"
    e = one(line("error", msg))
    assert (e["kind"], e["upstream_socket"]) == ("premature-close", "/run/php/php8.2-fpm.sock")


@pytest.mark.parametrize(
    "msg",
    [
        # fastcgi module:2272-2274: "upstream prematurely closed " "FastCGI stdout" (p->log)
        "upstream prematurely closed FastCGI stdout",
        # fastcgi module:2296-2298: "upstream prematurely closed " "FastCGI request"
        "upstream prematurely closed FastCGI request",
    ],
)
def test_fastcgi_closed_in_the_body(msg):
    # the action while the body is read: "reading upstream" (src/http/ngx_http_upstream.c:3935)
    e = one(line("error", msg + " while reading upstream"))
    assert e["kind"] == "upstream-closed-early"


# src/http/ngx_http_upstream.c:2548-2549:
#     ngx_log_error(NGX_LOG_ERR, c->log, 0, "upstream prematurely closed connection");
# the action is "reading response header from upstream" (ngx_http_upstream.c:2470)
def test_uwsgi_closed_before_answering():
    msg = "upstream prematurely closed connection while reading response header from upstream"
    e = one(line("error", msg, "uwsgi://unix:/run/uwsgi/app.sock:"))
    assert (e["kind"], e["upstream_scheme"], e["upstream_socket"]) == (
        "premature-close",
        "uwsgi",
        "/run/uwsgi/app.sock",
    )


@pytest.mark.parametrize(
    ("msg", "upstream"),
    [
        # src/http/modules/ngx_http_uwsgi_module.c:1480-1482:
        #     "upstream sent invalid header: \"%*s\\x%02xd...\""
        ('upstream sent invalid header: "X-Bad\\x01..."', "uwsgi://10.0.0.4:3031"),
        # src/http/modules/ngx_http_scgi_module.c:1238-1240: the same format string
        ('upstream sent invalid header: "X-Bad\\x01..."', "scgi://10.0.0.5:4000"),
        # src/http/modules/ngx_http_uwsgi_module.c:1437-1439:
        #     "upstream sent invalid status \"%V\"", status_line
        ('upstream sent invalid status "abc"', "uwsgi://10.0.0.4:3031"),
        # src/http/modules/ngx_http_scgi_module.c:1195-1197: the same format string
        ('upstream sent invalid status "abc"', "scgi://10.0.0.5:4000"),
    ],
)
def test_uwsgi_and_scgi_invalid_responses(msg, upstream):
    e = one(line("error", msg + " while reading response header from upstream", upstream))
    assert (e["kind"], e["upstream_scheme"]) == ("invalid-header", upstream.split("://")[0])


# path requested through a real nginx 1.22.1 -> kinds of its lines (fixtures/generate_sockets.py)
REAL = {
    "/fpm-missing/index.php": ["socket-missing"],
    "/fpm-perm": ["socket-permission"],
    "/fpm-backlog": ["socket-backlog"],
    "/fpm-stale": ["socket-refused"],
    "/fpm-upstream": ["socket-missing"],
    "/fpm-refused": ["connect-refused"],
    "/fpm-stderr": ["fastcgi-stderr", "premature-close"],
    "/fpm-badver": ["fastcgi-protocol"],
    "/fpm-http": ["fastcgi-protocol"],
    "/fpm-close": ["premature-close"],
    "/fpm-multiline": ["fastcgi-stderr"],
    "/uwsgi-missing": ["socket-missing"],
    "/uwsgi-refused": ["connect-refused"],
    "/uwsgi-bad": ["invalid-header"],
    "/uwsgi-upstream": ["connect-refused", "socket-missing", "upstream-disabled"],
    "/scgi-bad": ["invalid-header"],
    "/http-unix-missing": ["socket-missing"],
    "/grpc": ["connect-refused"],
}


def test_real_nginx_lines(fixture_text):
    r = parse_error_log(fixture_text("error-sockets.log"))
    assert r["unparsed"] == 0
    by_path: dict[str, list[str]] = {}
    for e in r["entries"]:
        by_path.setdefault(e["request"].split()[1], []).append(e["kind"])
    assert by_path == REAL
    sockets = {e["upstream_socket"] for e in r["entries"] if e["kind"].startswith("socket-")}
    assert sockets == {
        "/srv/rb/sock/php8.2-fpm.sock",
        "/srv/rb/sock/perm.sock",
        "/srv/rb/sock/backlog.sock",
        "/srv/rb/sock/stale.sock",
        "/srv/rb/sock/upstream-missing.sock",
        "/srv/rb/sock/uwsgi.sock",
        "/srv/rb/sock/uwsgi-backup.sock",
        "/srv/rb/sock/app.sock",
    }
    multi = next(e for e in r["entries"] if e["request"] == "GET /fpm-multiline HTTP/1.1")
    assert multi["detail"].splitlines()[1:] == ["Stack trace:", "#0 {main}"]


def test_hostile_lines_take_linear_time():
    # remote text is hostile: each of these once meant a search per " while " to the line's end
    for body in [" while" * 100_000, 'FastCGI sent in stderr: "' + '" while x' * 100_000]:
        (e,) = parse_error_log("2026/11/22 03:00:00 [error] 1#1: *1 " + body)["entries"]
        assert e["action"] is not None and e["action"].startswith(("while", 'x" while'))
