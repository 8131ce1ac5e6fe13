"""The 502 playbook on unix-socket upstreams (unit tests of its logic; the error-log lines are
the ones nginx 1.22 writes, see tests/parsers/test_nginx_errors_sockets.py for their source):
a missing socket, a socket nginx's workers may not use, a full listen queue, and the protocol
spoken to what listens."""

from __future__ import annotations

import pytest

from runbook.engine import Engine, Finding, RunState
from runbook.parsers.nginx_errors import parse_error_log
from tests.test_engine import inventory, obs, pb502  # noqa: F401  (pb502 is a fixture)

LINE = (
    "2026/12/07 03:00:01 [{level}] 812#812: *41 connect() to unix:/run/php/php8.2-fpm.sock failed "
    "({errno}) while connecting to upstream, client: 198.18.0.1, server: api.lab.internal, "
    'request: "GET /index.php HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "api"'
)
CASES = [
    ("crit", "2: No such file or directory", "log_socket_missing", "cause-socket-service-down"),
    ("crit", "13: Permission denied", "log_socket_permission", "cause-socket-permission"),
    ("error", "11: Resource temporarily unavailable", "log_socket_backlog", "cause-socket-backlog"),
]


@pytest.mark.parametrize(("level", "errno", "finding", "node"), CASES, ids=[c[2] for c in CASES])
def test_a_socket_failure_is_found_on_the_gateway_and_concluded(pb502, level, errno, finding, node) -> None:  # noqa: F811
    engine = Engine(pb502, inventory())
    data = parse_error_log(LINE.format(level=level, errno=errno), window_s=None)
    log = obs("gateway-log", "error_log", "gw1", exit_status=0, data=data)
    found = engine.evaluate("gateway-log", RunState(), [log]).findings
    hit = [f for f in found if f.id == finding]
    assert hit and hit[0].host == "gw1" and "php8.2-fpm.sock" in hit[0].evidence
    symptom = Finding(id="gw_502", node="symptom", severity="critical", title="502", host="local")
    w = engine.weigh("diagnose", RunState(findings=[symptom, *hit]))
    assert w["chosen"] == node, w["reason"]
    conclusion = engine.conclusion(node, hit)
    assert conclusion["hosts"] == ["gw1"] and conclusion["remediation"]


def test_a_listener_on_the_socket_rules_out_a_stopped_service(pb502) -> None:  # noqa: F811
    engine = Engine(pb502, inventory())
    found = [
        Finding(id="gw_502", node="symptom", severity="critical", title="502", host="local"),
        Finding(id="log_socket_missing", node="gateway-log", severity="critical", title="gone", host="gw1"),
        Finding(id="socket_listening", node="upstream-sockets", severity="info", title="php-fpm", host="gw1"),
    ]
    score = next(s for s in engine.weigh("diagnose", RunState(findings=found))["scores"]
                 if s["goto"] == "cause-socket-service-down")  # fmt: skip
    assert score["against"] == {"socket_listening": 3.0}


def test_socket_targets_get_the_socket_node_and_no_dns_or_tcp_check(pb502) -> None:  # noqa: F811
    engine = Engine(pb502, inventory())
    targets = [{"host": "unix:/run/php/php8.2-fpm.sock", "port": None, "socket": "/run/php/php8.2-fpm.sock",
                "name_based": False, "protocol": "fastcgi", "via": "fastcgi_pass"}]  # fmt: skip
    config = obs("gateway-config", "nginx_config", "gw1", exit_status=0, data={"targets": targets})
    state = RunState(observations=[config])
    assert engine.choose_branch("gateway-config", state)[0] == "upstream-sockets"
    steps = engine.plan("upstream-sockets", state)
    assert [s.item for s in steps] == ["/run/php/php8.2-fpm.sock"]
    assert "namei -l /run/php/php8.2-fpm.sock" in steps[0].command
    assert not [s for s in engine.plan("upstream-dns", state) if s.check.id == "resolve_upstream"]
    assert not engine.plan("firewall-probe", state)
    assert not engine.plan("upstream-reach", state)
