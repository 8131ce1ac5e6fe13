"""The access log read by its own log_format: who answered each request, and what the format
lacks. Lines are in the form nginx 1.22 writes them for the lab's `upstreamlog` format."""

from __future__ import annotations

import time

from runbook.parsers.nginx_access import COMBINED, compile_format, parse_access_log, read_line
from runbook.parsers.nginx_config import parse_nginx_t

LAB = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
    '"$http_user_agent" upstream=$upstream_addr upstream_status=$upstream_status request_time=$request_time '
    "upstream_response_time=$upstream_response_time upstream_header_time=$upstream_header_time"
)
HEAD = '198.18.0.1 - - [07/Dec/2026:02:27:21 +0000] "GET /api/users HTTP/1.1" '
OWN_502 = (
    HEAD
    + '502 60 "-" "curl/7.88" upstream=198.18.0.4:8080 upstream_status=502 request_time=0.003 '
    + ("upstream_response_time=0.003 upstream_header_time=0.002")
)
REFUSED_TWICE = (
    HEAD
    + '502 157 "-" "curl/7.88" upstream=198.18.0.3:8080, 198.18.0.4:8080 '
    + ("upstream_status=502, 502 request_time=0.001 upstream_response_time=0.000, 0.001 upstream_header_time=-, -")
)
OK = (
    HEAD
    + '200 310 "-" "curl/7.88" upstream=198.18.0.3:8080 upstream_status=200 request_time=0.004 '
    + ("upstream_response_time=0.004 upstream_header_time=0.004")
)


def test_a_line_is_read_by_its_format() -> None:
    values = read_line(compile_format(LAB), REFUSED_TWICE)
    assert values is not None
    assert values["status"] == "502" and values["upstream_addr"] == "198.18.0.3:8080, 198.18.0.4:8080"
    assert values["request"] == "GET /api/users HTTP/1.1"
    assert read_line(compile_format(LAB), "not an access log line") is None


def test_who_made_each_5xx() -> None:
    data = parse_access_log("\n".join([OWN_502, REFUSED_TWICE, OK]), LAB)
    # the first 502 came with a response header from 198.18.0.4: its own answer, passed on
    assert data["passed_on"] == {"198.18.0.4:8080": 1}
    # the second: nginx tried both and got no header from either; it made the 502
    assert data["made_by_nginx"] == 1 and data["retried"] == 1
    assert data["upstreams"]["198.18.0.3:8080"] == {"502": 1, "200": 1}
    assert data["status_5xx"] == 2 and data["lacks"] == []


def test_a_format_without_upstream_fields_says_so() -> None:
    line = HEAD + '502 157 "-" "curl/7.88"'
    data = parse_access_log(line, COMBINED)
    assert data["lacks"] == ["upstream_addr", "upstream_status", "upstream_header_time"]
    assert data["passed_on"] == {} and data["made_by_nginx"] == 1  # no upstream named: the gateway's


def test_access_logs_and_their_formats_come_from_nginx_t() -> None:
    text = (
        "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
        "nginx: configuration file /etc/nginx/nginx.conf test is successful\n"
        "# configuration file /etc/nginx/nginx.conf:\n"
        "http {\n    access_log /var/log/nginx/main.log;\n"
        "    log_format up '$remote_addr $status' ' upstream=$upstream_addr';\n"
        "    server { listen 80; access_log /var/log/nginx/api.log up; access_log syslog:server=x up;\n"
        "      location / { proxy_pass http://127.0.0.1:8080; access_log off; } }\n}\n"
    )
    logs = parse_nginx_t(text)["access_logs"]
    assert logs == [
        {"path": "/var/log/nginx/main.log", "format": "combined", "fmt": COMBINED},
        {"path": "/var/log/nginx/api.log", "format": "up", "fmt": "$remote_addr $status upstream=$upstream_addr"},
    ]


def test_hostile_lines_cost_linear_time() -> None:
    fmt = "$a $b $c $d $e $f $g $h"
    line = "x" * 200_000  # never finds the separators: each variable scans once
    many = " " * 200_000
    started = time.perf_counter()
    data = parse_access_log("\n".join([line, many] * 20), fmt)
    assert time.perf_counter() - started < 2.0
    assert data["total"] + data["unparsed"] == 40
