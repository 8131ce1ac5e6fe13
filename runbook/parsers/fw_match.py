"""Could a moved firewall rule have counted the probe's packets, or only someone else's?

Packet counters are host-wide: a scanner or any other client that hits a DROP rule while the
gateway probes moves its counter as surely as the probe does. `may_match(entry, packets)` says
whether one rule (as `fw_counters` read it) could match any of the probe's packets. It answers
False only when a dimension it understands surely excludes every packet: the protocol, an
address, a port, an IPv6-only match for IPv4 traffic, or a chain the packets never cross.
Everything else it cannot judge (interfaces, marks, sets, ranges it does not read, `iptables -L`
lines) may match: a rule's matches are all required at once, so ignoring one can only make the
answer "may match", never a wrong "cannot".

A probe is a TCP connection from `src` to `dst:port`. Its packets go both ways: the forward
ones (src -> dst, destination port `port`) and the replies (dst -> src, source port `port`).
Which direction a chain sees follows from the host's role (the client sends from OUTPUT and
hears replies in INPUT; the server the other way round); user chains and unknown roles are
checked in both directions.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from runbook.parsers.firewall import _in_ports, _parse_ipt_rule, _split

_PROTO_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "ipv6-icmp", "132": "sctp"}
_L4 = {"tcp", "udp", "sctp", "udplite", "dccp"}
_IN_HOOKS = {"INPUT", "PREROUTING", "input", "prerouting", "ingress"}
_OUT_HOOKS = {"OUTPUT", "POSTROUTING", "output", "postrouting"}


@dataclass(frozen=True)
class Packet:
    """One direction of the probe's traffic; None where it is not known."""

    protocol: str
    src: str | None
    dst: str | None
    sport: int | None
    dport: int | None


@dataclass(frozen=True)
class Flow:
    """The probe: a `protocol` connection from `src` to `dst`:`port` (None: not known)."""

    protocol: str
    src: str | None
    dst: str | None
    port: int | None

    def forward(self) -> Packet:
        return Packet(self.protocol, self.src, self.dst, None, self.port)

    def reply(self) -> Packet:
        return Packet(self.protocol, self.dst, self.src, self.port, None)


def _address(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value) if value else None
    except ValueError:
        return None  # a name: cannot tell


def _in_any_net(spec: str, address: str | None) -> bool | None:
    ip = _address(address)
    if ip is None:
        return None
    for part in spec.split(","):
        part = part.strip()
        if not part or part.startswith(("@", "$")) or "-" in part:
            return None  # a named set, a variable or a range: not read here
        try:
            if ip in ipaddress.ip_network(part, strict=False):
                return True
        except ValueError:
            return None
    return False


def _port_in(spec: str, port: int | None) -> bool | None:
    if port is None:
        return None
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if not parts or any(not p.replace(":", "").isdigit() for p in parts):
        return None  # a service name, a named set: not read here
    return _in_ports(",".join(parts), port)


def _negate(hit: bool | None, negated: bool) -> bool | None:
    return hit if hit is None or not negated else not hit


def _ipt_may_match(spec: str, packet: Packet) -> bool:
    words = _split(spec)
    if not words or words[0] not in ("-A", "-I"):
        return True  # `iptables -L` columns: not judged here
    rule = _parse_ipt_rule("filter", words, spec)
    neg = set(rule["negated"])
    proto = (rule["protocol"] or "all").lower()
    proto = _PROTO_NUMBERS.get(proto, proto)
    if proto not in ("all", "0") and _negate(proto == packet.protocol, "protocol" in neg) is False:
        return False
    checks = [
        _negate(_in_any_net(rule["source"], packet.src), "source" in neg) if rule["source"] else True,
        _negate(_in_any_net(rule["destination"], packet.dst), "destination" in neg) if rule["destination"] else True,
        _negate(_port_in(rule["dport"], packet.dport), "dport" in neg) if rule["dport"] else True,
        _negate(_port_in(rule["sport"], packet.sport), "sport" in neg) if rule["sport"] else True,
    ]
    return all(c is not False for c in checks)


def _nft_words(spec: str) -> list[str]:
    """Words of an nft rule, a `{ … }` set kept as one word and quoted strings dropped."""
    words: list[str] = []
    word: list[str] = []
    depth, quoted = 0, False
    for ch in spec + " ":
        if ch == '"':
            quoted = not quoted
            continue
        if quoted:
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        if ch.isspace() and depth == 0:
            if word:
                words.append("".join(word))
            word = []
        else:
            word.append(ch)
    return words


def _nft_value(words: list[str], i: int) -> tuple[bool, str | None, int]:
    """(negated, value, next index) after a match keyword at i-1; value None when the operator
    is one this does not read (<, >, &, …)."""
    negated = False
    if i < len(words) and words[i] in ("!=", "=="):
        negated = words[i] == "!="
        i += 1
    elif i < len(words) and words[i] in ("<", ">", "<=", ">=", "&", "|", "lt", "gt", "le", "ge", "ne", "eq"):
        return False, None, i + 2
    if i >= len(words):
        return negated, None, i
    value = words[i].strip("{} ").replace(" ", "")
    return negated, value.replace("-", ":") if "." not in value and ":" not in value else value, i + 1


def _nft_may_match(spec: str, packet: Packet) -> bool:
    words = _nft_words(spec)
    family = "ip6" if ":" in (packet.src or packet.dst or "") else "ip"
    known = packet.src is not None or packet.dst is not None
    i = 0
    while i < len(words):
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w in ("ip", "ip6") and nxt in ("saddr", "daddr"):
            negated, value, i = _nft_value(words, i + 2)
            if known and _address(packet.src or packet.dst) is not None and w != family:
                return False  # an IPv6 match never sees IPv4 packets (and the other way round)
            if value is not None:
                hit = _in_any_net(value, packet.src if nxt == "saddr" else packet.dst)
                if _negate(hit, negated) is False:
                    return False
            continue
        if w in _L4 and nxt in ("dport", "sport"):
            if w != packet.protocol:
                return False
            negated, value, i = _nft_value(words, i + 2)
            if value is not None:
                hit = _port_in(value, packet.dport if nxt == "dport" else packet.sport)
                if _negate(hit, negated) is False:
                    return False
            continue
        if (w, nxt) in (("meta", "l4proto"), ("ip", "protocol"), ("ip6", "nexthdr")):
            negated, value, i = _nft_value(words, i + 2)
            if value is not None and "," not in value and not value.startswith("@"):
                value = _PROTO_NUMBERS.get(value, value)
                if _negate(value == packet.protocol, negated) is False:
                    return False
            continue
        i += 1
    return True


def _directions(entry: dict[str, Any], role: str | None, hooks: dict[str, str]) -> tuple[str, ...]:
    """Which of the probe's packets the entry's chain sees: forward, reply, both or none."""
    chain = entry["chain"]
    hook = hooks.get(f"{entry['table']}/{chain}") if entry["source"] == "nft" else chain
    if hook in ("FORWARD", "forward"):
        return ()  # traffic a host sends or receives itself never crosses FORWARD
    if role not in ("client", "server") or hook is None:
        return ("forward", "reply")
    inbound = hook in _IN_HOOKS
    outbound = hook in _OUT_HOOKS
    if not (inbound or outbound):
        return ("forward", "reply")  # a user chain: jumped to from either side
    if role == "client":
        return ("reply",) if inbound else ("forward",)
    return ("forward",) if inbound else ("reply",)


def may_match(entry: dict[str, Any], flows: list[Flow], role: str | None, hooks: dict[str, str]) -> bool:
    """Could this moved rule have counted any packet of any of the probe's flows?"""
    if entry["kind"] != "rule" or not flows:
        return True  # a policy counts whatever falls to it: never excluded
    directions = _directions(entry, role, hooks)
    judge = _nft_may_match if entry["source"] == "nft" else _ipt_may_match
    for flow in flows:
        for direction in directions:
            packet = flow.forward() if direction == "forward" else flow.reply()
            try:
                if judge(entry["spec"], packet):
                    return True
            except Exception:  # a rule this cannot read may match
                return True
    return False
