"""Resources, ss/netstat, pgrep, getent and curl parsers on real outputs from this machine."""

import shutil
import subprocess

import pytest

from runbook.parsers.process import (
    CURL_WRITE_OUT,
    parse_curl_w,
    parse_getent,
    parse_pgrep,
    parse_ss_listen,
)
from runbook.parsers.resources import RESOURCES_COMMAND, parse_resources


def test_resources_idle(fixture_text):
    r = parse_resources(fixture_text("resources.txt"))
    assert r["errors"] == []
    assert r["cpus"] == 2
    assert (r["load1"], r["load5"], r["load15"]) == (0.28, 0.2, 0.08)
    assert r["cpu_pct"] is not None and 0 <= r["cpu_pct"] < 20
    assert r["mem_total_kb"] == 24731700
    assert r["mem_available_kb"] == 24310604
    assert r["mem_used_pct"] == pytest.approx(1.7, abs=0.1)
    assert r["load_per_cpu"] == 0.14


def test_resources_busy(fixture_text):
    # captured while two busy loops ran on the two CPUs
    assert parse_resources(fixture_text("resources-busy.txt"))["cpu_pct"] > 80


@pytest.mark.skipif(not shutil.which("dash"), reason="dash (a strict POSIX sh) not installed")
def test_command_runs_under_posix_sh():
    out = subprocess.run(["dash", "-c", RESOURCES_COMMAND], capture_output=True, text=True)
    r = parse_resources(out.stdout)
    assert out.returncode == 0
    assert r["cpus"] and r["mem_total_kb"] and r["cpu_pct"] is not None


def test_resources_fallbacks():
    text = "== meminfo\nMemTotal: 1000 kB\nMemFree: 100 kB\nCached: 400 kB\n== stat1\ncpu x\n"
    r = parse_resources(text)
    assert r["mem_available_kb"] == 500  # pre-3.14 kernels: free + buffers + cached
    assert r["mem_used_pct"] == 50.0
    assert r["cpu_pct"] is None and r["errors"]


def test_ss_listen(fixture_text):
    rows = parse_ss_listen(fixture_text("ss-ltnp.txt"))
    nginx = next(r for r in rows if r["port"] == 18080)
    assert nginx["address"] == "127.0.0.1"
    assert nginx["process"] == "nginx"
    assert len(nginx["pids"]) == 2 and nginx["pid"] in nginx["pids"]
    assert {r["port"] for r in rows} >= {18081, 18091}
    with_header = parse_ss_listen(fixture_text("ss-ltnp-header.txt"))
    assert len(with_header) == len(rows)  # the header line is skipped


def test_ss_address_forms():
    text = (
        'LISTEN 0 4096 127.0.0.53%lo:53 0.0.0.0:* users:(("systemd-resolve",pid=5,fd=14))\n'
        "LISTEN 0 511 [::]:80 [::]:*\n"
        "LISTEN 0 511 *:8080 *:*\n"
        "tcp6       0      0 :::22     :::*    LISTEN      812/sshd: /usr/sbin\n"
        "tcp        0      0 0.0.0.0:8080  0.0.0.0:*  LISTEN      1234/python3\n"
    )
    rows = parse_ss_listen(text)
    assert [(r["address"], r["port"]) for r in rows] == [
        ("127.0.0.53", 53),
        ("::", 80),
        ("*", 8080),
        ("::", 22),
        ("0.0.0.0", 8080),
    ]
    assert rows[0]["process"] == "systemd-resolve" and rows[0]["pid"] == 5
    assert rows[1]["process"] is None
    assert rows[3]["pid"] == 812 and rows[3]["process"].startswith("sshd")
    assert rows[4]["process"] == "python3"


def test_netstat_real(fixture_text):
    rows = parse_ss_listen(fixture_text("netstat-ltnp.txt"))
    assert rows and all(r["port"] for r in rows)


def test_pgrep(fixture_text):
    rows = parse_pgrep(fixture_text("pgrep.txt"))
    assert len(rows) == 2
    assert rows[0]["command"].startswith("nginx: master process")
    assert all(isinstance(r["pid"], int) for r in rows)
    assert parse_pgrep("") == []


def test_getent(fixture_text):
    ahosts = parse_getent(fixture_text("getent-ahosts.txt"))
    assert ahosts == {"addresses": ["127.0.0.1"], "names": ["localhost"]}
    hosts = parse_getent("198.18.0.3      app1.lab.internal app1\n2001:db8::3 app1.lab.internal\n")
    assert hosts["addresses"] == ["198.18.0.3", "2001:db8::3"]
    assert hosts["names"] == ["app1.lab.internal", "app1"]
    assert parse_getent("") == {"addresses": [], "names": []}


def test_curl_ok(fixture_text):
    r = parse_curl_w(fixture_text("curl-ok.txt"))
    assert r["http_code"] == 200
    assert r["remote"] == "127.0.0.1:18555"
    assert 0 < r["connect_s"] <= r["ttfb_s"] <= r["total_s"]
    assert r["size"] == len(r["body"].encode())
    assert "RBCURL" not in r["body"]


def test_curl_refused(fixture_text):
    r = parse_curl_w(fixture_text("curl-refused.txt"))
    assert r["http_code"] is None  # curl prints 000
    assert r["remote"] is None
    assert r["curl_error"]["code"] == 7


def test_curl_404_and_format(fixture_text):
    assert parse_curl_w(fixture_text("curl-404.txt"))["http_code"] == 404
    assert CURL_WRITE_OUT.startswith("\\nRBCURL code=%{http_code}")
    r = parse_curl_w("no marker at all")
    assert r["marker"] is False and r["http_code"] is None and r["body"] == "no marker at all"
