"""Unit tests of the 502 playbook's logic for issue 22's cases: a host that answers nothing
(seen from both sides), a hardened firewall that lets the gateway in, a rule in the gateway's
own OUTPUT chain, and who made the 5xx (nginx's own page, or a backend's answer passed on)."""

from __future__ import annotations

from runbook.engine import Engine, Finding, Observation, RunState
from runbook.parsers.firewall import parse_iptables_save
from runbook.playbook.expr import environment
from tests.test_engine import inventory, obs, pb502  # noqa: F401  (pb502 is a fixture)

HARDENED = """*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -s 198.18.0.2/32 -p tcp -m tcp --dport 8080 -j ACCEPT
-A INPUT -p icmp -j ACCEPT
COMMIT
"""
EGRESS = """*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -d 198.18.0.4/32 -p tcp -m tcp --dport 8080 -j DROP
COMMIT
"""


def fw(parsed: dict, port: int, **kw) -> list[str]:
    return environment().filters["fw_blocking"](parsed, port, **kw)


def test_a_hardened_firewall_that_lets_the_gateway_in_blocks_nothing() -> None:
    parsed = parse_iptables_save(HARDENED)
    assert fw(parsed, 8080, source="198.18.0.2", chains=["INPUT"]) == []
    # from anywhere else the DROP policy applies, and without a source it may
    assert fw(parsed, 8080, source="198.18.0.9", chains=["INPUT"]) == ["filter/INPUT: -P INPUT DROP"]
    assert fw(parsed, 8080, chains=["INPUT"])


def test_the_gateways_output_chain_is_read_as_its_egress() -> None:
    parsed = parse_iptables_save(EGRESS)
    found = fw(parsed, 8080, chains=["OUTPUT"])
    assert found and "OUTPUT" in found[0] and "198.18.0.4" in found[0]
    assert fw(parsed, 8080, destination="198.18.0.3", chains=["OUTPUT"]) == []
    assert fw(parsed, 8080, chains=["INPUT"]) == []


def _reach(host: str, state: str) -> dict:
    return {"item": {"host": host, "port": 8080}, "data": {"state": state}, "timed_out": False}


def test_a_backend_silent_to_ssh_and_to_the_gateway_is_dead() -> None:
    dead = environment().filters["dead_hosts"]
    backends = [{"name": "app1", "address": "198.18.0.3"}, {"name": "app2", "address": "198.18.0.4"}]
    gaps = [{"host": "app2", "reason": "timeout", "check": "service_status"}]
    assert dead(gaps, backends, [_reach("198.18.0.4", "timeout"), _reach("198.18.0.3", "open")], {}) == ["app2"]
    # by name in the config: the name resolves to its address
    resolved = [{"item": "app2.internal", "data": {"answers": ["198.18.0.4"]}}]
    assert dead(gaps, backends, [_reach("app2.internal", "timeout")], {}, resolved) == ["app2"]
    # SSH refused us (it answered), or the gateway connects: not dead
    assert dead([{**gaps[0], "reason": "auth-refused"}], backends, [_reach("198.18.0.4", "timeout")], {}) == []
    assert dead(gaps, backends, [_reach("198.18.0.4", "open")], {}) == []


def test_a_dead_host_is_concluded_on_that_host(pb502) -> None:  # noqa: F811
    engine = Engine(pb502, inventory())
    found = [
        Finding(id="gw_504", node="symptom", severity="critical", title="504", host="local"),
        Finding(id="backend_host_dead", node="upstream-reach", severity="critical", title="dead", host="app2"),
        Finding(id="log_connect_timeout", node="gateway-log", severity="critical", title="t", host="app2"),
        Finding(id="backend_healthy", node="backend-health", severity="info", title="ok", host="app1"),
    ]
    w = engine.weigh("diagnose", RunState(findings=found))
    assert w["chosen"] == "cause-host-down", w["reason"]
    assert engine.conclusion("cause-host-down", [found[1]])["hosts"] == ["app2"]


NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
    "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def test_who_made_the_502(pb502) -> None:  # noqa: F811
    engine = Engine(pb502, inventory())

    def symptom(body: str) -> list[str]:
        o = Observation(
            step_id="s", node="symptom", check="through_gateway", host="local", command="GET", kind="http",
            exit_status=0, stdout=body, data={"http_code": 502},
        )  # fmt: skip
        return [f.id for f in engine.evaluate("symptom", RunState(), [o]).findings]

    assert "gw_error_page_nginx" in symptom(NGINX_502) and "gw_error_from_upstream" not in symptom(NGINX_502)
    own = symptom('{"error": "bad gateway: users-db did not answer"}')
    assert "gw_error_from_upstream" in own and "gw_error_page_nginx" not in own
    found = [
        Finding(id="gw_502", node="symptom", severity="critical", title="502", host="local"),
        Finding(id="gw_error_from_upstream", node="symptom", severity="warning", title="theirs", host="local"),
        Finding(id="direct_fails", node="direct-vs-gateway", severity="warning", title="app2 502", host="app2"),
    ]
    w = engine.weigh("diagnose", RunState(findings=found))
    assert w["chosen"] == "cause-backend-own-error", w["reason"]
    assert engine.conclusion(w["chosen"], [f for f in found if f.id in w["cited"]])["hosts"] == ["app2"]
