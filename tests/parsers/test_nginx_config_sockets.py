"""`nginx -T` targets of fastcgi/uwsgi/scgi/grpc_pass and unix sockets, and the worker `user`
(issue 23). nginx-T-sockets.txt is a real nginx 1.22.1's dump (fixtures/generate_sockets.py)."""

from __future__ import annotations

import pytest

from runbook.parsers.nginx_config import parse_nginx_t

SOCK = "/srv/rb/sock"


@pytest.fixture
def real(fixture_text):
    return parse_nginx_t(fixture_text("nginx-T-sockets.txt"))


def dump(main: str, http: str) -> str:
    return (
        "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
        "nginx: configuration file /etc/nginx/nginx.conf test is successful\n"
        f"# configuration file /etc/nginx/nginx.conf:\n{main}\nevents {{}}\nhttp {{\n{http}\n}}\n"
    )


def targets_by_location(r: dict) -> dict:
    by_loc = {}
    for p in r["proxy_passes"]:
        by_loc[p["location"]] = p
    return by_loc


def test_real_dump_parses(real):
    assert real["ok"] is True
    assert real["errors"] == []
    assert real["unresolved_targets"] == []
    assert real["user"] == "nobody"
    assert real["user_group"] == "nogroup"


@pytest.mark.parametrize(
    ("location", "protocol", "socket"),
    [
        ("/fpm-missing", "fastcgi", f"{SOCK}/php8.2-fpm.sock"),  # fastcgi_pass unix:...
        ("/uwsgi-missing", "uwsgi", f"{SOCK}/uwsgi.sock"),  # uwsgi_pass unix:...
        ("/scgi-unix", "scgi", f"{SOCK}/scgi.sock"),  # scgi_pass unix:...
        ("/http-unix-missing", "http", f"{SOCK}/app.sock"),  # proxy_pass http://unix:...:/
        ("/http-unix-bare", "http", f"{SOCK}/bare.sock"),  # proxy_pass http://unix:... (no uri)
    ],
)
def test_unix_socket_passes(real, location, protocol, socket):
    p = targets_by_location(real)[location]
    assert (p["protocol"], p["socket"], p["host"], p["port"]) == (protocol, socket, f"unix:{socket}", None)
    assert p["runtime_dns"] is False
    (t,) = [t for t in real["targets"] if t["socket"] == socket]
    assert t["protocol"] == protocol
    assert t["host"] == f"unix:{socket}"  # the marker: never a DNS name
    assert t["port"] is None
    assert t["name_based"] is False


@pytest.mark.parametrize(
    ("location", "protocol", "host", "port", "name_based"),
    [
        ("/fpm-refused", "fastcgi", "127.0.0.1", 18199, False),  # fastcgi_pass 127.0.0.1:18199
        ("/uwsgi-refused", "uwsgi", "127.0.0.1", 18199, False),  # uwsgi_pass 127.0.0.1:18199
        ("/uwsgi-name", "uwsgi", "localhost", 3031, True),  # uwsgi_pass localhost:3031
        ("/suwsgi", "suwsgi", "127.0.0.1", 3032, False),  # uwsgi_pass suwsgi://...
        ("/scgi-bad", "scgi", "127.0.0.1", 18185, False),  # scgi_pass 127.0.0.1:18185
        ("/grpc", "grpc", "127.0.0.1", 18199, False),  # grpc_pass grpc://...
        ("/grpcs", "grpcs", "127.0.0.1", 50052, False),  # grpc_pass grpcs://...
        ("/https", "https", "127.0.0.1", 8443, False),  # proxy_pass https://...
    ],
)
def test_tcp_passes_carry_their_protocol(real, location, protocol, host, port, name_based):
    p = targets_by_location(real)[location]
    assert (p["protocol"], p["host"], p["port"], p["socket"]) == (protocol, host, port, None)
    t = next(t for t in real["targets"] if (t["host"], t["port"], t["protocol"]) == (host, port, protocol))
    assert t["name_based"] is name_based
    assert t["socket"] is None


def test_upstream_block_of_unix_and_tcp_servers(real):
    # upstream php { server unix:.../upstream-missing.sock; }  fastcgi_pass php;
    p = targets_by_location(real)["/fpm-upstream"]
    assert (p["upstream"], p["protocol"], p["socket"]) == ("php", "fastcgi", None)
    (t,) = [t for t in real["targets"] if t["via"] == "upstream php"]
    assert (t["protocol"], t["socket"], t["name_based"]) == ("fastcgi", f"{SOCK}/upstream-missing.sock", False)
    # upstream pyapp { server 127.0.0.1:18199 max_fails=3; server unix:.../uwsgi-backup.sock backup; }
    pool = {(t["host"], t["port"]): t for t in real["targets"] if t["via"] == "upstream pyapp"}
    assert pool[("127.0.0.1", 18199)]["protocol"] == "uwsgi"
    assert pool[("127.0.0.1", 18199)]["socket"] is None
    backup = pool[(f"unix:{SOCK}/uwsgi-backup.sock", None)]
    assert (backup["protocol"], backup["socket"], backup["backup"]) == ("uwsgi", f"{SOCK}/uwsgi-backup.sock", True)
    servers = next(u for u in real["upstreams"] if u["name"] == "pyapp")["servers"]
    assert [s["socket"] for s in servers] == [None, f"{SOCK}/uwsgi-backup.sock"]


def test_unix_targets_are_never_resolved(real):
    # the playbook resolves `targets | selectattr('name_based') | map(attribute='host')`
    names = [t["host"] for t in real["targets"] if t["name_based"]]
    assert names == ["localhost"]


def test_user_directive():
    r = parse_nginx_t(dump("user www-data;", "server { location / { fastcgi_pass unix:/run/php/php8.2-fpm.sock; } }"))
    assert r["ok"] is True
    assert (r["user"], r["user_group"]) == ("www-data", None)
    (t,) = r["targets"]
    assert (t["protocol"], t["socket"], t["host"]) == (
        "fastcgi",
        "/run/php/php8.2-fpm.sock",
        "unix:/run/php/php8.2-fpm.sock",
    )


def test_no_user_directive():
    r = parse_nginx_t(dump("", "server { location / { proxy_pass http://10.0.0.3:8080; } }"))
    assert (r["user"], r["user_group"]) == (None, None)
    (t,) = r["targets"]
    assert (t["protocol"], t["socket"], t["via"]) == ("http", None, "proxy_pass")


def test_fastcgi_pass_through_a_named_upstream_and_a_set_variable():
    http = """
    upstream php { server 10.0.0.7:9000; server php2.internal:9000; }
    server {
        set $pool php;
        location ~ \\.php$ { fastcgi_pass $pool; }
        location /grpc { grpc_pass unix:/run/grpc.sock; }
    }
    """
    r = parse_nginx_t(dump("user nginx nginx;", http))
    assert (r["user"], r["user_group"]) == ("nginx", "nginx")
    pool = {t["host"]: t for t in r["targets"] if t["via"] == "upstream php"}
    assert {h: (t["port"], t["protocol"], t["name_based"]) for h, t in pool.items()} == {
        "10.0.0.7": (9000, "fastcgi", False),
        "php2.internal": (9000, "fastcgi", True),
    }
    grpc = next(t for t in r["targets"] if t["via"] == "grpc_pass")
    assert (grpc["protocol"], grpc["socket"], grpc["name_based"]) == ("grpc", "/run/grpc.sock", False)
