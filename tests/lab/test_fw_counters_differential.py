"""Firewalls by measurement, proven (issue 22 item 1): for a seeded corpus of iptables and nft
rulesets, the verdict read from packet counters around a real probe agrees with whether the
probe connected.

Two namespaces of its own (`rb-fwd-c` client, `rb-fwd-s` server, a veth pair in
198.19.255.0/30; never the lab's), a TCP server on 198.19.255.2:8080 that greets each
connection with "ok". For each ruleset: flush both ends, apply it (iptables-restore or nft -f,
in the client, the server or both), snapshot `iptables-save -c; nft list ruleset` on both ends,
probe (connect and read the greeting, 0.5 s timeout), snapshot again, and run the `fw_counters`
parser on each end; the two verdicts combine (blocked if either end is blocked, passed if both
passed). "blocked" must hold exactly when the probe did not get its greeting.

A probe "connects" when the server's greeting arrives, not when connect() returns: a client
whose handshake ACK is dropped (`! --syn` rules) still sees connect() succeed, while the server
never accepts the connection; a gateway would get no answer there either.

Every ruleset is judged twice: with the probe's flow (`== flow tcp C S P`), where a moved DROP
that cannot match the probe is set aside as other traffic, and without it. Six rulesets have
other traffic in the window (a dropped or refused connection to another port, a UDP packet):
with the flow the verdict still follows the probe; without it the noise reads as a block,
which shows the noise really moved a blocker's counter.

Documented "unknown" (asserted as such, not counted as agreement): nft rulesets where counters
cannot decide -- a verdict map with a drop branch (its counter, if any, moves whichever branch
was taken): issue 22 asks for a gap there, never a guess. A `policy drop` chain whose rules
accept only `ct state new` is decided: the rest of every connection falls to the policy.
IPv6 is off in both namespaces so that neighbour discovery cannot move `inet` counters, and no
packet of one probe may fall into the next one's window: a failed probe aborts its socket (RST
at once, no FIN retransmissions) and the server never retransmits a SYN-ACK.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from runbook.parsers import parse

CLIENT_NS, SERVER_NS = "rb-fwd-c", "rb-fwd-s"
C, S, P = "198.19.255.1", "198.19.255.2", 8080
PROBE_TIMEOUT = 0.5
SEED = 22


def _have(name: str) -> bool:
    return shutil.which(name) is not None or Path(f"/usr/sbin/{name}").exists()


pytestmark = [
    pytest.mark.root,
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces, iptables, nft)"),
    pytest.mark.skipif(
        not all(_have(b) for b in ("ip", "iptables-restore", "iptables-save", "nft")),
        reason="needs ip, iptables and nft (Debian: iproute2 iptables nftables)",
    ),
]

SERVER = f"""
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("{S}", {P})); s.listen(64)
while True:
    c, _ = s.accept()
    try:
        c.sendall(b"ok\\n")
    finally:
        c.close()
"""

PROBE = f"""
import socket, struct, sys
s = socket.socket(); s.settimeout({PROBE_TIMEOUT})
ok = False
try:
    s.connect(("{S}", {P}))
    ok = s.recv(16).startswith(b"ok")
except OSError:
    pass
finally:
    if not ok:  # abort (RST now) rather than leave FIN retransmissions to the next ruleset
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
sys.exit(0 if ok else 1)
"""


def sh(*args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), input=input, capture_output=True, text=True, check=check, timeout=30)


def in_ns(ns: str, script: str, input: str | None = None, check: bool = True) -> str:
    return sh("ip", "netns", "exec", ns, "sh", "-c", script, input=input, check=check).stdout


def ours() -> list[str]:
    out = sh("ip", "netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.split() and line.split()[0].startswith("rb-fwd-")]


def teardown() -> None:
    for ns in ours():
        for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), 9)
        sh("ip", "netns", "del", ns, check=False)


@pytest.fixture(scope="module")
def pair() -> Iterator[None]:
    teardown()  # a pair an interrupted run left behind
    server: subprocess.Popen[bytes] | None = None
    try:
        for ns in (CLIENT_NS, SERVER_NS):
            sh("ip", "netns", "add", ns)
            # no IPv6 (neighbour discovery would move inet counters); no SYN-ACK retransmissions
            # from a half-open connection into the next ruleset's window
            in_ns(
                ns,
                "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1"
                " net.ipv4.tcp_synack_retries=0; ip link set lo up",
            )
        sh("ip", "-n", CLIENT_NS, "link", "add", "fwd0", "type", "veth", "peer", "name", "fwd1", "netns", SERVER_NS)
        for ns, dev, addr in ((CLIENT_NS, "fwd0", C), (SERVER_NS, "fwd1", S)):
            sh("ip", "-n", ns, "addr", "add", f"{addr}/30", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
        server = subprocess.Popen(["ip", "netns", "exec", SERVER_NS, sys.executable, "-c", SERVER])
        deadline = time.monotonic() + 10
        while not probe():
            assert time.monotonic() < deadline, "the test server never answered"
            time.sleep(0.05)
        yield
    finally:
        if server is not None:
            server.kill()
            server.wait(timeout=10)
        teardown()
        assert not ours(), f"namespaces left behind: {ours()}"


def probe() -> bool:
    return sh("ip", "netns", "exec", CLIENT_NS, sys.executable, "-c", PROBE, check=False).returncode == 0


NOISE = f"""
import socket, struct, sys
for proto, port in (a.split(":") for a in sys.argv[1:]):
    if proto == "udp":
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b"noise", ("{S}", int(port)))
        u.close()
        continue
    s = socket.socket(); s.settimeout(0.3)
    try:
        s.connect(("{S}", int(port)))
    except OSError:
        pass
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
"""


def noise(traffic: list[tuple[str, int]]) -> None:
    """Another client's traffic in the same window (dropped or refused, never retried)."""
    if traffic:
        args = [f"{proto}:{port}" for proto, port in traffic]
        sh("ip", "netns", "exec", CLIENT_NS, sys.executable, "-c", NOISE, *args, check=False)


# ---- the corpus -------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    kind: str  # ipt | nft | mixed
    client: list[tuple[str, str]] = field(default_factory=list)  # (tool, text) applied in order
    server: list[tuple[str, str]] = field(default_factory=list)
    unknown: str = ""  # why counters cannot decide this one (documented above)
    #: other traffic the client sends during the probe's window: (protocol, port) to the server
    noise: list[tuple[str, int]] = field(default_factory=list)


def ipt(tables: dict[str, list[str]], policies: dict[str, str] | None = None, chains: tuple[str, ...] = ()) -> str:
    """An iptables-restore text; `tables` maps a table to its rule lines, user chains in filter."""
    builtin = {
        "filter": ("INPUT", "FORWARD", "OUTPUT"),
        "raw": ("PREROUTING", "OUTPUT"),
        "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    }
    out = []
    for table, rules in tables.items():
        out.append(f"*{table}")
        for chain in builtin[table]:
            out.append(f":{chain} {(policies or {}).get(chain, 'ACCEPT') if table == 'filter' else 'ACCEPT'} [0:0]")
        if table == "filter":
            out.extend(f":{c} - [0:0]" for c in chains)
        out.extend(rules)
        out.append("COMMIT")
    return "\n".join(out) + "\n"


def nft(family: str, chains: dict[str, tuple[str, list[str]]], sets: str = "") -> str:
    """A native nft table `rbfw`: chains map a name to (`type ...; policy ...;` or "", rules)."""
    body = [f"table {family} rbfw {{", sets]
    for name, (head, rules) in chains.items():
        body.append(f"  chain {name} {{")
        if head:
            body.append(f"    {head}")
        body.extend(f"    {r}" for r in rules)
        body.append("  }")
    body.append("}")
    return "\n".join(body) + "\n"


def hook(h: str, policy: str = "accept", prio: str = "0") -> str:
    return f"type filter hook {h} priority {prio}; policy {policy};"


def pick(rng: random.Random, *options: str) -> str:
    return rng.choice(options)


def corpus() -> list[Case]:
    rng = random.Random(SEED)
    cases: list[Case] = []

    def rej() -> str:
        return pick(
            rng, "DROP", "REJECT", "REJECT --reject-with tcp-reset", "REJECT --reject-with icmp-host-prohibited"
        )

    def port() -> str:
        return pick(rng, str(P), str(P), "8081", "22", "8000:9000", "1:1024")

    def src() -> str:
        return pick(rng, f"{C}/32", "198.19.255.0/30", "198.19.254.0/24", "10.0.0.0/8", f"{S}/32")

    def filler(chain: str) -> list[str]:
        lines = [
            f"-A {chain} -p udp -m udp --dport 53 -j DROP",
            f"-A {chain} -s 203.0.113.0/24 -j DROP",
            f"-A {chain} -p tcp -m tcp --dport 22 -j ACCEPT",
            f"-A {chain} -p tcp -m tcp --dport 9999 -j REJECT",
            f"-A {chain} -p icmp -j ACCEPT",
        ]
        return rng.sample(lines, rng.randint(0, 3))

    def side(rules_for: str) -> tuple[str, str]:
        """Where the rules go: the probe's way out (client OUTPUT) or in (server INPUT)."""
        return ("client", "OUTPUT") if rng.random() < 0.5 else ("server", "INPUT")

    def add(name: str, where: str, text: str, kind: str = "ipt", tool: str = "iptables", unknown: str = "") -> None:
        case = Case(f"{len(cases):03d}-{name}", kind, unknown=unknown)
        getattr(case, where).append((tool, text))
        cases.append(case)

    # -- iptables-save format -------------------------------------------------------------------
    for _ in range(10):  # plain DROP/REJECT by port
        where, ch = side("")
        add("ipt-port", where, ipt({"filter": [*filler(ch), f"-A {ch} -p tcp -m tcp --dport {port()} -j {rej()}"]}))
    for _ in range(8):  # by source / destination
        where, ch = side("")
        match = pick(rng, f"-s {src()}", f"-d {pick(rng, f'{S}/32', '198.19.255.0/30', '192.0.2.0/24')}")
        add("ipt-addr", where, ipt({"filter": [*filler(ch), f"-A {ch} {match} -p tcp -j {rej()}"]}))
    for _ in range(6):  # ACCEPT before DROP (the ACCEPT may miss)
        where, ch = side("")
        add(
            "ipt-accept-first",
            where,
            ipt(
                {
                    "filter": [
                        f"-A {ch} -s {src()} -p tcp -m tcp --dport {port()} -j ACCEPT",
                        f"-A {ch} -p tcp -m tcp --dport {P} -j {rej()}",
                    ]
                }
            ),
        )
    for _ in range(8):  # hardened: policy DROP, accept what is needed (or not quite)
        where, ch = side("")
        peer = f"-s {src()}" if ch == "INPUT" else f"-d {pick(rng, f'{S}/32', '198.19.255.0/30', '192.0.2.1/32')}"
        lo = "-i lo" if ch == "INPUT" else "-o lo"
        rules = [f"-A {ch} {lo} -j ACCEPT"]
        if rng.random() < 0.6:
            rules.append(f"-A {ch} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
        syn = pick(rng, "", "", "--syn ")
        rules.append(f"-A {ch} {peer} -p tcp -m tcp {syn}--dport {port()} -j ACCEPT")
        add("ipt-hardened", where, ipt({"filter": rules}, {ch: "DROP"}))
    for _ in range(2):  # hardened on the way back (client INPUT / server OUTPUT)
        for where, ch in (("client", "INPUT"), ("server", "OUTPUT")):
            rules = [f"-A {ch} -p tcp -m tcp --dport 22 -j ACCEPT"]
            if rng.random() < 0.6:
                rules.insert(0, f"-A {ch} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
            add("ipt-hardened-reply", where, ipt({"filter": rules}, {ch: "DROP"}))
    for _ in range(4):  # --syn / ! --syn
        where, ch = side("")
        neg = pick(rng, "! ", "")
        add("ipt-syn", where, ipt({"filter": [f"-A {ch} -p tcp -m tcp {neg}--syn --dport {port()} -j {rej()}"]}))
    for _ in range(5):  # multiport
        where, ch = side("")
        ports = pick(rng, f"80,443,{P}", "80,443,8443", "8000:8079,8081:9000", f"22,{P - 10}:{P + 10}")
        add("ipt-multiport", where, ipt({"filter": [f"-A {ch} -p tcp -m multiport --dports {ports} -j {rej()}"]}))
    for _ in range(6):  # negations
        where, ch = side("")
        match = pick(rng, f"! -s {src()} -p tcp", f"! -d {S}/32 -p tcp", f"-p tcp -m tcp ! --dport {port()}")
        add("ipt-negation", where, ipt({"filter": [f"-A {ch} {match} -j {rej()}"]}))
    for _ in range(4):  # iprange
        where, ch = side("")
        rng_ = pick(
            rng, f"--src-range {C}-{C}", "--src-range 198.19.255.0-198.19.255.3", "--src-range 10.0.0.1-10.0.0.9"
        )
        add("ipt-iprange", where, ipt({"filter": [f"-A {ch} -p tcp -m iprange {rng_} -j {rej()}"]}))
    for _ in range(6):  # user chains: -j with RETURN, -g (goto) falling back to the policy
        where, ch = side("")
        if rng.random() < 0.5:
            rules = [
                f"-A {ch} -p tcp -m tcp --dport {port()} -j gate",
                f"-A gate -s {src()} -j RETURN"
                if ch == "INPUT"
                else f"-A gate -d {pick(rng, f'{S}/32', '192.0.2.1/32')} -j RETURN",
                f"-A gate -p tcp -j {rej()}",
            ]
            add("ipt-chain-jump", where, ipt({"filter": rules}, chains=("gate",)))
        else:
            policy = pick(rng, "DROP", "ACCEPT")
            rules = [
                f"-A {ch} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                f"-A {ch} -p tcp -g gate",
                f"-A gate -p tcp -m tcp --dport {port()} -j ACCEPT",
            ]
            add("ipt-chain-goto", where, ipt({"filter": rules}, {ch: policy}, chains=("gate",)))
    for _ in range(6):  # conntrack states
        where, ch = side("")
        state = pick(rng, "NEW", "INVALID", "ESTABLISHED", "RELATED,ESTABLISHED", "UNTRACKED")
        add(
            "ipt-ctstate",
            where,
            ipt({"filter": [f"-A {ch} -p tcp -m conntrack --ctstate {state} -m tcp --dport {port()} -j {rej()}"]}),
        )
    for _ in range(8):  # raw and mangle tables
        where = pick(rng, "client", "server")
        table = pick(rng, "raw", "mangle")
        chain = (
            ("OUTPUT" if where == "client" else "PREROUTING")
            if table == "raw"
            else (pick(rng, "OUTPUT", "POSTROUTING") if where == "client" else pick(rng, "PREROUTING", "INPUT"))
        )
        choice = rng.random()
        if choice < 0.5:
            add("ipt-" + table, where, ipt({table: [f"-A {chain} -p tcp -m tcp --dport {port()} -j DROP"]}))
        elif choice < 0.75 and table == "mangle":
            rules = {
                "mangle": [f"-A {chain} -p tcp -m tcp --dport {port()} -j MARK --set-xmark 0x7/0xffffffff"],
                "filter": [f"-A {'OUTPUT' if where == 'client' else 'INPUT'} -m mark --mark 0x7 -j DROP"],
            }
            add("ipt-mangle-mark", where, ipt(rules))
        else:
            raw_chain = "OUTPUT" if where == "client" else "PREROUTING"
            rules = {
                "raw": [f"-A {raw_chain} -p tcp -m tcp --dport {port()} -j CT --notrack"],
                "filter": [f"-A {'OUTPUT' if where == 'client' else 'INPUT'} -m conntrack --ctstate UNTRACKED -j DROP"],
            }
            add("ipt-raw-notrack", where, ipt(rules))
    for _ in range(5):  # rules that do not match the probe at all
        where, ch = side("")
        add("ipt-nomatch", where, ipt({"filter": [*filler(ch), f"-A {ch} -p tcp -m tcp --dport 8443 -j {rej()}"]}))
    for where, ch, m in (("client", "INPUT", f"-s {S}/32"), ("server", "OUTPUT", f"-d {C}/32")):  # the way back
        for target in ("DROP", "REJECT --reject-with tcp-reset"):
            add("ipt-reply", where, ipt({"filter": [f"-A {ch} {m} -p tcp -m tcp --sport {P} -j {target}"]}))

    # -- nft ------------------------------------------------------------------------------------
    def nside() -> tuple[str, str, str, str]:
        """(where, hook, family, the peer match of the probe's first packet)"""
        fam = pick(rng, "inet", "ip")
        if rng.random() < 0.5:
            return "client", "output", fam, pick(rng, f"ip daddr {S}", "ip daddr 198.19.255.0/30", "ip daddr 192.0.2.1")
        return "server", "input", fam, pick(rng, f"ip saddr {C}", "ip saddr 198.19.255.0/30", "ip saddr 10.0.0.0/8")

    def nport() -> str:
        return pick(rng, str(P), str(P), "8081", "8000-9000", "{ 80, 443, 8080 }", "{ 22, 8443 }")

    def nverdict() -> str:
        return pick(rng, "drop", "reject", "reject with tcp reset")

    def nadd(name: str, where: str, text: str, unknown: str = "") -> None:
        add(name, where, text, kind="nft", tool="nft", unknown=unknown)

    for _ in range(8):  # plain drop/reject by port, address, concatenation
        where, h, fam, peer = nside()
        match = pick(
            rng,
            f"tcp dport {nport()}",
            f"{peer} tcp dport {nport()}",
            f"{peer}",
            f"ip saddr . tcp dport {{ {C} . {P}, 10.0.0.1 . 22 }}",
        )
        nadd(
            "nft-drop",
            where,
            nft(fam, {"c": (hook(h), ["tcp dport 22 counter accept", f"{match} counter {nverdict()}"])}),
        )
    for _ in range(5):  # named sets and intervals
        where, h, fam, _peer = nside()
        own = C if where == "server" else S
        elems = pick(rng, f"{own}, 10.0.0.1", "10.0.0.1, 10.0.0.2", "198.19.255.0/30", "192.0.2.0/24")
        key = "saddr" if where == "server" else "daddr"
        sets = f"  set bl {{ type ipv4_addr; flags interval; elements = {{ {elems} }}; }}"
        nadd("nft-set", where, nft(fam, {"c": (hook(h), [f"ip {key} @bl counter {nverdict()}"])}, sets))
    for _ in range(5):  # verdict maps jumping to counted chains, RETURN, goto
        where, h, fam, peer = nside()
        verb = pick(rng, "jump", "goto")
        rules = [f"tcp dport vmap {{ 22 : accept, {pick(rng, str(P), str(P), '8081', '443')} : {verb} chk }}"]
        chk = [f"{peer} counter return" if verb == "jump" else f"{peer} counter accept", f"counter {nverdict()}"]
        nadd("nft-vmap-jump", where, nft(fam, {"c": (hook(h), rules), "chk": ("", chk)}))
    for _ in range(8):  # hardened: policy drop with established + the one allowed flow
        where, h, fam, peer = nside()
        rules = [
            "ct state established,related counter accept",
            'iifname "lo" counter accept' if h == "input" else 'oifname "lo" counter accept',
        ]
        rules.append(f"{peer} tcp dport {nport()} counter accept")
        rng.shuffle(rules)
        rules.append("tcp dport 22 counter accept")
        nadd("nft-policy-drop", where, nft(fam, {"c": (hook(h, "drop"), rules)}))
    for where, h in (("client", "input"), ("server", "output")):  # hardened on the way back
        for est in (True, False):
            rules = ["ct state established,related counter accept"] if est else []
            rules.append("tcp dport 22 counter accept")
            nadd("nft-policy-drop-reply", where, nft("inet", {"c": (hook(h, "drop"), rules)}))
    for _ in range(4):  # syn flags, ct state
        where, h, fam, _peer = nside()
        match = pick(
            rng,
            f"tcp dport {P} tcp flags & (fin|syn|rst|ack) != syn",
            f"tcp dport {P} tcp flags & (fin|syn|rst|ack) == syn",
            f"ct state new tcp dport {nport()}",
            f"ct state invalid tcp dport {P}",
        )
        nadd("nft-flags-ct", where, nft(fam, {"c": (hook(h), [f"{match} counter {nverdict()}"])}))
    for _ in range(3):  # early hooks (prerouting / raw priority) and chains that never see the probe
        where, _h, fam, peer = nside()
        early = "prerouting" if where == "server" else "output"
        chains = {
            "early": (hook(early, "accept", "-300"), [f"{peer} tcp dport {nport()} counter drop"]),
            "forwarding": (hook("forward", "drop"), []),
        }
        nadd("nft-early", where, nft(fam, chains))
    for _ in range(2):  # ip6 rules in an inet table never match IPv4
        where, h, _fam, _peer = nside()
        nadd(
            "nft-ip6",
            where,
            nft("inet", {"c": (hook(h), [f"ip6 saddr ::/0 tcp dport {P} counter drop", "tcp dport 9 counter reject"])}),
        )
    # documented unknowns
    where, h, _fam, _peer = nside()
    nadd(
        "nft-vmap-drop",
        where,
        nft("inet", {"c": (hook(h), [f"counter tcp dport vmap {{ {P} : drop, 22 : accept }}"])}),
        unknown="verdict map with a drop branch",
    )
    nadd(
        "nft-vmap-drop",
        "server",
        nft("inet", {"c": (hook("input"), ["counter ip saddr vmap { 10.0.0.1 : drop, 198.19.255.1 : accept }"])}),
        unknown="verdict map with a drop branch",
    )
    # a policy drop chain that accepts only a connection's first packet: the rest falls to it
    nadd(
        "nft-policy-drop-new-only",
        "server",
        nft("inet", {"c": (hook("input", "drop"), [f"ct state new tcp dport {P} counter accept"])}),
    )
    nadd(
        "nft-policy-drop-new-only",
        "client",
        nft("ip", {"c": (hook("output", "drop"), [f"ct state {{ new }} ip daddr {S} counter accept"])}),
    )

    # -- both at once: iptables on one end, nft on the other ------------------------------------
    for _ in range(4):
        c = ipt({"filter": [f"-A OUTPUT -p tcp -m tcp --dport {port()} -j {rej()}"]})
        s = nft(
            "inet",
            {
                "c": (
                    hook("input", "drop"),
                    [
                        "ct state established,related counter accept",
                        f"ip saddr {pick(rng, C, '10.0.0.1')} counter accept",
                    ],
                )
            },
        )
        cases.append(Case(f"{len(cases):03d}-mixed", "mixed", client=[("iptables", c)], server=[("nft", s)]))

    # -- other traffic in the window: a DROP it hits is not the probe's blocker ------------------
    def noisy(name: str, kind: str, where: str, tool: str, text: str, noise: list[tuple[str, int]]) -> None:
        case = Case(f"{len(cases):03d}-noise-{name}", kind, noise=noise)
        getattr(case, where).append((tool, text))
        cases.append(case)

    noisy(
        "port",
        "ipt",
        "server",
        "iptables",
        ipt({"filter": ["-A INPUT -p tcp -m tcp --dport 9999 -j DROP"]}),
        [("tcp", 9999)],
    )
    noisy("udp", "ipt", "server", "iptables", ipt({"filter": ["-A INPUT -p udp -j DROP"]}), [("udp", P)])
    noisy(
        "out",
        "ipt",
        "client",
        "iptables",
        ipt({"filter": ["-A OUTPUT -p tcp -m tcp --dport 9999 -j REJECT"]}),
        [("tcp", 9999)],
    )
    noisy(
        "nft",
        "nft",
        "server",
        "nft",
        nft("inet", {"c": (hook("input"), ["tcp dport 9999 counter drop"])}),
        [("tcp", 9999)],
    )
    noisy(
        "nft-udp",
        "nft",
        "client",
        "nft",
        nft("ip", {"c": (hook("output"), [f"udp dport {P} counter drop"])}),
        [("udp", P)],
    )
    noisy(  # the probe's real blocker and another traffic's: only the first is named
        "and-block",
        "ipt",
        "server",
        "iptables",
        ipt({"filter": ["-A INPUT -p tcp -m tcp --dport 9999 -j DROP", f"-A INPUT -p tcp -m tcp --dport {P} -j DROP"]}),
        [("tcp", 9999)],
    )
    return cases


CORPUS = corpus()


def apply(ns: str, steps: list[tuple[str, str]]) -> None:
    in_ns(ns, "nft flush ruleset")
    for tool, text in steps:
        in_ns(ns, "iptables-restore" if tool == "iptables" else "nft -f -", input=text)


def snapshot(ns: str) -> str:
    return in_ns(ns, "iptables-save -c; nft list ruleset", check=False)


def combine(client: dict, server: dict) -> str:
    verdicts = {client["verdict"], server["verdict"]}
    if "blocked" in verdicts:
        return "blocked"
    return "passed" if verdicts == {"passed"} else "unknown"


def test_corpus_composition():
    kinds = [c.kind for c in CORPUS]
    assert len(CORPUS) >= 100
    assert kinds.count("nft") + kinds.count("mixed") >= 30
    assert len({c.name for c in CORPUS}) == len(CORPUS)


def test_counters_agree_with_the_probe(pair: None) -> None:
    start = time.monotonic()
    disagreements, agreed, documented, outcomes = [], 0, 0, {True: 0, False: 0}
    try:
        for case in CORPUS:
            apply(CLIENT_NS, case.client)
            apply(SERVER_NS, case.server)
            before = {ns: snapshot(ns) for ns in (CLIENT_NS, SERVER_NS)}
            noise(case.noise)
            connected = probe()
            after = {ns: snapshot(ns) for ns in (CLIENT_NS, SERVER_NS)}
            results, blind = (
                {
                    ns: parse(
                        "fw_counters",
                        f"== role {role}\n{flow}== before\n{before[ns]}\n== after\n{after[ns]}\n",
                    )
                    for ns, role in ((CLIENT_NS, "client"), (SERVER_NS, "server"))
                }
                for flow in (f"== flow tcp {C} {S} {P}\n", "")
            )
            got = combine(results[CLIENT_NS], results[SERVER_NS])
            outcomes[connected] += 1
            expected = "unknown" if case.unknown else ("passed" if connected else "blocked")
            # without the probe's flow the verdict is the same, except that other traffic's
            # DROP reads as the probe's: the noise really moved a blocker's counter
            expected_blind = "blocked" if case.noise else expected
            if combine(blind[CLIENT_NS], blind[SERVER_NS]) != expected_blind:
                disagreements.append(f"{case.name} without the flow: expected {expected_blind}")
            if case.noise and connected:
                assert results[CLIENT_NS]["other_traffic"] + results[SERVER_NS]["other_traffic"], case.name
            if got != expected:
                disagreements.append(
                    f"{case.name}: probe {'connected' if connected else 'failed'}, verdict {got}"
                    f" (client: {results[CLIENT_NS]['why']}; server: {results[SERVER_NS]['why']})\n"
                    + "".join(text for _, text in case.client + case.server)
                )
            elif case.unknown:
                documented += 1
            else:
                agreed += 1
            if got == "blocked":  # the blocker is named: host, chain and rule
                blockers = results[CLIENT_NS]["blockers"] + results[SERVER_NS]["blockers"]
                assert all(b["chain"] and b["spec"] for b in blockers)
                assert not case.noise or all("9999" not in b["spec"] for b in blockers), case.name
    finally:
        for ns in (CLIENT_NS, SERVER_NS):
            in_ns(ns, "nft flush ruleset", check=False)
    decided = len(CORPUS) - sum(1 for c in CORPUS if c.unknown)
    print(
        f"\nfw_counters differential: {len(CORPUS)} rulesets "
        f"({sum(c.kind == 'ipt' for c in CORPUS)} iptables, {sum(c.kind == 'nft' for c in CORPUS)} nft, "
        f"{sum(c.kind == 'mixed' for c in CORPUS)} mixed); probe connected {outcomes[True]}, failed {outcomes[False]}; "
        f"agreement {agreed}/{decided} (with and without the probe's flow; "
        f"{sum(bool(c.noise) for c in CORPUS)} with other traffic in the window); "
        f"documented unknown {documented}; {time.monotonic() - start:.1f} s"
    )
    assert not disagreements, "\n\n".join(disagreements)
    assert outcomes[True] >= 20 and outcomes[False] >= 20  # both outcomes well represented
