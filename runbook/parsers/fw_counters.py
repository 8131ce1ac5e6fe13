"""Firewalls by measurement: packet counters read before and after a probe connection.

A listed rule is not proof; a DROP/REJECT rule whose counter moved while the probe ran is.
`parse_snapshot` reads counters from `iptables-save -c` (`[12:720] -A INPUT ... -j DROP`,
policies `:INPUT DROP [5:300]`, per `*table`), `iptables -L -v -n -x` (a `*table` line before
it names the table; `filter` otherwise) and `nft list ruleset` (rules carrying
`counter packets N bytes M`). `diff_counters(before, after)` gives what moved; `verdict(diff)`
turns that into "blocked" | "passed" | "unknown".

The playbook's parser `fw_counters` reads ONE command output holding both snapshots:

    == role client            optional: client (the host that runs the probe) | server
    == flow tcp SRC DST PORT  optional, repeatable: the probe's connection (`-` where not known)
    == before
    <iptables-save -c and/or nft list ruleset>
    == probe                  optional: the probe's own output, kept as text, never judged
    <...>
    == after
    <iptables-save -c and/or nft list ruleset>

and returns

    {"verdict": "blocked" | "passed" | "unknown",
     "why": "one sentence",
     "blockers": [{"source": "iptables" | "nft", "table": "filter" | "inet fw", "chain": "INPUT",
                   "kind": "rule" | "policy", "spec": "-A INPUT ... -j DROP", "target": "DROP",
                   "delta_packets": 3, "inferred": false}],
     "moved": [same shape, every rule or policy whose packet counter moved (at most 200)],
     "needs_root": bool,      # the counters could not be read for lack of privilege: a gap
     "role": "client" | "server" | None,
     "probe": "<the probe section, at most 2000 characters>",
     "entries": N,            # rules and policies compared
     "other_traffic": [same shape as blockers: moved, but they cannot match the probe's flows],
     "flows": [{"protocol": "tcp", "src": "10.0.0.2" | None, "dst": ..., "port": 8080 | None}],
     "errors": [...]}

One check on the gateway (run as root; without it the counters are a gap, `needs_root`) is
`fw_counters_command(probe)`, e.g. with probe
`curl -sS -o /dev/null -m 3 -w 'http=%{http_code}\\n' http://10.0.0.3:8080/`:

    echo '== role client'; echo '== before'; <SNAPSHOT>
    echo '== probe'; <probe> 2>&1; echo "exit=$?"
    echo '== after'; <SNAPSHOT>

where SNAPSHOT reads `iptables-save -c`, `ip6tables-save -c` and `nft list ruleset` when they
exist. Which of iptables and ip6tables counts is the probe's address family, from its flow (an
IPv6 end: ip6tables and nft's ip6/inet tables; otherwise iptables and ip/inet).

Soundness (what each verdict rests on):
- iptables (legacy or nf_tables backend) counts every rule and every built-in chain's policy,
  so a packet's fate in a built-in chain is always counted: by a terminal rule or by the policy.
  "blocked" iff a DROP/REJECT rule or a DROP policy moved.
- nft counts only rules that carry a `counter` statement and never counts a base chain's
  policy. So: a moved drop/reject rule with a counter -> "blocked". A drop/reject rule (or a
  verdict map with a drop/reject branch) that could have been hit without being counted makes
  the answer "unknown", unless a counted blocker moved anyway. A base chain with `policy drop`
  (families ip/inet for IPv4, hooks prerouting/input/output/postrouting; forward is never crossed
  by traffic a host sends or receives itself) is judged when its policy is reachable (it does
  not end in an unconditional accept/drop/reject):
    * no rule in it moved at all, and every rule in it has a counter (an uncounted rule may
      have accepted the packet unseen: "unknown" otherwise) -> "blocked" by the policy, marked
      "inferred": the probe's
      packets crossed this hook and nothing in the chain counted them, so they fell to the policy
      (only used when no counted blocker moved anywhere);
    * something moved, and every rule in it drops, rejects or accepts only `ct state new` (no
      jump, no other verdict) -> "blocked" by the policy, "inferred": a connection's first
      packet may pass, every later one (ESTABLISHED, both directions) falls to the policy;
    * something moved otherwise -> "passed" only if the chain accepts every ESTABLISHED packet (an
      `ct state established[,related] accept` rule with no other condition) and either a
      non-established accept (in the chain, or in a regular chain of its table) moved -- the
      connection's first packet was accepted -- or this host's role makes the hook reply-only
      (client: input/prerouting; server: output/postrouting). Otherwise "unknown".
- Counters are host-wide: other traffic during the window moves them too (the probe runs
  between two snapshots of one command to keep the window short). With the probe's flows
  given (`== flow`, or curl's `local=%{local_ip} remote=%{remote_ip}` in the probe section),
  a moved DROP/REJECT rule that surely cannot match any of the probe's packets (its protocol,
  addresses or ports exclude them, or its chain is FORWARD) is set aside as other traffic
  (runbook/parsers/fw_match.py). Without flows, or for a rule that may match, a scanner hitting
  a DROP rule still makes a false "blocked"; a moved DROP policy is never set aside. A new
  connection accepted concurrently by a `policy drop` nft
  chain could pass for the probe's first packet. The check's own SSH session is ESTABLISHED
  traffic: it never moves a DROP that would not also break the session, and it keeps the nft
  "nothing moved" inference from firing (the answer is then "unknown", not a guess).
- Snapshots that cannot be compared (missing, no counters, rules changed between them,
  counters went down) -> "unknown".

Linear in the input; the text, each line and the number of entries are capped.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from runbook.parsers.fw_match import Flow, may_match

MAX_TEXT = 4_000_000
MAX_LINE = 8192
MAX_ENTRIES = 50_000
MAX_LISTED = 200
MAX_RULE = 65_536

_IPT_COUNTED = re.compile(r"\[(\d{1,20}):(\d{1,20})\]\s*")
_IPT_POLICY = re.compile(r":(\S+)\s+(\S+)(?:\s+\[(\d{1,20}):(\d{1,20})\])?")
_LIST_CHAIN = re.compile(r"Chain (\S+) \((?:policy (\w+) (\d{1,20}) packets, (\d{1,20}) bytes|.*)\)")
_NFT_COUNTER = re.compile(r"\bcounter packets (\d{1,20}) bytes (\d{1,20})")
_NFT_QUOTED = re.compile(r'"[^"]*"')
_NFT_EST = re.compile(r"ct state (\{[^}]*\}|\S+) accept")
_NFT_VMAP_VERDICT = re.compile(r":\s*(accept|drop|reject|return|continue|jump|goto)\b")
_ROOT_HINTS = ("permission denied", "you must be root", "operation not permitted", "are you root")
BLOCKING = {"DROP", "REJECT"}
_NFT_TERMINAL = {"accept": "ACCEPT", "drop": "DROP", "reject": "REJECT", "return": "RETURN", "queue": "QUEUE"}
_HOOKS = {"prerouting", "input", "output", "postrouting"}
_REPLY_HOOKS = {"client": {"input", "prerouting"}, "server": {"output", "postrouting"}}
_OPT_COL = {"--", "-f", "!f"}


SNAPSHOT = (
    '{ PATH="$PATH:/usr/sbin:/sbin"; command -v iptables-save >/dev/null && iptables-save -c;'
    " command -v ip6tables-save >/dev/null && ip6tables-save -c;"
    " command -v nft >/dev/null && nft list ruleset; } 2>&1"
)


def fw_counters_command(probe: str, role: str = "client") -> str:
    """The shell of one check: counters, the probe (a trusted shell string), counters again."""
    return (
        f"echo '== role {role}'; echo '== before'; {SNAPSHOT}\n"
        f"echo '== probe'; {probe} 2>&1; echo \"exit=$?\"\n"
        f"echo '== after'; {SNAPSHOT}\n"
    )


def _lines(text: str, errors: list[str]) -> list[str]:
    if len(text) > MAX_TEXT:
        errors.append(f"input cut at {MAX_TEXT} characters")
        text = text[:MAX_TEXT]
    out = []
    for raw in text.splitlines():
        if len(raw) > MAX_LINE:
            errors.append(f"a line longer than {MAX_LINE} characters was cut")
            raw = raw[:MAX_LINE]
        out.append(raw.strip())
    return out


def _brace_delta(line: str) -> int:
    """Opening minus closing braces outside double quotes (nft comments may hold braces)."""
    depth, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "{":
            depth += 1
        elif not quoted and ch == "}":
            depth -= 1
    return depth


def _entry(source: str, table: str, chain: str, kind: str, index: int, spec: str) -> dict[str, Any]:
    return {
        "source": source,
        "table": table,
        "chain": chain,
        "kind": kind,
        "index": index,
        "spec": spec,
        "target": None,
        "packets": None,
        "bytes": None,
    }


def _ipt_target(words: list[str]) -> str | None:
    target = None
    for i, w in enumerate(words[:-1]):
        if w in ("-j", "--jump", "-g", "--goto"):
            target = words[i + 1]
    if target and target.isalpha() and target.upper() in BLOCKING | {"ACCEPT", "RETURN"}:
        target = target.upper()
    return target


class _Snapshot:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.formats: list[str] = []
        self.nft_chains: dict[str, dict[str, Any]] = {}
        self.ipt_tables: set[tuple[str, str]] = set()  # (family, table) from an nf_tables iptables
        self.needs_root = False
        self._index: dict[tuple[str, str, str], int] = {}

    def add(self, source: str, table: str, chain: str, kind: str, spec: str) -> dict[str, Any] | None:
        if len(self.entries) >= MAX_ENTRIES:
            if len(self.errors) < 50 and not any(e.startswith("more than") for e in self.errors):
                self.errors.append(f"more than {MAX_ENTRIES} rules: the rest are ignored")
            return None
        key = (source, table, chain)
        idx = self._index.get(key, 0)
        self._index[key] = idx + 1
        e = _entry(source, table, chain, kind, idx if kind == "rule" else -1, spec)
        self.entries.append(e)
        return e

    def fmt(self, name: str) -> None:
        if name not in self.formats:
            self.formats.append(name)


def _parse_iptables_line(snap: _Snapshot, line: str, state: dict[str, Any]) -> None:
    if line.startswith("#"):
        if line.startswith("# Generated by"):
            state["family"] = "ip6" if "ip6tables" in line else "ip"
            state["nf_tables"] = "(nf_tables)" in line
        return
    if line.startswith("*"):
        state["table"] = line[1:].strip() or "filter"
        if state.get("nf_tables"):
            snap.ipt_tables.add((state.get("family", "ip"), state["table"]))
        return
    if line == "COMMIT":
        return
    table, source = state.get("table", "filter"), "iptables" if state.get("family", "ip") == "ip" else "ip6tables"
    if line.startswith(":"):
        m = _IPT_POLICY.match(line)
        snap.fmt("iptables-save")
        if m and m.group(2) != "-":
            e = snap.add(source, table, m.group(1), "policy", f"-P {m.group(1)} {m.group(2)}")
            if e is not None:
                e["target"] = m.group(2).upper()
                if m.group(3) is not None:
                    e["packets"], e["bytes"] = int(m.group(3)), int(m.group(4))
        return
    packets = nbytes = None
    m = _IPT_COUNTED.match(line)
    if m:
        packets, nbytes = int(m.group(1)), int(m.group(2))
        line = line[m.end() :]
    if line.startswith(("-A ", "-I ")):
        snap.fmt("iptables-save")
        words = line.split()
        e = snap.add(source, table, words[1] if len(words) > 1 else "", "rule", " ".join(words))
        if e is not None:
            e["target"] = _ipt_target(words)
            e["packets"], e["bytes"] = packets, nbytes
        return
    if line.startswith(("-P ", "-N ")):
        snap.errors.append(f"no counters in `{line[:80]}` (read with iptables-save -c)")
        return
    _other_line(snap, line)


def _other_line(snap: _Snapshot, line: str) -> None:
    low = line.lower()
    if any(h in low for h in _ROOT_HINTS):
        snap.needs_root = True
    if len(snap.errors) < 50:
        snap.errors.append(f"unrecognised line: {line[:200]}")


def _parse_list_line(snap: _Snapshot, line: str, state: dict[str, Any]) -> bool:
    """`iptables -L -v -n -x`; True when the line was one of its lines."""
    if line.startswith("Chain "):
        m = _LIST_CHAIN.match(line)
        if not m:
            return False
        snap.fmt("iptables -L")
        state["list_chain"] = m.group(1)
        if m.group(2):
            e = snap.add(
                "iptables", state.get("table", "filter"), m.group(1), "policy", f"-P {m.group(1)} {m.group(2)}"
            )
            if e is not None:
                e["target"] = m.group(2).upper()
                e["packets"], e["bytes"] = int(m.group(3)), int(m.group(4))
        return True
    chain = state.get("list_chain")
    if not chain:
        return False
    words = line.split()
    if words[:2] == ["pkts", "bytes"]:
        return True
    if len(words) >= 8 and words[0].isdigit() and words[1].isdigit():
        target = None  # pkts bytes [target] prot opt in out source destination [match...]
        if words[4] in _OPT_COL:
            target = words[2]
        elif words[3] not in _OPT_COL:
            return False
        e = snap.add("iptables", state.get("table", "filter"), chain, "rule", " ".join(words[2:]))
        if e is not None:
            e["target"] = target.upper() if target and target.upper() in BLOCKING | {"ACCEPT", "RETURN"} else target
            e["packets"], e["bytes"] = int(words[0]), int(words[1])
        return True
    return False


def _nft_rule(snap: _Snapshot, table: str, chain: str, line: str) -> None:
    e = snap.add("nft", table, chain, "rule", _NFT_COUNTER.sub("counter", line))
    if e is None:
        return
    m = _NFT_COUNTER.search(line)
    if m:
        e["packets"], e["bytes"] = int(m.group(1)), int(m.group(2))
    bare = _NFT_QUOTED.sub('""', line)
    bare = _NFT_COUNTER.sub("", bare)
    # what the rule decides: its last verdict outside braces, or the branches of a verdict map
    top: list[str] = []
    word: list[str] = []
    depth = 0
    for ch in bare + " ":
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        elif ch.isspace():
            if word and depth == 0:
                top.append("".join(word))
            word = []
        elif depth == 0:
            word.append(ch)
    target = None
    for i, w in enumerate(top):
        if w in _NFT_TERMINAL:
            target = _NFT_TERMINAL[w]
        elif w in ("jump", "goto") and i + 1 < len(top):
            target = top[i + 1]
    if "vmap" in top:
        branches = {v.group(1) for v in _NFT_VMAP_VERDICT.finditer(bare)}
        e["vmap"] = sorted(branches)
        target = target or "vmap"
    e["target"] = target
    core = re.sub(r"\bcomment \"\"", "", bare).split()
    e["est_accept"] = bool(_NFT_EST.fullmatch(" ".join(core))) and "established" in " ".join(core)
    e["unconditional"] = len(core) >= 1 and core[0] in ("accept", "drop", "reject")


def _parse_nft_block(snap: _Snapshot, lines: list[str], start: int) -> int:
    """Parse from a `table <family> <name> {` line; returns the index after its closing brace."""
    head = lines[start].split()
    family, name = (head[1], head[2]) if len(head) >= 4 else ("?", "?")
    table = f"{family} {name}"
    snap.fmt("nft")
    depth = _brace_delta(lines[start])
    i = start + 1
    chain: str | None = None
    chain_depth = 0
    pending: list[str] = []  # a rule whose braces span lines
    pending_len = 0
    skipping = False  # that rule grew too long: drop it up to its closing brace
    while i < len(lines) and depth > 0:
        line = lines[i]
        i += 1
        if not line or line.startswith("#"):
            continue
        delta = _brace_delta(line)
        if pending or skipping:
            depth += delta
            if not skipping:
                pending.append(line)
                pending_len += len(line) + 1
                if pending_len > MAX_RULE:
                    snap.errors.append(f"an nft rule longer than {MAX_RULE} characters was skipped")
                    pending, skipping = [], True
            if depth <= chain_depth:
                if pending and chain and depth == chain_depth:
                    _nft_rule(snap, table, chain, " ".join(pending))
                pending, pending_len, skipping = [], 0, False
                if depth < chain_depth:
                    chain = None
            continue
        if chain is None:
            if depth == 1 and line.startswith("chain ") and line.endswith("{"):
                chain = line.split()[1]
                chain_depth = depth + delta
                snap.nft_chains[f"{table}/{chain}"] = {"family": family, "table": table, "chain": chain}
            depth += delta
            continue
        if depth == chain_depth and line == "}":
            chain = None
            depth += delta
            continue
        if line.startswith("type ") and " hook " in line:
            info = snap.nft_chains[f"{table}/{chain}"]
            words = line.replace(";", " ; ").split()
            for j, w in enumerate(words[:-1]):
                if w in ("type", "hook", "policy"):
                    info[w] = words[j + 1].lower()
            depth += delta
            continue
        if line.startswith(("policy ", "comment ", "devices ", "device ")) and delta == 0:
            if line.startswith("policy "):
                snap.nft_chains[f"{table}/{chain}"]["policy"] = line.split()[1].strip(";").lower()
            continue
        if delta > 0:
            pending, pending_len = [line], len(line)
            depth += delta
            continue
        depth += delta
        if depth < chain_depth:  # `... }` closing the chain on a rule line: malformed, stop the chain
            chain = None
            continue
        _nft_rule(snap, table, chain, line)
    if depth > 0:
        snap.errors.append(f"nft table {table} is not closed")
    return i


def parse_snapshot(text: str) -> dict[str, Any]:
    """Counters of every rule and policy in one snapshot (any mix of the three formats)."""
    snap = _Snapshot()
    lines = _lines(text or "", snap.errors)
    state: dict[str, Any] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line:
            i += 1
            continue
        if line.startswith("table ") and line.endswith("{"):
            state.pop("list_chain", None)
            i = _parse_nft_block(snap, lines, i)
            continue
        i += 1
        if _parse_list_line(snap, line, state):
            continue
        _parse_iptables_line(snap, line, state)
    # iptables on the nf_tables backend shows its tables to nft too: count them once, from
    # iptables-save (which has the policy counters nft does not print).
    if snap.ipt_tables:
        shadow = {f"{fam} {tab}" for fam, tab in snap.ipt_tables}
        snap.entries = [e for e in snap.entries if not (e["source"] == "nft" and e["table"] in shadow)]
        snap.nft_chains = {k: v for k, v in snap.nft_chains.items() if v["table"] not in shadow}
    return {
        "entries": snap.entries,
        "nft_chains": snap.nft_chains,
        "formats": snap.formats,
        "needs_root": snap.needs_root,
        "errors": snap.errors,
    }


def _key(e: dict[str, Any]) -> tuple[str, str, str, str, int, str]:
    return (e["source"], e["table"], e["chain"], e["kind"], e["index"], e["spec"] if e["kind"] == "rule" else "")


def _public(e: dict[str, Any], delta: int | None) -> dict[str, Any]:
    return {
        "source": e["source"],
        "table": e["table"],
        "chain": e["chain"],
        "kind": e["kind"],
        "spec": e["spec"],
        "target": e["target"],
        "delta_packets": delta,
        "inferred": False,
    }


def _unknown_diff(why: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    errors = [*(before or {}).get("errors", [])[:20], *(after or {}).get("errors", [])[:20]]
    return {
        "comparable": False,
        "why": why,
        "moved": [],
        "blocking_moved": [],
        "uncounted_blocking": [],
        "nft_policy_chains": [],
        "entries": 0,
        "needs_root": bool((before or {}).get("needs_root") or (after or {}).get("needs_root")),
        "errors": errors,
    }


def diff_counters(before_text: str, after_text: str, family: str = "ip") -> dict[str, Any]:
    """What moved between two snapshots. `family`: the probe's address family (ip | ip6)."""
    try:
        before, after = parse_snapshot(before_text), parse_snapshot(after_text)
    except Exception as exc:  # a parser bug must not become a verdict
        return _unknown_diff(f"internal error: {exc!r}", None, None)
    return _diff(before, after, family)


def _relevant_chain(info: dict[str, Any] | None, family: str) -> bool:
    """nft: could this probe's packets cross the chain? Regular chains: maybe (jumped to)."""
    if info is None or "hook" not in info:
        return True
    fams = {"ip": {"ip", "inet"}, "ip6": {"ip6", "inet"}}.get(family, {"ip", "ip6", "inet"})
    return info["family"] in fams and info["hook"] in _HOOKS


_NFT_CT_STATE = re.compile(r"\bct state (\{[^}]*\}|\S+)")


def _new_only_accept(e: dict[str, Any]) -> bool:
    """An nft accept rule that matches only `ct state new` packets."""
    states = [m.group(1).strip("{} ") for m in _NFT_CT_STATE.finditer(_NFT_QUOTED.sub('""', e["spec"]))]
    return (
        e["target"] == "ACCEPT"
        and any({w.strip() for w in st.split(",") if w.strip()} == {"new"} for st in states)
        and " != " not in e["spec"]
    )


def _diff(before: dict[str, Any], after: dict[str, Any], family: str) -> dict[str, Any]:
    if not before["entries"] and not after["entries"]:
        if before["needs_root"] or after["needs_root"]:
            return _unknown_diff("the firewall counters could not be read: needs root", before, after)
        if before["errors"] or after["errors"]:
            return _unknown_diff("no firewall snapshot could be read", before, after)
        return {**_unknown_diff("", before, after), "comparable": True, "empty": True}
    if [_key(e) for e in before["entries"]] != [_key(e) for e in after["entries"]]:
        return _unknown_diff("the rules changed between the two snapshots", before, after)
    if before["nft_chains"] != after["nft_chains"]:
        return _unknown_diff("the nft chains changed between the two snapshots", before, after)
    chains = after["nft_chains"]
    moved: list[dict[str, Any]] = []
    blocking: list[dict[str, Any]] = []
    uncounted: list[dict[str, Any]] = []
    counted_any = False
    per_chain: dict[str, list[tuple[dict[str, Any], int | None]]] = {}
    for b, a in zip(before["entries"], after["entries"], strict=True):
        delta: int | None = None
        if b["packets"] is not None and a["packets"] is not None:
            counted_any = True
            delta = a["packets"] - b["packets"]
            if delta < 0:
                return _unknown_diff(f"counters went down (reset?) in {a['table']}/{a['chain']}", before, after)
        if (a["source"], family) in (("ip6tables", "ip"), ("iptables", "ip6")):
            continue
        info = chains.get(f"{a['table']}/{a['chain']}") if a["source"] == "nft" else None
        if a["source"] == "nft":
            if not _relevant_chain(info, family):
                continue
            per_chain.setdefault(f"{a['table']}/{a['chain']}", []).append((a, delta))
        may_block = a["target"] in BLOCKING or bool(set(a.get("vmap", [])) & {"drop", "reject"})
        if delta:
            moved.append(_public(a, delta))
            if a["target"] in BLOCKING:
                blocking.append(_public(a, delta))
            elif may_block:
                uncounted.append({**_public(a, delta), "why": "a verdict map with a drop branch moved"})
        elif delta is None and may_block:
            uncounted.append({**_public(a, None), "why": "keeps no counter"})
    if not counted_any and (before["entries"] or after["entries"]):
        return _unknown_diff("no counters in the snapshots (iptables-save -c, nft rules with `counter`)", before, after)
    policy_chains = []
    for key, info in chains.items():
        if info.get("policy") != "drop" or "hook" not in info or not _relevant_chain(info, family):
            continue
        rules = per_chain.get(key, [])
        regular_accepts = any(
            d and e["target"] == "ACCEPT" and not e.get("est_accept")
            for k, rs in per_chain.items()
            if k.startswith(info["table"] + "/") and "hook" not in chains.get(k, {})
            for e, d in rs
        )
        policy_chains.append(
            {
                "table": info["table"],
                "chain": info["chain"],
                "hook": info["hook"],
                "reachable": not any(e.get("unconditional") for e, _ in rules),
                "all_counted": all(d is not None for _, d in rules),
                "moved": any(d for _, d in rules),
                "est_accept": any(e.get("est_accept") for e, _ in rules),
                # every way out of the chain but its policy accepts only a connection's first
                # packet: the rest of any connection (ESTABLISHED) falls to the policy
                "new_only": bool(rules)
                and all(e["target"] in BLOCKING or _new_only_accept(e) for e, _ in rules)
                and any(e["target"] == "ACCEPT" for e, _ in rules),
                "new_accept_moved": regular_accepts
                or any(d and e["target"] == "ACCEPT" and not e.get("est_accept") for e, d in rules),
            }
        )
    return {
        "comparable": True,
        "why": "",
        "moved": moved[:MAX_LISTED],
        "blocking_moved": blocking[:MAX_LISTED],
        "uncounted_blocking": uncounted[:MAX_LISTED],
        "nft_policy_chains": policy_chains[:MAX_LISTED],
        "hooks": {k: v["hook"] for k, v in chains.items() if "hook" in v},
        "entries": len(after["entries"]),
        "needs_root": False,
        "errors": [*before["errors"][:20], *after["errors"][:20]],
    }


def _name(b: dict[str, Any]) -> str:
    what = f"policy {b['target']}" if b["kind"] == "policy" else f"`{b['spec'][:120]}`"
    return f"{b['table']}/{b['chain']} {what}"


def verdict(diff: dict[str, Any], role: str | None = None, flows: list[Flow] | None = None) -> dict[str, Any]:
    """{"verdict": "blocked" | "passed" | "unknown", "blockers": [...], "why": str,
    "other_traffic": [moved DROP/REJECT rules that could not have matched the probe's flows]}."""
    if not diff.get("comparable"):
        return {"verdict": "unknown", "blockers": [], "why": diff.get("why") or "the snapshots cannot be compared"}
    blockers: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for b in diff.get("blocking_moved", []):
        (blockers if may_match(b, flows or [], role, diff.get("hooks", {})) else others).append(b)
    v = _verdict(diff, role, blockers)
    if others:
        names = ", ".join(f"{_name(b)} (+{b['delta_packets']})" for b in others[:3])
        v["why"] += f"; moved by other traffic (cannot match the probe's address, port or protocol): {names}"
    return {**v, "other_traffic": others}


def _verdict(diff: dict[str, Any], role: str | None, blockers: list[dict[str, Any]]) -> dict[str, Any]:
    if blockers:
        moved = ", ".join(f"{_name(b)} (+{b['delta_packets']})" for b in blockers[:5])
        return {"verdict": "blocked", "blockers": blockers, "why": f"moved with the probe: {moved}"}
    uncounted = diff.get("uncounted_blocking", [])
    if uncounted:
        u = uncounted[0]
        return {
            "verdict": "unknown",
            "blockers": [],
            "why": f"{_name(u)} may have dropped the probe unseen: {u['why']}",
        }
    inferred, doubtful = [], []
    for c in diff.get("nft_policy_chains", []):
        if not c["reachable"]:
            continue
        name = f"{c['table']}/{c['chain']}"
        if not c["moved"] and not c["all_counted"]:
            doubtful.append(f"{name} drops by policy, nothing in it moved, and it has rules without a counter")
        elif not c["moved"]:
            spec = f"policy drop (hook {c['hook']}; nft keeps no policy counter)"
            b = {"source": "nft", "table": c["table"], "chain": c["chain"], "kind": "policy", "spec": spec}
            inferred.append({**b, "target": "DROP", "delta_packets": None, "inferred": True})
        elif c["new_only"] and not c["est_accept"]:
            spec = (
                f"policy drop (hook {c['hook']}): its rules accept only new connections, the rest of each falls to it"
            )
            b = {"source": "nft", "table": c["table"], "chain": c["chain"], "kind": "policy", "spec": spec}
            inferred.append({**b, "target": "DROP", "delta_packets": None, "inferred": True})
        elif not (c["est_accept"] and (c["new_accept_moved"] or c["hook"] in _REPLY_HOOKS.get(role or "", ()))):
            doubtful.append(f"{name} drops by policy (uncounted) and cannot be shown to have accepted every packet")
    if inferred:
        names = "; ".join(f"{b['table']}/{b['chain']} {b['spec']}" for b in inferred[:5])
        return {"verdict": "blocked", "blockers": inferred, "why": f"the probe fell to the policy: {names}"}
    if doubtful:
        return {"verdict": "unknown", "blockers": [], "why": doubtful[0]}
    if diff.get("empty"):
        return {"verdict": "passed", "blockers": [], "why": "no firewall rules (empty rulesets, read without error)"}
    return {"verdict": "passed", "blockers": [], "why": f"no DROP/REJECT counter moved ({diff.get('entries', 0)} read)"}


_MARKER = re.compile(
    r"==[ \t]+(before|after|probe)|==[ \t]+(role)[ \t]+(\w+)|==[ \t]+(flow)[ \t]+(\S+(?:[ \t]+\S+){3})"
)
_CURL_ENDS = re.compile(r"\blocal=(\S+)\s+remote=(\S+)")


def _flow(words: list[str]) -> Flow:
    """`PROTO SRC DST PORT`, `-` where not known."""
    proto, src, dst, port = (None if w == "-" else w for w in words)
    return Flow((proto or "tcp").lower(), src, dst, int(port) if port and port.isdigit() else None)


def split_sections(text: str) -> dict[str, Any]:
    """The marker-separated sections of one command output (see the module docstring)."""
    parts: dict[str, list[str]] = {}
    role: str | None = None
    current: str | None = None
    flows: list[Flow] = []
    for raw in (text or "")[:MAX_TEXT].splitlines():
        line = raw.strip()
        m = _MARKER.fullmatch(line) if line.startswith("==") and len(line) < 256 else None
        if m:
            if m.group(2) == "role":
                role = m.group(3).lower()
            elif m.group(4) == "flow":
                if len(flows) < MAX_LISTED:
                    flows.append(_flow(m.group(5).split()))
            else:
                current = m.group(1)
                parts.setdefault(current, [])
            continue
        if current is not None:
            parts[current].append(raw)
    probe = "\n".join(parts.get("probe", []))[:2000]
    # the probe's own ends (curl's %{local_ip} and %{remote_ip}) replace what the flow line did
    # not know or named: the addresses the packets really carried
    ends = _CURL_ENDS.search(probe)
    if ends and len(flows) == 1:
        f = flows[0]
        local, remote = (ends.group(i) if _is_ip(ends.group(i)) else None for i in (1, 2))
        flows[0] = Flow(f.protocol, local or f.src, remote or f.dst, f.port)
    return {
        "before": "\n".join(parts["before"]) if "before" in parts else None,
        "after": "\n".join(parts["after"]) if "after" in parts else None,
        "probe": probe,
        "role": role if role in ("client", "server") else None,
        "flows": flows,
    }


def _family(flows: list[Flow]) -> str:
    """ip6 when the probe's flow has an IPv6 end (ip6tables then counts, iptables does not)."""
    for f in flows:
        for end in (f.src, f.dst):
            if end and _is_ip(end) and ":" in end:
                return "ip6"
    return "ip"


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def parse_fw_counters(text: str) -> dict[str, Any]:
    """The registered parser `fw_counters`: one output with `== before` / `== after` sections."""
    sections = split_sections(text)
    if sections["before"] is None or sections["after"] is None:
        diff = _unknown_diff("the output lacks a `== before` or `== after` section", None, None)
    else:
        diff = diff_counters(sections["before"], sections["after"], _family(sections["flows"]))
    v = verdict(diff, sections["role"], sections["flows"])
    return {
        **v,
        "moved": diff["moved"],
        "needs_root": diff["needs_root"],
        "role": sections["role"],
        "probe": sections["probe"],
        "entries": diff["entries"],
        "errors": diff["errors"],
        "other_traffic": v.get("other_traffic", []),
        "flows": [{"protocol": f.protocol, "src": f.src, "dst": f.dst, "port": f.port} for f in sections["flows"]],
    }


def flow_lines(flows: Any) -> str:
    """`== flow` lines for flows another probe reported (its `flows`), e.g. the gateway's probe
    for the backend's own counters."""
    out: list[str] = []
    for f in flows or []:
        if isinstance(f, dict) and len(out) < MAX_LISTED:
            words = [str(f.get(k) or "-") for k in ("protocol", "src", "dst", "port")]
            if all(w and not any(c.isspace() for c in w) for w in words):
                out.append("== flow " + " ".join(words) + "\n")
    return "".join(out)
