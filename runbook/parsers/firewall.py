"""Firewall rules from `iptables-save`, `iptables -S` or `nft list ruleset`, and which of them
would stop a TCP connection to a given port/address.

`rules_affecting` walks the built-in chains (INPUT, OUTPUT, FORWARD; nft base chains hooked
there) in order, first match wins, like the kernel: an earlier ACCEPT that surely matches the
traffic hides later DROPs; jumps into user chains are followed (RETURN comes back); reaching the
end of a chain whose policy is DROP counts as blocking. What we cannot know (the other end's
address, interfaces, marks) is treated as "may match" for blocking rules and "does not surely
match" for ACCEPT rules, so the answer errs towards reporting a rule rather than hiding it.
Connection-tracking rules that only match ESTABLISHED/RELATED/INVALID packets never decide the
fate of a new connection.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from typing import Any

BLOCKING = {"DROP", "REJECT"}
BUILTIN = ("INPUT", "OUTPUT", "FORWARD")
_NFT_VERDICTS = {"accept": "ACCEPT", "drop": "DROP", "reject": "REJECT", "return": "RETURN"}


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError:  # unbalanced quote in a comment: fall back to plain words
        return line.split()


def _new_rule(table: str, chain: str, spec: str) -> dict[str, Any]:
    return {
        "table": table,
        "chain": chain,
        "spec": spec,
        "target": None,
        "protocol": None,
        "source": None,
        "destination": None,
        "dport": None,
        "sport": None,
        "in_iface": None,
        "out_iface": None,
        "ctstate": None,
        "reject_with": None,
        "negated": [],
        "blocking": False,
    }


def _parse_ipt_rule(table: str, words: list[str], spec: str) -> dict[str, Any]:
    rule = _new_rule(table, words[1] if len(words) > 1 else "", spec)
    opts = {
        ("-s", "--source", "--src"): "source",
        ("-d", "--destination", "--dst"): "destination",
        ("-p", "--protocol"): "protocol",
        ("-i", "--in-interface"): "in_iface",
        ("-o", "--out-interface"): "out_iface",
        ("--dport", "--destination-port", "--dports", "--destination-ports"): "dport",
        ("--sport", "--source-port", "--sports", "--source-ports"): "sport",
        ("-j", "--jump", "-g", "--goto"): "target",
        ("--ctstate", "--state"): "ctstate",
        ("--reject-with",): "reject_with",
    }
    lookup = {flag: key for flags, key in opts.items() for flag in flags}
    i, negate = 2, False
    while i < len(words):
        w = words[i]
        if w == "!":
            negate = True
            i += 1
            continue
        key = lookup.get(w)
        if key and i + 1 < len(words):
            value = words[i + 1]
            if value == "!":  # old style: -s ! 1.2.3.4
                negate, value = True, words[i + 2] if i + 2 < len(words) else ""
                i += 1
            rule[key] = value
            if negate:
                rule["negated"].append(key)
            i += 2
        else:
            i += 1
        negate = False
    if rule["target"]:
        rule["target"] = rule["target"].upper() if rule["target"].isalpha() else rule["target"]
    rule["blocking"] = rule["target"] in BLOCKING
    return rule


def _parse_iptables(text: str, result: dict[str, Any]) -> None:
    table = "filter"  # `iptables -S` prints no table header
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            table = line[1:].strip()
            if table not in result["tables"]:
                result["tables"].append(table)
        elif line.startswith(":"):
            parts = line[1:].split()
            if len(parts) >= 2:
                result["chains"].append({"table": table, "chain": parts[0]})
                if parts[1] != "-":
                    result["policies"][f"{table}/{parts[0]}"] = parts[1]
        elif line.startswith("-P "):
            parts = line.split()
            if len(parts) >= 3:
                result["policies"][f"{table}/{parts[1]}"] = parts[2]
        elif line.startswith("-N "):
            parts = line.split()
            if len(parts) >= 2:
                result["chains"].append({"table": table, "chain": parts[1]})
        elif line.startswith(("-A ", "-I ")):
            result["rules"].append(_parse_ipt_rule(table, _split(line), line))
        elif line != "COMMIT":
            result["errors"].append(f"unrecognised line: {line[:200]}")
    if result["rules"] and not result["tables"]:
        result["tables"].append("filter")


_NFT_ADDR = re.compile(r"\b(?:ip6?) (saddr|daddr) (!= )?(\{[^}]*\}|\S+)")
_NFT_PORT = re.compile(r"\b(?:tcp|udp|th|sctp) (dport|sport) (!= )?(\{[^}]*\}|\S+)")
_NFT_IFACE = re.compile(r"\b(iifname|oifname|iif|oif) (!= )?(\"[^\"]*\"|\S+)")


def _nft_set(value: str) -> str:
    """`{ 80, 8080 }` -> "80,8080"; `8000-9000` -> "8000:9000" (iptables' spelling)."""
    value = value.strip("{} ").replace(" ", "")
    return ",".join(p.replace("-", ":") if "." not in p else p for p in value.split(","))


def _parse_nft(text: str, result: dict[str, Any]) -> None:
    table = chain = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if m := re.match(r"table (\S+) (\S+) \{", line):
            table = f"{m.group(1)} {m.group(2)}"
            result["tables"].append(table)
        elif m := re.match(r"chain (\S+) \{", line):
            chain = m.group(1)
            result["chains"].append({"table": table, "chain": chain})
        elif line.startswith("type ") and "hook" in line:
            hm = re.search(r"hook (\w+)", line)
            pm = re.search(r"policy (\w+)", line)
            if hm:
                result["hooks"][f"{table}/{chain}"] = hm.group(1).upper()
            if pm:
                result["policies"][f"{table}/{chain}"] = pm.group(1).upper()
        elif line == "}" or line.startswith(("set ", "map ", "elements", "flags", "type ")):
            continue
        elif chain:
            rule = _new_rule(table, chain, line)
            words = line.split()
            for w, verdict in _NFT_VERDICTS.items():
                if w in words:
                    rule["target"] = verdict
            for j, w in enumerate(words[:-1]):
                if w in ("jump", "goto"):
                    rule["target"] = words[j + 1]
            if "reject" in words:
                rm = re.search(r"reject with (.*)$", line)
                rule["reject_with"] = rm.group(1) if rm else None
            for m in _NFT_ADDR.finditer(line):
                key = "source" if m.group(1) == "saddr" else "destination"
                rule[key] = _nft_set(m.group(3))
                if m.group(2):
                    rule["negated"].append(key)
            for m in _NFT_PORT.finditer(line):
                rule[m.group(1)] = _nft_set(m.group(3))
                if m.group(2):
                    rule["negated"].append(m.group(1))
            for m in _NFT_IFACE.finditer(line):
                key = "in_iface" if m.group(1).startswith("i") else "out_iface"
                rule[key] = m.group(3).strip('"')
            if pm := re.search(r"\b(tcp|udp|icmp|sctp)\b", line):
                rule["protocol"] = pm.group(1)
            if cm := re.search(r"ct state (\S+)", line):
                rule["ctstate"] = cm.group(1).upper()
            rule["blocking"] = rule["target"] in BLOCKING
            result["rules"].append(rule)


def parse_iptables_save(text: str) -> dict[str, Any]:
    """Rules and policies from iptables-save / iptables -S / nft list ruleset output."""
    result: dict[str, Any] = {
        "format": "iptables",
        "tables": [],
        "chains": [],
        "policies": {},
        "hooks": {},
        "rules": [],
        "blocking": [],
        "errors": [],
    }
    text = text or ""
    try:
        if re.search(r"^\s*table \S+ \S+ \{", text, re.M):
            result["format"] = "nft"
            _parse_nft(text, result)
        else:
            _parse_iptables(text, result)
            for t in result["tables"] or ["filter"]:
                for c in BUILTIN:
                    if f"{t}/{c}" in result["policies"]:
                        result["hooks"][f"{t}/{c}"] = c
    except Exception as exc:  # keep what was parsed so far
        result["errors"].append(f"internal error: {exc!r}")
    result["blocking"] = [r for r in result["rules"] if r["blocking"]]
    return result


# ---- matching -----------------------------------------------------------------------------


def _in_ports(spec: str, port: int) -> bool:
    for part in spec.split(","):
        lo, sep, hi = part.partition(":")
        try:
            if sep and int(lo or 0) <= port <= int(hi or 65535):
                return True
            if not sep and int(lo) == port:
                return True
        except ValueError:
            continue
    return False


def _in_net(spec: str, address: str) -> bool | None:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None  # a name, not an address: cannot tell
    for part in spec.split(","):
        try:
            if ip in ipaddress.ip_network(part.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def _port_match(rule: dict[str, Any], port: int | None) -> bool | None:
    """True: surely matches; False: surely not; None: may match (unknown)."""
    spec = rule["dport"]
    if spec is None:
        return True
    if port is None:
        return None
    hit = _in_ports(spec, port)
    return (not hit) if "dport" in rule["negated"] else hit


def _addr_dim(rule: dict[str, Any], key: str, address: str | None) -> bool | None:
    spec = rule[key]
    if spec is None:
        return True
    if address is None:
        return None
    hit = _in_net(spec, address)
    if hit is None:
        return None
    return (not hit) if key in rule["negated"] else hit


def _match(
    rule: dict[str, Any],
    port: int | None,
    address: str | None,
    source: str | None,
    destination: str | None,
    protocol: str,
) -> bool | None:
    proto = (rule["protocol"] or "all").lower()
    proto_hit = proto in ("all", "0", protocol)
    if "protocol" in rule["negated"]:
        proto_hit = not proto_hit
    if not proto_hit:
        return False
    state = (rule["ctstate"] or "").upper()
    if state and "NEW" not in state and "UNTRACKED" not in state:
        return False  # ESTABLISHED/RELATED/INVALID only: not a new connection
    results = [_port_match(rule, port)]
    if address is not None and source is None and destination is None:
        # One address, direction unknown: it may be either end, and whichever end it is not is
        # unknown. Only a rule with no address match surely matches; it surely misses only if
        # the address fits neither side.
        if rule["source"] is None and rule["destination"] is None:
            results.append(True)
        elif _addr_dim(rule, "source", address) is False and _addr_dim(rule, "destination", address) is False:
            results.append(False)
        else:
            results.append(None)
    else:
        results.append(_addr_dim(rule, "source", source))
        results.append(_addr_dim(rule, "destination", destination))
    if rule["in_iface"] or rule["out_iface"]:
        results.append(None)  # which interface the traffic uses is not known here
    if any(r is False for r in results):
        return False
    return True if all(r is True for r in results) else None


def rules_affecting(
    parsed: dict[str, Any],
    *,
    port: int | None = None,
    address: str | None = None,
    source: str | None = None,
    destination: str | None = None,
    protocol: str = "tcp",
    chains: tuple[str, ...] = ("INPUT", "OUTPUT"),
) -> list[dict[str, Any]]:
    """Blocking rules (and DROP policies, as rules with "policy": True) that would stop a new
    `protocol` connection to `port` involving `address` (either end), or from `source` to
    `destination`. Unknown dimensions may match, so prefer source/destination when the
    direction is known (a backend's INPUT: source=gateway; a gateway's OUTPUT:
    destination=backend). Only the hooks in `chains` are walked: traffic a host sends or
    receives itself never crosses FORWARD; pass chains=("FORWARD",) for a router.
    """
    try:
        return _affecting(parsed, port, address, source, destination, protocol, chains)
    except Exception:
        return [r for r in parsed.get("blocking", []) if isinstance(r, dict)]


def _affecting(
    parsed: dict[str, Any],
    port: int | None,
    address: str | None,
    source: str | None,
    destination: str | None,
    protocol: str,
    chains: tuple[str, ...],
) -> list[dict[str, Any]]:
    by_chain: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in parsed.get("rules", []):
        by_chain.setdefault((r["table"], r["chain"]), []).append(r)
    found: list[dict[str, Any]] = []
    seen: set[int] = set()

    def walk(table: str, chain: str, depth: int) -> str | None:
        """'accept' | 'block' | None (fell off the end / RETURN)."""
        if depth > 16:
            return None
        for r in by_chain.get((table, chain), []):
            m = _match(r, port, address, source, destination, protocol)
            if m is False:
                continue
            target = r["target"] or ""
            if target in BLOCKING:
                if id(r) not in seen:
                    seen.add(id(r))
                    found.append(r)
                if m is True:
                    return "block"
            elif target == "ACCEPT" and m is True:
                return "accept"
            elif target == "RETURN" and m is True:
                return None
            elif (table, target) in by_chain:
                verdict = walk(table, target, depth + 1)
                if verdict and m is True:
                    return verdict
        return None

    for key, hook in parsed.get("hooks", {}).items():
        if hook not in chains:
            continue
        table, _, chain = key.rpartition("/")
        if walk(table, chain, 0) is None and parsed["policies"].get(key, "ACCEPT") in BLOCKING:
            found.append(
                {
                    **_new_rule(table, chain, f"-P {chain} {parsed['policies'][key]}"),
                    "target": parsed["policies"][key],
                    "blocking": True,
                    "policy": True,
                }
            )
    # Blocking rules in chains no walk reached (e.g. nothing jumps there yet) still matter
    # to whoever reads the evidence, but they do not affect traffic: leave them out.
    return found
