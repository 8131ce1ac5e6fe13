"""Names, not strings, in unit tests of the 502 playbook's logic: a name nginx resolved once
and that has moved since (stale resolution), an address in the gateway's log that the inventory
knows only by name, a backend on the gateway itself over loopback, and errors in the log of a
gateway that answers well (history)."""

from __future__ import annotations

from runbook.engine import Engine, Observation, RunState
from runbook.inventory import Host, Inventory
from runbook.playbook.expr import environment
from tests.test_engine import inventory, obs, pb502  # noqa: F401  (pb502 is a fixture)

REFUSED = (
    "2026/12/07 02:27:21 [error] 23#23: *3 connect() failed (111: Connection refused) while connecting to "
    'upstream, client: 198.18.0.1, server: api.lab.internal, request: "GET /api/users HTTP/1.1", '
    'upstream: "http://{peer}/api/users", host: "198.18.0.2"'
)


def _log(*peers: str) -> dict:
    from runbook.parsers.nginx_errors import parse_error_log

    return parse_error_log("\n".join(REFUSED.format(peer=p) for p in peers), window_s=None)


def _pool(*hosts: str, via: str = "upstream app_pool") -> dict:
    return {
        "targets": [{"host": h, "port": 8080, "name_based": not h[0].isdigit(), "via": via} for h in hosts],
        "upstreams": [{"name": "app_pool", "servers": [{"host": h, "port": 8080, "params": {}} for h in hosts]}],
    }


def _resolved(answers: dict[str, list[str]]) -> list[dict]:
    return [{"item": name, "data": {"answers": addrs, "rcode": "NOERROR"}} for name, addrs in answers.items()]


def stale(config: dict, answers: dict[str, list[str]], log: dict) -> dict:
    return environment().filters["stale_names"](config, _resolved(answers), log)


def test_a_pool_name_that_moved_since_nginx_loaded_is_stale() -> None:
    config = _pool("app1.lab.internal", "app2.lab.internal")
    now = {"app1.lab.internal": ["198.18.0.13"], "app2.lab.internal": ["198.18.0.14"]}
    found = stale(config, now, _log("198.18.0.3:8080", "198.18.0.4:8080"))
    assert set(found) == {"app1.lab.internal", "app2.lab.internal"}
    assert found["app2.lab.internal"]["old"] == ["198.18.0.3", "198.18.0.4"]
    assert found["app2.lab.internal"]["certain"] and found["app2.lab.internal"]["via"] == "upstream app_pool"


def test_a_name_nginx_connects_to_at_its_current_address_is_not_stale() -> None:
    config = _pool("app1.lab.internal", "app2.lab.internal")
    now = {"app1.lab.internal": ["198.18.0.3"], "app2.lab.internal": ["198.18.0.4"]}
    # refused at the address the name has now: the backend is down, the name is not stale
    assert stale(config, now, _log("198.18.0.4:8080")) == {}


def test_a_name_resolved_at_run_time_is_never_stale() -> None:
    config = _pool("app1.lab.internal", via="variable")
    assert stale(config, {"app1.lab.internal": ["198.18.0.13"]}, _log("198.18.0.3:8080")) == {}
    # nor one with `resolve` in the upstream block (nginx 1.27.3+ re-resolves it)
    config = _pool("app1.lab.internal")
    config["upstreams"][0]["servers"][0]["params"] = {"resolve": True}
    assert stale(config, {"app1.lab.internal": ["198.18.0.13"]}, _log("198.18.0.3:8080")) == {}


def test_more_suspects_than_old_addresses_is_not_certain() -> None:
    """Only app2 moved, but app1 never shows in the error log either (it answers well): both
    names are suspects for one old address, and the finding says it is not certain which."""
    config = _pool("app1.lab.internal", "app2.lab.internal")
    now = {"app1.lab.internal": ["198.18.0.3"], "app2.lab.internal": ["198.18.0.14"]}
    found = stale(config, now, _log("198.18.0.4:8080"))
    assert "app2.lab.internal" in found and not found["app2.lab.internal"]["certain"]


def test_stale_resolution_is_concluded_with_reload_as_the_fix(pb502) -> None:  # noqa: F811
    engine = Engine(pb502, inventory())
    log = obs("gateway-log", "error_log", "gw1", exit_status=0, data=_log("198.18.0.3:8080", "198.18.0.4:8080"))
    config = obs("gateway-config", "nginx_config", "gw1", exit_status=0,
                 data=_pool("app1.lab.internal", "app2.lab.internal"))  # fmt: skip
    resolved = [
        Observation(
            step_id=f"r-{name}", node="upstream-dns", check="resolve_upstream", host="gw1", command="getent",
            kind="dns", item=name, exit_status=0, data={"answers": [addr], "rcode": "NOERROR"},
        )
        for name, addr in (("app1.lab.internal", "198.18.0.13"), ("app2.lab.internal", "198.18.0.14"))
    ]  # fmt: skip
    found = engine.evaluate("upstream-dns", RunState(observations=[log, config]), resolved).findings
    stale_found = [f for f in found if f.id == "upstream_stale"]
    assert sorted(f.host for f in stale_found) == ["app1", "app2"]
    assert "198.18.0.4" in stale_found[0].evidence and "resolves once" in stale_found[0].evidence
    node = pb502.nodes["cause-stale-resolution"]
    assert node.conclusion and node.conclusion.cause == "dns-failure"
    assert any("reload" in step for step in node.conclusion.remediation)
    assert any("resolver" in step and "variable" in step for step in node.conclusion.prevention)


def test_an_address_in_the_log_is_the_host_whose_name_resolves_there(pb502) -> None:  # noqa: F811
    named = inventory()
    for h in named.hosts.values():
        h.vars.pop("hostname", None)
    named.hosts["app2"].address = "app2.internal"
    engine = Engine(pb502, named)
    assert engine.host_name_for("198.18.0.4:8080") == "198.18.0.4"
    assert engine.host_name_for("198.18.0.4:8080", {"198.18.0.4": "app2.internal"}) == "app2"
    # an alias to a name the inventory does not know maps to nothing
    assert engine.host_name_for("198.18.0.9:8080", {"198.18.0.9": "db.internal"}) == "198.18.0.9"


def test_loopback_in_the_gateways_config_is_the_gateway_when_it_is_a_backend_too(pb502) -> None:  # noqa: F811
    inv = inventory()
    gw = inv.hosts["gw1"]
    assert Engine(pb502, inv).host_name_for("127.0.0.1:8080") == "127.0.0.1"  # not a backend: unknown
    hosts = dict(inv.hosts)
    hosts["gw1"] = Host(**{**gw.model_dump(), "roles": ["gateway", "backend"], "vars": {**gw.vars, "port": 8080}})
    both = Inventory(hosts=hosts, vars=inv.vars)
    engine = Engine(pb502, both)
    assert engine.host_name_for("127.0.0.1:8080") == "gw1"
    assert "127.0.0.1:8080" in engine.inventory_view()["endpoints"]


def test_errors_in_the_log_of_a_gateway_that_answers_well_are_history(pb502) -> None:  # noqa: F811
    from runbook.engine import Finding

    engine = Engine(pb502, inventory())
    healthy = [
        Finding(id="gw_ok", node="symptom", severity="info", title="200", host="local"),
        Finding(id="load_clean", node="load-probe", severity="info", title="30 requests", host="local"),
    ]
    log = obs("gateway-log", "error_log", "gw1", exit_status=0, data=_log("198.18.0.4:8080", "198.18.0.4:8080"))
    found = engine.evaluate("gateway-log", RunState(findings=healthy), [log]).findings
    assert [f.id for f in found] == ["log_history"] and found[0].severity == "info"
    assert "connect-refused: 2, first 2026-12-07T02:27:21" in found[0].evidence
    assert "198.18.0.4:8080" in found[0].evidence
    # while the symptom is there, the same log is evidence
    found = engine.evaluate("gateway-log", RunState(findings=healthy[:1]), [log]).findings
    assert "log_refused" in [f.id for f in found] and "log_history" not in [f.id for f in found]


def test_an_address_blamed_before_names_resolved_is_concluded_as_its_host(pb502) -> None:  # noqa: F811
    """In the gateway's log an upstream is an address; the inventory knows the host by a name,
    resolved only later in the walk. The conclusion names the host, not the address."""
    from runbook.engine import Finding

    named = inventory()
    named.hosts["app2"].address = "app2.internal"
    engine = Engine(pb502, named)
    resolved = Observation(
        step_id="i", node="upstream-dns", check="resolve_inventory", host="gw1", command="getent",
        kind="dns", item="app2.internal", exit_status=0, data={"answers": ["198.18.0.4"], "rcode": "NOERROR"},
    )  # fmt: skip
    cited = [Finding(id="log_refused", node="gateway-log", severity="critical", title="refused", host="198.18.0.4")]
    assert engine.conclusion("cause-backend-down", cited)["hosts"] == ["198.18.0.4"]
    assert engine.conclusion("cause-backend-down", cited, RunState(observations=[resolved]))["hosts"] == ["app2"]
