"""`nginx -T` parsing on real output of nginx 1.22 (see fixtures/generate.py)."""

import pytest

from runbook.parsers.nginx_config import parse_duration, parse_nginx_t, parse_size


@pytest.fixture
def lab(fixture_text):
    return parse_nginx_t(fixture_text("nginx-T.txt"))


@pytest.fixture
def gateway(fixture_text):
    return parse_nginx_t(fixture_text("nginx-T-gateway.txt"))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("60s", 60), ("2m", 120), ("500ms", 0.5), ("3", 3), ("1m30s", 90), ("1h", 3600)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "5x", "s", "1m 30s"])
def test_bad_durations(text):
    assert parse_duration(text) is None


def test_sizes():
    assert parse_size("4k") == 4096
    assert parse_size("1m") == 1048576
    assert parse_size("8192") == 8192
    assert parse_size("4kb") is None


def test_lab_config_upstreams(lab):
    assert lab["ok"] is True
    assert lab["errors"] == []
    assert len(lab["files"]) == 2  # the include was stitched from the dump
    ups = {u["name"]: u for u in lab["upstreams"]}
    good = ups["good"]
    assert good["keepalive"] == 8
    first, backup = good["servers"]
    assert (first["host"], first["port"], first["max_fails"], first["fail_timeout"]) == (
        "127.0.0.1",
        18081,
        3,
        30.0,
    )
    assert first["params"] == {"max_fails": 3, "fail_timeout": 30.0, "weight": 2}
    assert backup["backup"] is True and backup["max_fails"] == 1  # nginx's default
    assert backup["fail_timeout"] == 10.0


def test_lab_config_proxy_passes_and_variables(lab):
    by_loc = {p["location"]: p for p in lab["proxy_passes"]}
    assert by_loc["/pool"]["upstream"] == "pool"
    assert by_loc["/pool"]["port"] is None
    assert by_loc["/refused"]["upstream"] is None
    assert by_loc["/refused"]["port"] == 18099
    assert by_loc["/tls"]["scheme"] == "https"
    nx = by_loc["/nx"]
    assert nx["uses_variables"] is True
    assert nx["host"] == "app1.lab.internal" and nx["port"] == 8080
    assert nx["runtime_dns"] is True
    assert nx["resolver"] == ["127.0.0.1:15353"]
    assert by_loc["/noresolver"]["resolver"] is None  # the cause of "no resolver defined"
    assert by_loc["/api/"]["server_name"] == "gw.lab.internal"
    assert by_loc["/api/"]["listen"] == ["127.0.0.1:18080"]


def test_lab_config_timeouts_and_resolvers(lab):
    assert lab["timeouts"] == {
        "proxy_connect_timeout": 2.0,
        "proxy_read_timeout": 1.0,
        "proxy_send_timeout": 60.0,  # not set: nginx's default
    }
    assert {r["context"] for r in lab["resolvers"]} == {
        "location /nx",
        "location /servfail",
        "location /silent",
    }
    nx = next(r for r in lab["resolvers"] if r["context"] == "location /nx")
    assert nx["valid"] == 10.0 and nx["ipv6"] is False


def test_lab_config_targets(lab):
    targets = {(t["host"], t["port"], t["via"]) for t in lab["targets"]}
    assert ("127.0.0.1", 18099, "upstream pool") in targets
    assert ("127.0.0.1", 18109, "upstream pool") in targets
    assert ("127.0.0.1", 18099, "proxy_pass") in targets
    assert ("app2.lab.internal", 8080, "variable") in targets
    app2 = next(t for t in lab["targets"] if t["host"] == "app2.lab.internal")
    assert app2["name_based"] is True


def test_gateway_inheritance(gateway):
    assert gateway["ok"] is True
    assert len(gateway["files"]) == 3  # absolute glob include + relative snippet include
    locs = {loc["location"]: loc for loc in gateway["location_timeouts"]}
    assert gateway["timeouts_http"]["proxy_read_timeout"] == 120.0
    assert locs["/"]["proxy_read_timeout"] == 30.0  # server level overrides http
    assert locs["/slow/"]["proxy_read_timeout"] == 0.5  # location overrides server
    assert gateway["timeouts"]["proxy_read_timeout"] == 0.5  # strictest where proxying
    assert gateway["timeouts"]["proxy_connect_timeout"] == 5.0
    assert gateway["proxy_next_upstream"] == ["error", "timeout", "http_502"]
    assert gateway["proxy_cache_use_stale"] == ["error", "timeout", "http_502", "http_503"]
    assert gateway["buffers"]["proxy_buffer_size"] == 16384  # from the snippet
    assert gateway["buffers"]["proxy_buffers"] == {"number": 16, "size": 8192}
    assert locs["/"]["proxy_http_version"] == "1.1"


def test_gateway_variable_naming_an_upstream(gateway):
    root = next(p for p in gateway["proxy_passes"] if p["location"] == "/")
    assert root["uses_variables"] is True
    assert root["upstream"] == "app_pool"
    assert root["runtime_dns"] is False
    targets = {(t["host"], t["port"]): t for t in gateway["targets"]}
    assert targets[("localhost", 8080)]["name_based"] is True
    assert targets[("127.0.0.1", 8081)]["down"] is True
    assert targets[("unix:/run/app.sock", None)]["backup"] is True
    assert targets[("::1", 9090)]["name_based"] is False
    assert gateway["upstreams"][0]["balancing"] == "least_conn"


def test_failed_test_output(fixture_text):
    r = parse_nginx_t(fixture_text("nginx-T-failed.txt"))
    assert r["ok"] is False
    assert any("host not found in upstream" in e for e in r["errors"])


def test_defaults_when_nothing_set():
    text = (
        "# configuration file /etc/nginx/nginx.conf:\n"
        "events {}\nhttp { server { location / { proxy_pass http://10.0.0.5:8080; } } }\n"
    )
    r = parse_nginx_t(text)
    assert r["ok"] is True  # no verdict lines: trusted because it parsed cleanly
    assert r["timeouts"] == {
        "proxy_connect_timeout": 60.0,
        "proxy_read_timeout": 60.0,
        "proxy_send_timeout": 60.0,
    }
    assert r["proxy_next_upstream"] == ["error", "timeout"]
    assert r["proxy_cache_use_stale"] is None
    assert r["targets"][0]["host"] == "10.0.0.5"


def test_broken_config_reports_errors():
    r = parse_nginx_t("# configuration file /etc/nginx/nginx.conf:\nhttp { server {\n")
    assert r["ok"] is False
    assert r["errors"] and "/etc/nginx/nginx.conf" in r["errors"][0]
    assert parse_nginx_t("")["errors"]
