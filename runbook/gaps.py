"""Which step results are gaps: a check that could not run is never evidence.

A gap is a step whose command did not run to an answer on the host (the connection failed,
the host key was refused, the tool is missing, root was needed, it ran out of time), or a
check whose own command failed where only success means "this was looked at" (`ok_exit`).
Each gap says what to fix, in words an on-call engineer can act on. Pure: no I/O.
"""

from __future__ import annotations

import re
from typing import Any

from runbook.engine import Gap, Observation
from runbook.inventory import Host
from runbook.playbook.model import CheckSpec
from runbook.safety import shell_quote

#: every reason a gap may give, with what it means
REASONS = {
    "unreachable": "the host does not answer on its SSH port",
    "unresolvable": "the host's name does not resolve",
    "timeout": "connecting to the host timed out",
    "auth-refused": "the host refused the login",
    "host-key-unknown": "the host's key is not in known_hosts",
    "host-key-changed": "the host's key differs from the one in known_hosts",
    "channel-refused": "the host refused to run the command",
    "disconnected": "the connection was lost during the command",
    "timed-out": "the command did not finish in time",
    "missing-tool": "a tool the check needs is not installed or not on the PATH",
    "needs-root": "the check needs root, and this login has none",
    "sudo-refused": "sudo refused the command",
    "command-failed": "the command failed, so what it reads was not seen",
    "template": "the command could not be built from the inventory",
    "not-recorded": "the scenario holds no recording of this command",
    "refused": "a mutating step that was not confirmed",
    "error": "the check failed in an unexpected way",
}

NOT_FOUND = re.compile(
    r"(?:^|[\s:])([\w./+-]+): (?:command )?not found|(?:^|\s)([\w./+-]+): No such file or directory$", re.M
)
PERMISSION = re.compile(r"Permission denied|Operation not permitted|must be root|you must be root", re.I)
SUDO_REFUSED = re.compile(r"is not in the sudoers file|is not allowed to (?:run|execute)|sudo: .*: command not allowed")
UNRESOLVABLE = re.compile(
    r"Name or service not known|Temporary failure in name resolution|nodename nor servname|No address associated", re.I
)


def classify(obs: Observation, check: CheckSpec, host: Host | None) -> Gap | None:
    """The gap this result is, or None when it is evidence."""
    reason, message = _reason(obs, check)
    if reason is None:
        return None
    return Gap(
        node=obs.node,
        check=obs.check,
        host=obs.host,
        reason=reason,
        message=message,
        fix=fix_for(reason, obs, host, message),
        step_id=obs.step_id,
    )


def is_gap(obs: Observation, check: CheckSpec) -> bool:
    """True when the result is a gap (no parser should read its output)."""
    return _reason(obs, check)[0] is not None


def connection_gap(node: str, host: Host, kind: str, message: str) -> Gap:
    """The gap for a login that failed before any check ran (the walk's access check)."""
    obs = Observation(step_id="", node=node, check="login", host=host.name, command="true")
    obs.error = {"kind": kind, "message": message}
    reason, text = _reason(obs, CheckSpec(id="login", on="any", shell="true"))
    reason = reason or "error"
    return Gap(
        node=node,
        check="login",
        host=host.name,
        reason=reason,
        message=text,
        fix=fix_for(reason, obs, host, text),
        step_id=None,
    )


def _tail(text: str, limit: int = 300) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


def _reason(obs: Observation, check: CheckSpec) -> tuple[str | None, str]:
    if obs.error:
        kind = str(obs.error.get("kind") or "error")
        message = str(obs.error.get("message") or kind)
        if kind == "unreachable" and UNRESOLVABLE.search(message):
            kind = "unresolvable"
        return (kind if kind in REASONS else "error"), message
    # local probes (httpx, dnspython, a socket) have no shell: what they report is the answer
    if not runs_on_host(check):
        return None, ""
    output = "\n".join(p for p in (obs.stderr, obs.stdout) if p)
    if obs.exit_status in (126, 127):
        return "missing-tool", _missing_tool_message(obs, output)
    if check.shell is not None and obs.timed_out:
        return "timed-out", f"{obs.command} gave no answer within {obs.duration_s:.1f}s"
    if obs.exit_status not in (0, None):
        if SUDO_REFUSED.search(output):
            return "sudo-refused", _tail(output)
        if check.ok_exit is not None and obs.exit_status not in check.ok_exit:
            if PERMISSION.search(output):
                return "needs-root", _tail(output)
            return "command-failed", f"exit {obs.exit_status}: {_tail(output) or 'no output'}"
        if check.shell is not None and check.sudo and PERMISSION.search(output):
            return "needs-root", _tail(output)
    return None, ""


def runs_on_host(check: CheckSpec) -> bool:
    """True when the check is a command on its host (shell; http by curl, dns by getent, tcp
    by bash there), false for the local probes (httpx, dnspython, a socket)."""
    if check.http is not None:
        return (check.http.via or ("local" if check.on == "local" else "host")) == "host"
    return check.shell is not None or check.on != "local"


def _missing_tool_message(obs: Observation, output: str) -> str:
    tool = missing_tool(output)
    return f"{tool} is not installed or not on the PATH" + (f": {_tail(output, 200)}" if output else "")


def missing_tool(output: str) -> str:
    """The name of the tool a shell could not find (`sh: 1: nginx: not found`), or "a tool"."""
    for m in NOT_FOUND.finditer(output):
        name = m.group(1) or m.group(2) or ""
        if name and not name.isdigit() and name not in ("sh", "bash", "1"):
            return name.rsplit("/", 1)[-1]
    return "a tool"


def fix_for(reason: str, obs: Observation, host: Host | None, message: str = "") -> str:
    """What the engineer does so that the check can run next time."""
    name = obs.host
    address = host.address if host else name
    port = host.port if host else 22
    user = (host.user if host else None) or "the login user"
    where = (host.origin.get("address") if host else None) or "the inventory"
    target = address if port == 22 else f"[{address}]:{port}"
    fixes: dict[str, str] = {
        "unreachable": f"check that {name} is up and sshd listens on {address}:{port}; "
        f"if the address is wrong, fix `address:` of {name} in {where}",
        "unresolvable": f"{address} does not resolve here: fix `address:` of {name} in {where} "
        f"(or the DNS record / ssh_config alias)",
        "timeout": f"nothing answered {address}:{port} in time: check that {name} is up and reachable "
        f"from here (routing, firewall), or fix `address:` of {name} in {where}",
        "auth-refused": f"check the login for {name}: user {user}, key "
        f"{(host.identity_file if host else None) or '(default)'}; try "
        f"`ssh -p {port} {shell_quote(f'{user}@{address}')} true`",
        "host-key-unknown": f"verify the key out of band, e.g. `ssh-keyscan -p {port} {shell_quote(address)} "
        f"| ssh-keygen -lf -` and compare the fingerprint with the host's own "
        f"(`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on its console), then run again with "
        f"--accept-new-host-keys (or accept it in the TUI)",
        "host-key-changed": f"do not connect until you know why the key changed; after verifying the new key "
        f"out of band, run `ssh-keygen -R {shell_quote(target)}` and connect again",
        "channel-refused": f"sshd on {name} refused a session (MaxSessions?); run again when it has capacity",
        "disconnected": f"the connection to {name} dropped mid-command; run the step again (e)",
        "timed-out": f"raise the check's timeout or look at {name}'s load; run the step again (e)",
        "missing-tool": f"install {missing_tool(message)} on {name} or put it on the PATH of {user}'s login shell",
        "needs-root": f"log in to {name} as root or give {user} passwordless sudo (`sudo -n`) for this command",
        "sudo-refused": f"allow {user} to run this command with sudo on {name} (sudoers), or log in as root",
        "command-failed": f"run `{obs.command}` on {name} by hand and fix what it reports",
        "template": "set the missing value in the inventory's vars for this host",
        "not-recorded": "this recorded scenario cannot answer that step; it is not evidence",
        "refused": "confirm the step to run it (it changes the host)",
        "error": f"run the step again (e); if it fails again, run `{obs.command}` on {name} by hand",
    }
    return fixes.get(reason, fixes["error"])


def not_seen(missing: list[dict[str, Any]]) -> str:
    """What could not be seen, why, and the fix: one block per host (stderr, TUI, report)."""
    by_host: dict[str, list[dict[str, Any]]] = {}
    for m in missing:
        by_host.setdefault(str(m.get("host") or "-"), []).append(m)
    lines = ["what could not be seen:"]
    for host, items in by_host.items():
        checks = ", ".join(dict.fromkeys(str(m.get("need")) for m in items))
        first = items[0]
        lines.append(f"  {host}: {checks}: {first.get('reason')}: {first.get('message')}")
        fixes = dict.fromkeys(str(m.get("fix")) for m in items if m.get("fix"))
        lines += [f"    fix: {f}" for f in fixes]
    return "\n".join(lines)
