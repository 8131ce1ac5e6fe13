"""The error-log classifier on real nginx 1.22 lines (see fixtures/generate.py)."""

from datetime import UTC, datetime

import pytest

from runbook.parsers.nginx_errors import KINDS, parse_error_log

# path requested through the real nginx -> the kind its error.log line must be classified as
EXPECTED = {
    "/refused": "connect-refused",
    "/dropped": "connect-timeout",
    "/rejhost": "no-route",
    "/rejnet": "net-unreachable",
    "/rejrst": "connect-refused",
    "/tls": "ssl-handshake",
    "/noresolver": "no-resolver",
    "/close": "premature-close",
    "/badheader": "invalid-header",
    "/garbage": "no-valid-header",
    "/bigheader": "too-big-header",
    "/slow": "read-timeout",
    "/badchunk": "invalid-chunked",
    "/midbody": "upstream-closed-early",
    "/reset": "reset",
    "/nulheader": "invalid-header",
    "/toomuch": "invalid-length",
}


@pytest.fixture
def log(fixture_text):
    return parse_error_log(fixture_text("error.log"))


def test_every_real_line_gets_its_kind(log):
    by_path = {}
    for e in log["entries"]:
        path = e["request"].split()[1]
        by_path.setdefault(path, []).append(e["kind"])
    for path, kind in EXPECTED.items():
        assert kind in by_path[path], (path, by_path.get(path))
    assert "other" not in log["counts"]
    assert set(log["counts"]) <= set(KINDS)


def test_fields_of_a_connect_refused_line(log):
    e = next(e for e in log["entries"] if e["kind"] == "connect-refused")
    assert e["level"] == "error"
    assert e["errno"] == 111
    assert (e["upstream_scheme"], e["upstream_host"], e["upstream_port"]) == (
        "http",
        "127.0.0.1",
        18099,
    )
    assert e["client"] == "127.0.0.1"
    assert e["server"] == "gw.lab.internal"
    assert e["request"] == "GET /refused HTTP/1.1"
    assert e["host"] == "gw.lab.internal"
    assert e["action"] == "connecting to upstream"
    assert e["message"].startswith("connect() failed (111: Connection refused)")


def test_resolver_failures_name_the_host(log):
    unresolved = [e for e in log["entries"] if e["kind"] == "unresolved"]
    assert {(e["name"], e["errno"]) for e in unresolved} == {
        ("app1.lab.internal", 3),
        ("app2.lab.internal", 2),
        ("app3.lab.internal", 110),
    }
    assert log["names"]["app1.lab.internal"] == 2  # unresolved + no-resolver
    (nores,) = [e for e in log["entries"] if e["kind"] == "no-resolver"]
    assert nores["name"] == "app1.lab.internal"


def test_pool_exhaustion_sequence(log):
    assert log["upstreams"]["pool"] == {"no-live-upstreams": 1}
    assert log["upstreams"]["127.0.0.1:18099"]["upstream-disabled"] == 1
    assert log["counts"]["connect-refused"] == 4
    assert log["kinds"][0] == "connect-refused"  # most frequent first


def test_summary_fields(log, fixture_text):
    assert log["notices"] > 0  # start-up lines are counted, not listed
    assert all(e["kind"] != "notice" for e in log["entries"])
    assert log["total"] == len(log["entries"]) == sum(log["counts"].values())
    assert log["latest"]["read-timeout"].endswith('host: "gw.lab.internal"')
    assert log["now"] == float(fixture_text("error.log").split()[1])  # the NOW line
    assert log["errors"] == []


def test_window_uses_the_hosts_clock():
    text = (
        "NOW 1795306000\nTZOFFSET +0100\n"
        # 01:00:00 at +0100 is 1795305600 - 400 s before NOW
        "2026/11/22 00:00:00 [error] 1#1: *1 connect() failed (111: Connection refused) while "
        'connecting to upstream, client: 1.2.3.4, server: _, request: "GET / HTTP/1.1", '
        'upstream: "http://198.18.0.3:8080/", host: "x"\n'
        "2026/11/22 01:00:00 [error] 1#1: *2 upstream timed out (110: Connection timed out) "
        "while reading response header from upstream, client: 1.2.3.4, server: _, "
        'request: "GET / HTTP/1.1", upstream: "http://198.18.0.3:8080/", host: "x"\n'
    )
    all_ = parse_error_log(text)
    assert all_["total"] == 2
    assert all_["entries"][1]["epoch"] == 1795305600
    recent = parse_error_log(text, window_s=600)
    assert recent["kinds"] == ["read-timeout"]
    # The NOW line wins over the caller's clock; without it, `now` is used.
    far = datetime(2030, 1, 1, tzinfo=UTC)
    assert parse_error_log(text, now=far, window_s=600)["total"] == 1
    assert parse_error_log(text.split("\n", 1)[1], now=far, window_s=600)["total"] == 0


@pytest.mark.parametrize(
    ("line", "kind", "extra"),
    [
        (
            '2026/11/22 00:00:00 [emerg] 7#7: host not found in upstream "app1.invalid:8080" '
            "in /etc/nginx/conf.d/app.conf:4",
            "host-not-found",
            {"name": "app1.invalid", "upstream_port": 8080},
        ),
        (
            "2026/11/22 00:00:00 [error] 7#7: *3 upstream timed out (110: Connection timed out) "
            "while sending request to upstream, client: 1.1.1.1, server: _, "
            'request: "POST /u HTTP/1.1", upstream: "http://[2001:db8::1]:8080/u", host: "h"',
            "send-timeout",
            {"upstream_host": "2001:db8::1", "upstream_port": 8080},
        ),
        (
            "2026/11/22 00:00:00 [crit] 7#7: *3 connect() to unix:/run/app.sock failed "
            "(2: No such file or directory) while connecting to upstream, client: 1.1.1.1, "
            'server: _, request: "GET / HTTP/1.1", upstream: "http://unix:/run/app.sock:/", '
            'host: "h"',
            "socket-missing",
            {"upstream_host": "unix:/run/app.sock", "upstream_socket": "/run/app.sock", "errno": 2},
        ),
        (
            "2026/11/22 00:00:00 [alert] 7#7: 1024 worker_connections are not enough",
            "worker-connections",
            {},
        ),
        (
            "2026/11/22 00:00:00 [info] 7#7: *9 client prematurely closed connection while "
            'reading client request line, client: 1.1.1.1, server: _, request: "GET / HTTP/1.1"',
            "client-side",
            {},
        ),
        (
            "2026/11/22 00:00:00 [error] 7#7: *9 upstream SSL certificate verify error: "
            "(10:certificate has expired) while SSL handshaking to upstream, client: 1.1.1.1, "
            'server: _, request: "GET / HTTP/1.1", upstream: "https://10.0.0.1:443/", host: "h"',
            "ssl-verify",
            {"upstream_scheme": "https", "upstream_port": 443},
        ),
    ],
)
def test_messages_from_nginx_source(line, kind, extra):
    (e,) = parse_error_log(line)["entries"]
    assert e["kind"] == kind
    for k, v in extra.items():
        assert e[k] == v, k


def test_odd_input_is_counted_not_fatal():
    r = parse_error_log("junk\n==> /var/log/nginx/error.log <==\n\x00\n2026/13/45 99:99:99 [x] 1#1: y")
    assert r["total"] == 0
    assert r["unparsed"] == 4
