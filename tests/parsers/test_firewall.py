"""Firewall parsing on real iptables-save / iptables -S / nft output from a throwaway netns."""

import pytest

from runbook.parsers.firewall import parse_iptables_save, rules_affecting

SOURCES = ["iptables-save.txt", "iptables-S.txt", "nft-ruleset.txt"]


@pytest.fixture(params=SOURCES)
def fw(request, fixture_text):
    return parse_iptables_save(fixture_text(request.param))


def _specs(rules):
    return [(r["chain"], r["target"]) for r in rules]


def test_structure(fw):
    assert fw["errors"] == []
    assert len(fw["rules"]) == 11
    assert len(fw["blocking"]) == 7
    assert all(r["blocking"] == (r["target"] in ("DROP", "REJECT")) for r in fw["rules"])
    policies = {k.rsplit("/", 1)[1].upper(): v for k, v in fw["policies"].items()}
    assert policies == {"INPUT": "ACCEPT", "FORWARD": "DROP", "OUTPUT": "ACCEPT"}


def test_iptables_save_fields(fixture_text):
    fw = parse_iptables_save(fixture_text("iptables-save.txt"))
    assert fw["tables"] == ["filter"]
    fwd = next(r for r in fw["rules"] if r["chain"] == "FORWARD")
    assert fwd["destination"] == "198.18.0.3/32"
    assert fwd["dport"] == "8080"
    assert fwd["protocol"] == "tcp"
    assert fwd["target"] == "DROP"
    neg = next(r for r in fw["rules"] if r["chain"] == "BACKENDS" and r["target"] == "DROP")
    assert neg["source"] == "198.18.0.2/32" and "source" in neg["negated"]
    multi = next(r for r in fw["rules"] if r["target"] == "BACKENDS")
    assert multi["dport"] == "80,8080"
    rej = next(r for r in fw["rules"] if r["dport"] == "18101")
    assert rej["reject_with"] == "icmp-host-unreachable"


def test_port_blocked_in_output(fw):
    assert _specs(rules_affecting(fw, port=18100)) == [("OUTPUT", "DROP")]
    assert _specs(rules_affecting(fw, port=18103)) == [("INPUT", "REJECT")]
    assert rules_affecting(fw, port=22) == []


def test_jump_range_and_first_match(fw):
    # from the gateway: the REJECT for 8000:9000 in BACKENDS hits first, the DROP after it not
    hits = rules_affecting(fw, port=8080, source="198.18.0.2")
    assert _specs(hits) == [("BACKENDS", "REJECT")]
    # from elsewhere nothing jumps to BACKENDS
    assert rules_affecting(fw, port=8080, source="198.18.0.5") == []
    # a port outside the range and the multiport list does not jump either
    assert rules_affecting(fw, port=9999, source="198.18.0.2") == []


def test_forward_only_when_asked(fw):
    hits = rules_affecting(fw, port=8080, destination="198.18.0.3", chains=("FORWARD",))
    assert _specs(hits) == [("FORWARD", "DROP")]
    hits = rules_affecting(fw, port=443, destination="198.18.0.9", chains=("FORWARD",))
    assert len(hits) == 1 and hits[0]["policy"] is True  # the DROP policy


def test_default_drop_policy_unless_accepted_first():
    text = "\n".join(
        [
            "*filter",
            ":INPUT DROP [0:0]",
            ":OUTPUT ACCEPT [0:0]",
            "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT",
            "-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 8080 -j ACCEPT",
            "COMMIT",
        ]
    )
    fw = parse_iptables_save(text)
    assert rules_affecting(fw, port=22) == []
    assert rules_affecting(fw, port=8080, source="10.1.2.3") == []
    (policy,) = rules_affecting(fw, port=8080, source="192.0.2.1")
    assert policy["policy"] is True and policy["chain"] == "INPUT"
    # the established-only ACCEPT does not let a new connection in
    (policy,) = rules_affecting(fw, port=9000)
    assert policy["target"] == "DROP"


def test_address_of_either_end(fw):
    # backend 198.18.0.3 seen from its own INPUT: the BACKENDS rules may apply
    hits = rules_affecting(fw, port=8080, address="198.18.0.3")
    assert ("BACKENDS", "REJECT") in _specs(hits)


def test_odd_input():
    r = parse_iptables_save("*filter\n-A\n-A INPUT -s ! \n:X\nwhat\n-A INPUT -j 'DROP\nCOMMIT\n")
    assert any("unrecognised" in e for e in r["errors"])
    assert isinstance(rules_affecting(r, port=80, address="not-an-ip"), list)
    assert parse_iptables_save("")["rules"] == []
