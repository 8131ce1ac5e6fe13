"""The engine is pure: playbook + inventory + results -> steps, findings, next node."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.engine import Engine, Observation, RunState
from runbook.inventory import Host, Inventory
from runbook.playbook import load_playbook
from tests.conftest import FIXTURES, PLAYBOOK_502


def inventory() -> Inventory:
    return Inventory(
        hosts={
            "gw1": Host(name="gw1", address="198.18.0.2", roles=["gateway"]),
            "app1": Host(
                name="app1",
                address="198.18.0.3",
                roles=["backend"],
                vars={"port": 8080, "service": "app", "hostname": "app1.lab.internal"},
            ),
            "app2": Host(
                name="app2",
                address="198.18.0.4",
                roles=["backend"],
                vars={"port": 8080, "service": "web; rm -rf /", "hostname": "app2.lab.internal"},
            ),
        },
        vars={"public_url": "http://198.18.0.2/api/users"},
    )


@pytest.fixture(scope="module")
def pb502():
    return load_playbook(PLAYBOOK_502)


def obs(node: str, check: str, host: str, **kw) -> Observation:
    return Observation(step_id=f"{check}-{host}", node=node, check=check, host=host, command="x", **kw)


def test_plan_fans_out_over_role_and_quotes_values(pb502) -> None:
    engine = Engine(pb502, inventory())
    steps = engine.plan("backend-health", RunState())
    status = {s.host.name: s for s in steps if s.check.id == "service_status"}
    assert set(status) == {"app1", "app2"}
    assert status["app1"].command == "systemctl status app --no-pager --lines=5"
    # a hostile value is one shell word, never a second command
    assert status["app2"].command == "systemctl status 'web; rm -rf /' --no-pager --lines=5"
    assert status["app2"].fallback.startswith("pgrep -a -x 'web; rm -rf /' || ")


def test_missing_host_var_becomes_a_step_error(tmp_path: Path) -> None:
    pb = load_playbook(FIXTURES / "mini.yaml")
    inv = Inventory(hosts={"h": Host(name="h", address="127.0.0.1", roles=["backend"])}, vars={})
    engine = Engine(pb, inv, {"greeting": None})
    (step,) = engine.plan("first", RunState())
    assert step.error and "{greeting} has no value" in step.error


def test_http_check_from_a_host_uses_curl_and_local_uses_httpx(pb502) -> None:
    engine = Engine(pb502, inventory())
    (symptom,) = [s for s in engine.plan("symptom", RunState()) if s.check.id == "through_gateway"]
    assert symptom.request["via"] == "local" and symptom.request["url"] == "http://198.18.0.2/api/users"
    health = [s for s in engine.plan("backend-health", RunState()) if s.check.id == "health_inside"]
    assert health[0].command.startswith("curl -sS") and "http://127.0.0.1:8080/health" in health[0].command


def test_findings_and_branch_backend_down(pb502) -> None:
    engine = Engine(pb502, inventory())
    results = [
        obs("backend-health", "service_status", "app1", exit_status=1, data={"fallback_from": {"exit_status": 127}}),
        obs(
            "backend-health",
            "service_status",
            "app2",
            exit_status=0,
            stdout="123 app",
            data={"fallback_from": {"exit_status": 127}},
        ),
    ]
    outcome = engine.evaluate("backend-health", RunState(), results)
    down = [f for f in outcome.findings if f.id == "backend_not_running"]
    assert [f.host for f in down] == ["app1"]
    assert outcome.next == "cause-backend-down"
    assert [f.host for f in outcome.cited] == ["app1"]
    concl = engine.conclusion("cause-backend-down", outcome.cited)
    assert concl["cause"] == "backend-down" and concl["hosts"] == ["app1"]


def test_systemd_inactive_is_not_running(pb502) -> None:
    engine = Engine(pb502, inventory())
    res = [obs("backend-health", "service_status", "app2", exit_status=3, stdout="Active: inactive (dead)")]
    outcome = engine.evaluate("backend-health", RunState(), res)
    assert outcome.next == "cause-backend-down"


def test_error_log_blames_the_upstream_host(pb502) -> None:
    engine = Engine(pb502, inventory())
    data = {
        "counts": {"connect-refused": 2},
        "latest": {"connect-refused": "connect() failed (111 ..."},
        "entries": [{"kind": "connect-refused", "upstream_host": "198.18.0.4", "upstream_port": 8080}],
    }
    outcome = engine.evaluate(
        "gateway-log", RunState(), [obs("gateway-log", "error_log", "gw1", exit_status=0, data=data)]
    )
    refused = [f for f in outcome.findings if f.id == "log_refused"]
    assert [f.host for f in refused] == ["app2"]
    assert "connect() failed" in refused[0].evidence


def test_unresolved_name_maps_to_host_by_hostname(pb502) -> None:
    engine = Engine(pb502, inventory())
    data = {
        "counts": {"unresolved": 1},
        "latest": {"unresolved": "app1.lab.internal could not be resolved"},
        "entries": [{"kind": "unresolved", "name": "app1.lab.internal"}],
    }
    outcome = engine.evaluate(
        "gateway-log", RunState(), [obs("gateway-log", "error_log", "gw1", exit_status=0, data=data)]
    )
    assert [f.host for f in outcome.findings if f.id == "log_unresolved"] == ["app1"]


def test_diagnose_priority_and_healthy_case(pb502) -> None:
    engine = Engine(pb502, inventory())
    from runbook.engine import Finding

    def state(*ids: str) -> RunState:
        return RunState(findings=[Finding(id=i, node="x", severity="critical", title=i, host="app1") for i in ids])

    assert engine.choose_branch("diagnose", state("gw_ok", "load_clean"))[0] == "cause-no-fault"
    assert engine.choose_branch("diagnose", state("gw_502"))[0] == "unexplained"
    assert engine.choose_branch("diagnose", state("gw_502", "log_unresolved", "log_refused"))[0] == "cause-dns-failure"
    assert (
        engine.choose_branch("diagnose", state("gw_502", "firewall_blocks", "reach_timeout"))[0]
        == "cause-network-blocked"
    )
    assert engine.choose_branch("diagnose", state("gw_504", "log_read_timeout"))[0] == "cause-backend-overloaded"
    assert engine.choose_branch("diagnose", state("gw_502", "log_invalid_header"))[0] == "cause-malformed-response"
    assert (
        engine.choose_branch("diagnose", state("gw_502", "config_target_unknown", "log_refused"))[0]
        == "cause-gateway-misconfigured"
    )
    assert engine.choose_branch("diagnose", state("gw_502", "log_premature"))[0] == "cause-backend-crash"
    # an info-only healthy run must never invent a cause
    nxt, _, _ = engine.choose_branch("diagnose", state("gw_ok", "backend_healthy", "direct_ok"))
    assert nxt == "cause-no-fault"
    assert engine.conclusion(nxt, [])["hosts"] == []


def test_dismissed_finding_changes_the_branch(pb502) -> None:
    engine = Engine(pb502, inventory())
    from runbook.engine import Finding

    st = RunState(
        findings=[
            Finding(id="log_premature", node="gateway-log", severity="critical", title="t"),
            Finding(id="gw_502", node="symptom", severity="critical", title="t"),
        ]
    )
    assert engine.choose_branch("diagnose", st)[0] == "cause-backend-crash"
    st.dismissed.add(("gateway-log", "log_premature"))
    assert engine.choose_branch("diagnose", st)[0] == "unexplained"


def test_foreach_expands_over_earlier_results(pb502) -> None:
    engine = Engine(pb502, inventory())
    targets = [
        {"host": "app1.lab.internal", "port": 8080, "name_based": True},
        {"host": "198.18.0.4", "port": 8081, "name_based": False},
    ]
    st = RunState(observations=[obs("gateway-config", "nginx_config", "gw1", exit_status=0, data={"targets": targets})])
    dns_steps = engine.plan("upstream-dns", st)
    assert [s.command for s in dns_steps] == ["getent ahosts app1.lab.internal"]
    reach = engine.plan("upstream-reach", st)
    assert [s.request["port"] for s in reach] == [8080, 8081]


def _upstream_dns(pb502, inv: Inventory, targets: list[dict], answers: dict[str, list[str]]) -> list:
    engine = Engine(pb502, inv)
    config = obs("gateway-config", "nginx_config", "gw1", exit_status=0, data={"targets": targets})
    resolved = [
        Observation(
            step_id=f"r-{name}", node="upstream-dns", check="resolve_upstream", host="gw1", command="getent",
            kind="dns", item=name, exit_status=0, data={"answers": addrs, "rcode": "NOERROR"},
        )
        for name, addrs in answers.items()
    ]  # fmt: skip
    return engine.evaluate("upstream-dns", RunState(observations=[config]), resolved).findings


def test_target_not_in_inventory_is_a_gateway_finding(pb502) -> None:
    targets = [{"host": "app1.lab.internal", "port": 8081, "name_based": True}]
    found = _upstream_dns(pb502, inventory(), targets, {"app1.lab.internal": ["198.18.0.3"]})
    unknown = [f for f in found if f.id == "config_target_unknown"]
    assert unknown and unknown[0].host == "gw1" and "8081" in unknown[0].evidence
    assert unknown[0].severity == "warning"  # an oddity; only weighing makes it a cause


def test_names_in_the_config_match_addresses_in_the_inventory_by_resolving(pb502) -> None:
    """`app1.internal:8080` and `198.18.0.3:8080` are one backend when the name resolves there
    from the gateway; the inventory lists addresses only (no hostname vars)."""
    bare = inventory()
    for h in bare.hosts.values():
        h.vars.pop("hostname", None)
    targets = [
        {"host": "app1.internal", "port": 8080, "name_based": True},
        {"host": "app2.internal", "port": 8080, "name_based": True},
    ]
    answers = {"app1.internal": ["198.18.0.3"], "app2.internal": ["198.18.0.4"]}
    assert not [f for f in _upstream_dns(pb502, bare, targets, answers) if f.id == "config_target_unknown"]
    # the same name pointing elsewhere is not the inventory's backend
    answers["app2.internal"] = ["198.18.0.99"]
    unknown = [f for f in _upstream_dns(pb502, bare, targets, answers) if f.id == "config_target_unknown"]
    assert unknown and "app2.internal:8080" in unknown[0].evidence and "app1.internal" not in unknown[0].evidence


def test_addresses_in_the_config_match_names_in_the_inventory_by_resolving(pb502) -> None:
    """The reverse: the inventory lists backends by name, nginx proxies to addresses."""
    named = inventory()
    for h in named.hosts.values():
        if "backend" in h.roles:
            h.vars.pop("hostname", None)
    named.hosts["app1"].address, named.hosts["app2"].address = "app1.internal", "app2.internal"
    engine = Engine(pb502, named)
    steps = engine.plan("upstream-dns", RunState())
    assert sorted(s.item for s in steps if s.check.id == "resolve_inventory") == ["app1.internal", "app2.internal"]
    targets = [{"host": "198.18.0.3", "port": 8080, "name_based": False}, {"host": "198.18.0.4", "port": 8080,
               "name_based": False}]  # fmt: skip
    config = obs("gateway-config", "nginx_config", "gw1", exit_status=0, data={"targets": targets})
    resolved = [
        Observation(
            step_id=f"i-{name}", node="upstream-dns", check="resolve_inventory", host="gw1", command="getent",
            kind="dns", item=name, exit_status=0, data={"answers": [addr], "rcode": "NOERROR"},
        )
        for name, addr in (("app1.internal", "198.18.0.3"), ("app2.internal", "198.18.0.4"))
    ]  # fmt: skip
    found = engine.evaluate("upstream-dns", RunState(observations=[config]), resolved).findings
    assert not [f for f in found if f.id == "config_target_unknown"]


def test_unsafe_tcp_target_is_refused(pb502) -> None:
    engine = Engine(pb502, inventory())
    targets = [{"host": "x$(reboot)", "port": 80}]
    st = RunState(observations=[obs("gateway-config", "nginx_config", "gw1", data={"targets": targets})])
    (step,) = engine.plan("upstream-reach", st)
    assert step.error and "unsafe" in step.error


def test_transport_failures_are_gaps_not_findings(pb502) -> None:
    from runbook.gaps import classify

    engine = Engine(pb502, inventory())
    bad = obs("firewall", "fw_backend", "app1", error={"kind": "unreachable", "message": "no route to host"})
    check = pb502.check("fw_backend")[1]
    gap = classify(bad, check, engine.inventory.hosts["app1"])
    assert gap is not None and gap.reason == "unreachable" and gap.host == "app1"
    assert "address:" in gap.fix and "app1" in gap.fix
    outcome = engine.evaluate("firewall", RunState(gaps=[gap]), [bad])
    assert outcome.findings == []


def test_question_choice_goto_and_default_branch() -> None:
    pb = load_playbook(FIXTURES / "mini.yaml")
    engine = Engine(pb, Inventory(hosts={}, vars={}))
    assert engine.next_for_answer("ask", "yes", RunState())[0] == "end-bad"
    assert engine.next_for_answer("ask", "no", RunState())[0] == "end-ok"


def listening(node_obs_host: str, text: str) -> Observation:
    from runbook.parsers import parse

    return obs("backend-health", "listening", node_obs_host, exit_status=0, stdout=text, data=parse("ss_listen", text))


def test_loopback_only_listener_is_out_of_the_gateways_reach(pb502) -> None:
    engine = Engine(pb502, inventory())
    loopback = "LISTEN 0 128 127.0.0.1:8080 0.0.0.0:*\nLISTEN 0 128 [::1]:8080 [::]:*\n"
    public = "LISTEN 0 128 0.0.0.0:8080 0.0.0.0:*\n"
    outcome = engine.evaluate("backend-health", RunState(), [listening("app1", loopback), listening("app2", public)])
    found = {(f.id, f.host) for f in outcome.findings}
    assert ("backend_loopback_only", "app1") in found
    assert ("backend_loopback_only", "app2") not in found
    assert not any(f.id == "backend_not_listening" for f in outcome.findings)


def test_unhealthy_backend_and_gateway_limits_conclude(pb502) -> None:
    from runbook.engine import Finding

    engine = Engine(pb502, inventory())

    def state(*ids: str) -> RunState:
        return RunState(findings=[Finding(id=i, node="x", severity="critical", title=i, host="app1") for i in ids])

    assert engine.choose_branch("diagnose", state("gw_502", "backend_health_failed"))[0] == "cause-backend-unhealthy"
    assert engine.choose_branch("diagnose", state("gw_502", "log_gateway_limits"))[0] == "cause-gateway-misconfigured"
    assert engine.choose_branch("diagnose", state("gw_502", "log_no_live"))[0] == "cause-backend-down"
    assert (
        engine.choose_branch("diagnose", state("gw_502", "backend_loopback_only", "log_refused"))[0]
        == "cause-backend-loopback"
    )


def _active(pb502, ids: list[str]) -> RunState:
    from runbook.engine import Finding

    return RunState(findings=[Finding(id=i, node="diagnose", severity="critical", title=i, host="app1") for i in ids])


def test_every_weighed_cause_names_a_finding_that_rules_it_out(pb502) -> None:
    """Weighing, not first match: each cause is chosen on its support, and a finding that
    rules it out lowers its score (and, when enough, loses it the conclusion)."""
    engine = Engine(pb502, inventory())
    spec = pb502.nodes["diagnose"].weigh
    for cand in spec.candidates:
        assert cand.against, f"{cand.goto} names no finding that rules it out"
        symptom = ["gw_502"] if cand.explains else []
        strongest = max(cand.support, key=lambda k: cand.support[k])
        chosen = engine.weigh("diagnose", _active(pb502, [*symptom, strongest]))
        assert chosen["verdict"] == "chosen" and chosen["chosen"] == cand.goto, chosen["reason"]
        score = next(s for s in chosen["scores"] if s["goto"] == cand.goto)["score"]
        ruled = engine.weigh("diagnose", _active(pb502, [*symptom, strongest, *cand.against]))
        lowered = next(s for s in ruled["scores"] if s["goto"] == cand.goto)
        assert lowered["score"] < score and set(lowered["against"]) == set(cand.against)


def test_a_cause_that_explains_no_symptom_is_not_concluded(pb502) -> None:
    engine = Engine(pb502, inventory())
    # the site answers well; a configuration oddity explains nothing: no fault found
    w = engine.weigh("diagnose", _active(pb502, ["gw_ok", "load_clean", "config_target_unknown"]))
    assert w["chosen"] == "cause-no-fault"
    misconfig = next(s for s in w["scores"] if s["goto"] == "cause-gateway-misconfigured")
    assert misconfig["explains"] is False


def test_a_close_race_is_a_tie_not_a_guess(pb502) -> None:
    engine = Engine(pb502, inventory())
    w = engine.weigh("diagnose", _active(pb502, ["gw_502", "log_invalid_header", "log_unresolved"]))
    assert w["verdict"] == "tie" and w["chosen"] is None and "equally" in w["reason"]
    w = engine.weigh("diagnose", _active(pb502, ["gw_502", "log_connect_timeout"]))
    assert w["verdict"] == "weak" and w["chosen"] == "unexplained"


def test_a_finding_about_one_backend_does_not_rule_out_a_cause_on_another(pb502) -> None:
    from runbook.engine import Finding

    engine = Engine(pb502, inventory())
    found = [
        Finding(id="gw_502", node="symptom", severity="critical", title="502", host="local"),
        Finding(id="dns_mismatch", node="upstream-dns", severity="critical", title="wrong", host="app2"),
        Finding(id="dns_ok", node="upstream-dns", severity="info", title="fine", host="app1"),
    ]
    w = engine.weigh("diagnose", RunState(findings=found))
    dns = next(s for s in w["scores"] if s["goto"] == "cause-dns-failure")
    assert dns["against"] == {} and w["chosen"] == "cause-dns-failure"
    found[2].host = "app2"  # the same name resolving fine would rule it out
    dns = next(
        s for s in engine.weigh("diagnose", RunState(findings=found))["scores"] if s["goto"] == "cause-dns-failure"
    )
    assert dns["against"] == {"dns_ok": 2.0}
