"""The registry, and property tests: no parser raises, whatever text it is given."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from runbook.parsers import PARSERS, parse, rules_affecting
from runbook.parsers.firewall import parse_iptables_save
from runbook.parsers.nginx_errors import parse_error_log

# Text made of the pieces the parsers look for, so fuzzing reaches deep branches.
PIECES = [
    "\n",
    " ",
    "2026/11/22 00:08:36 [error] 1#1: *5 ",
    "connect() failed (111: Connection refused)",
    " while connecting to upstream",
    ', client: 1.2.3.4, server: _, request: "GET / HTTP/1.1"',
    ', upstream: "http://',
    "[::1]:8080/",
    "unix:/x:",
    '"',
    "could not be resolved (3: Host not found)",
    "NOW 17",
    "TZOFFSET -0530",
    "# configuration file /etc/nginx/nginx.conf:\n",
    "http {",
    "}",
    "server {",
    "location / {",
    "proxy_pass http://$a:$b;",
    "set $a b;",
    "upstream u { server x:1 max_fails=z; }",
    "include *.conf;",
    "proxy_read_timeout 1m3;",
    ";",
    "*filter\n",
    ":INPUT DROP [0:0]\n",
    "-A INPUT ! -s 10.0.0.0/33 -p tcp --dports 1:2,x -j REJECT\n",
    "table inet f {\nchain c {\ntype filter hook input priority 0; policy drop;\n",
    "tcp dport { 1, 2-3 } ip saddr != 1.2.3.4 drop\n",
    "== stat1\ncpu 1 2 3 4\n== stat2\ncpu 0 0 0 0\n== nproc\n0\n",
    'LISTEN 0 1 [::]:x *:* users:(("a",pid=x',
    "\nRBCURL code=abc connect= remote=:",
    "curl: (7) x",
    "\x00",
    "\r",
    "== before\n",
    "== after\n",
    "== role client\n",
    "[3:180] -A OUTPUT -d 10.0.0.2/32 -j REJECT\n",
    "counter packets 1 bytes 60 drop\n",
    "ct state established,related counter packets 9 bytes 1 accept\n",
    "Chain INPUT (policy DROP 1 packets, 60 bytes)\n",
    "       1       60 DROP       6    --  *      *       0.0.0.0/0            0.0.0.0/0\n",
]
texty = st.one_of(
    st.text(),
    st.lists(st.sampled_from(PIECES), max_size=40).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(PARSERS)), text=texty)
def test_no_parser_raises_and_results_are_json(name, text):
    result = parse(name, text)
    assert isinstance(result, dict)
    json.dumps(result)  # JSON-able, for the journal


@settings(max_examples=200, deadline=None)
@given(text=texty, port=st.none() | st.integers(0, 70000), addr=st.none() | st.text(max_size=20))
def test_rules_affecting_never_raises(text, port, addr):
    hits = rules_affecting(parse_iptables_save(text), port=port, address=addr)
    assert all(h["blocking"] for h in hits)


@settings(max_examples=100, deadline=None)
@given(text=texty, window=st.none() | st.floats(allow_nan=True))
def test_error_log_window_never_raises(text, window):
    r = parse_error_log(text, window_s=window)
    assert r["total"] == len(r["entries"])


def test_parse_unknown_and_bugs():
    assert "unknown parser" in parse("nope", "x")["errors"][0]
    PARSERS["_boom"] = lambda text: 1 / 0
    try:
        assert parse("_boom", "x") == {"errors": ["ZeroDivisionError('division by zero')"]}
    finally:
        del PARSERS["_boom"]


def test_registry_names():
    assert {"nginx_error_log", "nginx_config", "iptables", "resources", "ss_listen", "pgrep",
            "getent", "curl"} <= set(PARSERS)  # fmt: skip
    assert parse("ss_listen", "LISTEN 0 1 0.0.0.0:80 0.0.0.0:*")["listening"][0]["port"] == 80
