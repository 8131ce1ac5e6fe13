"""`runbook inventory -i SRC [--json]`: every host as runbook will connect to it, and where each
value came from. The JSON is a contract (README, "runbook inventory --json"); change it only
additively."""

from __future__ import annotations

import json
import time
from typing import Any

from runbook.inventory.model import Host, Inventory
from runbook.inventory.ssh_config import Endpoint, SSHConfigError, SSHResolver

FORMAT = 1


def hop(ep: Endpoint) -> dict[str, Any]:
    return {
        "name": ep.name,
        "alias": ep.alias,
        "hostname": ep.hostname,
        "port": ep.port,
        "user": ep.user,
        "identity_files": list(ep.identity_files),
        "known_hosts": list(ep.known_hosts_files or (ep.known_hosts,)),
        "proxy_command": ep.proxy_command,
        "sources": dict(ep.sources),
    }


def describe(inventory: Inventory, ssh: SSHResolver | None = None) -> tuple[dict[str, Any], list[str]]:
    """(the JSON document, problems as file:line messages)."""
    ssh = ssh or SSHResolver()
    problems: list[str] = []
    hosts: list[dict[str, Any]] = []
    started = time.perf_counter()
    for host in inventory.hosts.values():
        entry = host_entry(host, ssh, problems)
        hosts.append(entry)
    elapsed = time.perf_counter() - started
    doc = {
        "format": FORMAT,
        "source": inventory.source,
        "reader": inventory.reader,
        "ssh_config_reader": ssh.reader,
        "warnings": list(inventory.warnings),
        "vars": inventory.vars,
        "hosts": hosts,
        "resolution": {
            "hosts": len(hosts),
            "seconds": round(elapsed, 4),
            "ssh_g_calls": ssh.ssh_g.calls,
            "ssh_g_seconds": round(ssh.ssh_g.seconds, 4),
        },
    }
    return doc, problems


def host_entry(host: Host, ssh: SSHResolver, problems: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": host.name,
        "address": host.address,
        "roles": list(host.roles),
        "vars": host.vars,
        "sudo": host.sudo,
        "password_env": host.password_env,
        "origin": dict(host.origin),
    }
    try:
        ep = ssh.resolve_host(host, explain=True)
    except SSHConfigError as exc:
        problems.append(f"{exc}" if ":" in str(exc).split(" ")[0] else f"{host.name}: {exc}")
        entry["error"] = str(exc)
        return entry
    entry.update(
        hostname=ep.hostname,
        port=ep.port,
        user=ep.user,
        identity_files=list(ep.identity_files),
        jump=[hop(h) for h in ep.chain()],
        proxy_command=ep.proxy_command,
        known_hosts=list(ep.known_hosts_files or (ep.known_hosts,)),
        global_known_hosts=list(ep.global_known_hosts),
        strict_host_key_checking=ep.strict_host_key_checking,
        sources={**ep.sources, "roles": host.origin.get("roles", ""), "address": host.origin.get("address", "")},
    )
    return entry


def render_text(doc: dict[str, Any]) -> str:
    head = f"{doc['source']}: {len(doc['hosts'])} hosts, read by {doc['reader']}"
    lines = [f"{head}; ssh settings from {doc['ssh_config_reader']}"]
    for w in doc["warnings"]:
        lines.append(f"warning: {w}")
    for h in doc["hosts"]:
        lines.append("")
        lines.append(f"{h['name']}  roles: {', '.join(h['roles']) or '-'}")
        if "error" in h:
            lines.append(f"  error: {h['error']}")
            continue
        src = h["sources"]

        def row(label: str, value: str, key: str, src: dict[str, str] = src) -> None:
            lines.append(f"  {label:<12} {value:<40} {src.get(key, '')}")

        row("address", h["address"], "address")
        row("hostname", h["hostname"], "hostname")
        row("port", str(h["port"]), "port")
        row("user", h["user"], "user")
        row("identity", ", ".join(h["identity_files"]) or "(ssh defaults, agent)", "identity_files")
        chain = " -> ".join(f"{j['user']}@{j['hostname']}:{j['port']}" for j in h["jump"])
        if chain:
            row("jump", chain, "jump")
        if h["proxy_command"]:
            row("proxy", h["proxy_command"], "proxy_command")
        row("known_hosts", " ".join(h["known_hosts"]), "known_hosts")
        row("host keys", h["strict_host_key_checking"], "strict_host_key_checking")
        if h["vars"]:
            shown = ", ".join(f"{k}={v}" for k, v in h["vars"].items())
            lines.append(f"  {'vars':<12} {shown}")
    r = doc["resolution"]
    lines.append("")
    lines.append(
        f"resolved {r['hosts']} hosts in {r['seconds'] * 1000:.1f} ms"
        f" ({r['ssh_g_calls']} ssh -G calls, {r['ssh_g_seconds'] * 1000:.1f} ms)"
    )
    return "\n".join(lines) + "\n"


def render_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"
