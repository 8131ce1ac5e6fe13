"""Counters are host-wide: a moved DROP that cannot match the probe is other traffic (issue 22)."""

import pytest

from runbook.parsers import parse
from runbook.parsers.fw_match import Flow, may_match

C, S, P = "198.19.255.1", "198.19.255.2", 8080
PROBE = [Flow("tcp", C, S, P)]


def ipt(spec: str) -> dict:
    chain = spec.split()[1]
    return {"source": "iptables", "table": "filter", "chain": chain, "kind": "rule", "spec": spec}


def nft(spec: str, chain: str = "input") -> dict:
    return {"source": "nft", "table": "inet fw", "chain": chain, "kind": "rule", "spec": spec}


HOOKS = {"inet fw/input": "input", "inet fw/output": "output", "inet fw/fwd": "forward"}


@pytest.mark.parametrize(
    ("spec", "role", "expected"),
    [
        # the server's INPUT sees the probe's forward packets: C -> S, destination port 8080
        ("-A INPUT -p tcp -m tcp --dport 9999 -j DROP", "server", False),
        ("-A INPUT -p tcp -m tcp --dport 8080 -j DROP", "server", True),
        ("-A INPUT -p tcp -m multiport --dports 22,9999 -j DROP", "server", False),
        ("-A INPUT -p tcp -m multiport --dports 8000:8090 -j DROP", "server", True),
        ("-A INPUT -s 10.0.0.1/32 -j DROP", "server", False),
        ("-A INPUT ! -s 198.19.255.1/32 -j DROP", "server", False),
        ("-A INPUT ! -s 10.0.0.1/32 -j DROP", "server", True),
        ("-A INPUT -p udp -j DROP", "server", False),
        ("-A INPUT -p 17 -j DROP", "server", False),
        ("-A INPUT ! -p udp -j DROP", "server", True),
        ("-A INPUT -p tcp --sport 9999 -j DROP", "server", True),  # forward sport unknown
        ("-A INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 -j DROP", "server", True),  # not read: may match
        ("-A INPUT -i eth7 -j DROP", "server", True),
        ("-A INPUT -m conntrack --ctstate INVALID -j DROP", "server", True),
        # the client hears replies in INPUT: S -> C, source port 8080, destination port unknown
        ("-A INPUT -p tcp -m tcp --dport 9999 -j DROP", "client", True),
        ("-A INPUT -p tcp -m tcp --sport 9999 -j DROP", "client", False),
        ("-A INPUT -s 198.19.255.2/32 -j DROP", "client", True),
        ("-A OUTPUT -d 10.0.0.0/8 -j REJECT", "client", False),
        ("-A OUTPUT -d 198.19.255.0/24 -j REJECT", "client", True),
        # a host's own traffic never crosses FORWARD; a user chain may see either direction
        ("-A FORWARD -j DROP", "server", False),
        ("-A fw-in -p tcp -m tcp --dport 9999 -j DROP", "server", True),
        ("-A fw-in -p udp -j DROP", "server", False),
        # iptables -L columns are not judged
        ("DROP tcp -- * * 10.0.0.1 0.0.0.0/0 tcp dpt:9999", "server", True),
    ],
)
def test_iptables_rule(spec: str, role: str, expected: bool) -> None:
    entry = ipt(spec) if spec.startswith("-A") else {**ipt("-A INPUT"), "spec": spec}
    assert may_match(entry, PROBE, role, {}) is expected


@pytest.mark.parametrize(
    ("spec", "chain", "expected"),
    [
        ("ip saddr 10.0.0.1 tcp dport 8080 counter drop", "input", False),
        ("ip saddr 198.19.255.1 tcp dport 8080 counter drop", "input", True),
        ("ip saddr != 198.19.255.1 counter drop", "input", False),
        ("ip saddr { 10.0.0.1, 10.0.0.2 } counter drop", "input", False),
        ("ip saddr { 10.0.0.1, 198.19.255.0/24 } counter drop", "input", True),
        ("ip6 saddr ::/0 tcp dport 8080 counter drop", "input", False),
        ("tcp dport { 22, 9999 } counter drop", "input", False),
        ("tcp dport 8000-8090 counter drop", "input", True),
        ("tcp dport != 8080 counter drop", "input", False),
        ("tcp dport @blocked counter drop", "input", True),
        ("udp dport 8080 counter drop", "input", False),
        ("meta l4proto udp counter drop", "input", False),
        ("meta l4proto != udp counter drop", "input", True),
        ("ip protocol != udp counter drop", "input", True),
        ('iifname "eth9" counter drop comment "udp only"', "input", True),
        ('tcp dport 9999 counter drop comment "port 8080 is fine"', "input", False),
        ("tcp dport vmap { 8080 : drop, 22 : accept }", "input", True),
        ("ip saddr . tcp dport { 10.0.0.1 . 8080 } counter drop", "input", True),
        ("tcp dport 9999 counter drop", "output", True),  # the server's replies: destination port unknown
        ("tcp sport 9999 counter drop", "output", False),
        ("counter drop", "fwd", False),
    ],
)
def test_nft_rule(spec: str, chain: str, expected: bool) -> None:
    assert may_match(nft(spec, chain), PROBE, "server", HOOKS) is expected


def test_unknown_ends_and_policies_may_match() -> None:
    rule = ipt("-A INPUT -s 10.0.0.1/32 -j DROP")
    assert may_match(rule, [Flow("tcp", None, S, P)], "server", {}) is True  # source not known
    assert may_match(rule, [Flow("tcp", "app1.lab.internal", S, P)], "server", {}) is True  # a name
    assert may_match(rule, [], "server", {}) is True  # no flows: nothing is set aside
    policy = {**ipt("-A INPUT"), "kind": "policy", "spec": "-P INPUT DROP"}
    assert may_match(policy, PROBE, "server", {}) is True
    # any one of several flows is enough
    assert may_match(rule, [Flow("tcp", C, S, P), Flow("tcp", "10.0.0.1", S, P)], "server", {}) is True


SNAP = """*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
[{noise}:0] -A INPUT -p tcp -m tcp --dport 9999 -j DROP
[{real}:0] -A INPUT -s 198.19.255.1/32 -p tcp -m tcp --dport 8080 -j DROP
COMMIT
"""


def counters(noise: int, real: int, flow: str = "") -> dict:
    before, after = SNAP.format(noise=0, real=0), SNAP.format(noise=noise, real=real)
    return parse("fw_counters", f"== role server\n{flow}== before\n{before}== after\n{after}")


def test_noise_on_another_port_is_not_the_probe() -> None:
    assert counters(4, 0)["verdict"] == "blocked"  # without the flow: a guess on the safe side
    v = counters(4, 0, f"== flow tcp {C} - {P}\n")
    assert v["verdict"] == "passed"
    assert [b["spec"] for b in v["other_traffic"]] == ["-A INPUT -p tcp -m tcp --dport 9999 -j DROP"]
    assert "other traffic" in v["why"]
    both = counters(4, 2, f"== flow tcp {C} - {P}\n")
    assert both["verdict"] == "blocked"
    assert [b["spec"] for b in both["blockers"]] == ["-A INPUT -s 198.19.255.1/32 -p tcp -m tcp --dport 8080 -j DROP"]


def test_curl_ends_replace_a_name_in_the_flow() -> None:
    snap = SNAP.replace("-A INPUT -p tcp -m tcp --dport 9999", "-A OUTPUT -d 10.9.0.0/16")
    text = (
        "== role client\n== flow tcp - app2.lab.internal 8080\n== before\n"
        + snap.format(noise=0, real=0)
        + "== probe\nhttp=200 local=198.19.255.1 remote=198.19.255.2\nexit=0\n== after\n"
        + snap.format(noise=3, real=0)
    )
    v = parse("fw_counters", text)
    assert v["verdict"] == "passed"
    assert len(v["other_traffic"]) == 1
    # the same without the curl line: the name cannot be judged, the moved rule may be the probe's
    assert parse("fw_counters", text.replace("local=198.19.255.1 remote=198.19.255.2", ""))["verdict"] == "blocked"


def test_the_backends_counters_use_the_gateways_probe_flows() -> None:
    """The playbook's `counter_verdict(r, results.fw_probe)`: the backend's own counters, set
    against the addresses and port the gateway's probe really used (curl's local and remote)."""
    from runbook.playbook.expr import evaluate

    before = {"host": "app2", "stdout": "== role server\n== before\n" + SNAP.format(noise=0, real=0)}
    after = {"host": "app2", "stdout": "== after\n" + SNAP.format(noise=4, real=0)}
    probe_out = (
        "== role client\n== flow tcp - app2.lab.internal 8080\n== before\n\n"
        "== probe\nhttp=200 local=198.19.255.1 remote=198.19.255.2\nexit=0\n== after\n\n"
    )
    probe = {"host": "gw1", "data": parse("fw_counters", probe_out)}
    assert probe["data"]["flows"] == [{"protocol": "tcp", "src": C, "dst": S, "port": P}]
    expr = "(results.fw_counts_before | counter_verdict(r, results.fw_probe)).verdict"
    ctx = {"results": {"fw_counts_before": [before], "fw_probe": [probe]}, "r": after}
    assert evaluate(expr, ctx) == "passed"
    ctx["results"]["fw_probe"] = None  # the gateway's probe did not run: nothing is set aside
    assert evaluate(expr, ctx) == "blocked"
    after["stdout"] = "== after\n" + SNAP.format(noise=4, real=3)  # the gateway's own traffic dropped
    ctx["results"]["fw_probe"] = [probe]
    assert evaluate(expr, ctx) == "blocked"


IP6 = """# Generated by ip6tables-save v1.8.9 (nf_tables) on Mon Dec  7 11:00:00 2026
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
[{n}:0] -A INPUT -p tcp -m tcp --dport 8080 -j DROP
COMMIT
"""


def test_the_probes_family_picks_iptables_or_ip6tables() -> None:
    """An IPv6 probe is counted by ip6tables, an IPv4 one by iptables: the other never moves for it."""
    v4 = SNAP.format(noise=0, real=0)
    text = "== role server\n{flow}== before\n" + v4 + IP6.format(n=0) + "== after\n" + v4 + IP6.format(n=3)
    assert parse("fw_counters", text.format(flow="== flow tcp 2001:db8::1 2001:db8::2 8080\n"))["verdict"] == "blocked"
    assert parse("fw_counters", text.format(flow=f"== flow tcp {C} {S} {P}\n"))["verdict"] == "passed"


NEW_ONLY = """table inet fw {{
\tchain c {{
\t\ttype filter hook input priority filter; policy drop;
\t\t{rule} counter packets {n} bytes 60 accept
\t}}
}}
"""


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("ct state new tcp dport 8080", "blocked"),  # the handshake's last packet falls to the policy
        ("ct state { new } tcp dport 8080", "blocked"),
        ("ct state new,established tcp dport 8080", "unknown"),
        ("ct state != established tcp dport 8080", "unknown"),
        ("tcp dport 8080", "unknown"),
    ],
)
def test_a_policy_drop_chain_that_accepts_only_new_packets(rule: str, expected: str) -> None:
    before, after = NEW_ONLY.format(rule=rule, n=0), NEW_ONLY.format(rule=rule, n=1)
    v = parse("fw_counters", f"== role server\n== before\n{before}== after\n{after}")
    assert v["verdict"] == expected, v["why"]
    if expected == "blocked":
        assert v["blockers"][0]["inferred"] and "only new connections" in v["blockers"][0]["spec"]
