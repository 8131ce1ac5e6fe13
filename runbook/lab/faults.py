"""The lab's faults: one per 502 cause in the guide, plus the healthy state.

`client_status` is what a client sees through the gateway when every targeted backend has
the fault (the default); `log_pattern` matches the gateway error-log line it produces;
`cause` is the conclusion a correct diagnosis reaches (DESIGN.md's vocabulary).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    cause: str
    client_status: int
    log_pattern: str | None
    #: the fault is made on backends (so --host picks which); otherwise it is lab-wide
    per_backend: bool = True


FAULTS: dict[str, Fault] = {
    f.name: f
    for f in (
        Fault(
            "healthy",
            "no fault: every backend up, DNS and gateway config correct, no firewall rule",
            "no-fault-found",
            200,
            None,
            per_backend=False,
        ),
        Fault(
            "backend-down",
            "the app service is stopped on the backend (nothing listens on 8080)",
            "backend-down",
            502,
            r"connect\(\) failed \(111: Connection refused\) while connecting to upstream",
        ),
        Fault(
            "backend-crash",
            "the app accepts the request, logs a traceback and closes without answering",
            "backend-down",
            502,
            r"upstream prematurely closed connection while reading response header from upstream",
        ),
        Fault(
            "backend-slow",
            "the app answers after 8 s, longer than the gateway's 3 s proxy_read_timeout",
            "backend-overloaded",
            504,
            r"upstream timed out \(110: Connection timed out\) while reading response header",
        ),
        Fault(
            "gateway-misconfigured",
            "a deploy pointed the gateway's upstream at the old port 8081; nginx reloaded",
            "gateway-misconfigured",
            502,
            r"connect\(\) failed \(111: Connection refused\) while connecting to upstream"
            r".*upstream: \"http://[0-9.]+:8081/",
        ),
        Fault(
            "dns-failure",
            "dns1 no longer has the backend's name; nginx resolves it at run time and fails",
            "dns-failure",
            502,
            r"could not be resolved \(3: Host not found\)",
        ),
        Fault(
            "malformed-response",
            "the app answers at once but with invalid header lines",
            "malformed-response",
            502,
            r"upstream sent invalid header",
        ),
        Fault(
            "firewall",
            "an iptables rule on the backend drops the gateway's traffic to port 8080",
            "network-blocked",
            504,
            r"upstream timed out \(110: Connection timed out\) while connecting to upstream",
        ),
        # beyond the guide's list: the same causes, different evidence
        Fault(
            "dns-wrong-address",
            "(extra) dns1 answers the backend's name with its old address, in a retired subnet",
            "dns-failure",
            502,
            r"connect\(\) to 198\.19\.0\.[34]:8080 failed \(101: Network is unreachable\) "
            r"while connecting to upstream",
        ),
        Fault(
            "dns-down",
            "(extra) dnsmasq on dns1 is stopped: nginx's run-time lookups time out",
            "dns-failure",
            502,
            r"could not be resolved \(110: Operation timed out\)",
            per_backend=False,
        ),
        Fault(
            "firewall-reject",
            "(extra) an iptables rule on the backend rejects the gateway with a TCP reset",
            "network-blocked",
            502,
            r"connect\(\) failed \(111: Connection refused\) while connecting to upstream",
        ),
    )
}

#: the faults issue 4 lists, one per cause in the guide (the others are extras)
GUIDE_FAULTS = [
    "healthy",
    "backend-down",
    "backend-crash",
    "backend-slow",
    "gateway-misconfigured",
    "dns-failure",
    "malformed-response",
    "firewall",
]


def fault_lines() -> list[str]:
    width = max(len(n) for n in FAULTS)
    return [f"{f.name:<{width}}  {f.description}" for f in FAULTS.values()]
