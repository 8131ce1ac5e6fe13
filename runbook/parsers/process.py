"""Small parsers for process, socket, name-resolution and curl output on a host."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

#: curl -w format the playbook uses (curl expands the \n itself). The body comes first, then
#: one marker line that parse_curl_w reads; every variable exists since curl 7.29.
CURL_WRITE_OUT = (
    r"\nRBCURL code=%{http_code} connect=%{time_connect} ttfb=%{time_starttransfer}"
    r" total=%{time_total} dns=%{time_namelookup} size=%{size_download}"
    r" remote=%{remote_ip}:%{remote_port}\n"
)

_USERS_RE = re.compile(r'\("([^"]*)",pid=(\d+)')


def _split_addr(local: str) -> tuple[str, int | None]:
    """'0.0.0.0:80', '*:80', '[::]:80', ':::80', '127.0.0.53%lo:53' -> (address, port)."""
    addr, _, port = local.rpartition(":")
    if addr.startswith("[") and addr.endswith("]"):
        addr = addr[1:-1]
    addr = addr.split("%", 1)[0]  # drop the interface scope
    if addr in ("*", "", "::"):
        addr = "*" if addr != "::" else "::"
    return addr, int(port) if port.isdigit() else None


def parse_ss_listen(text: str) -> list[dict[str, Any]]:
    """Listening TCP sockets from `ss -ltnp[H]` or `netstat -ltnp`."""
    out: list[dict[str, Any]] = []
    for line in (text or "").splitlines():
        parts = line.split()
        if not parts:
            continue
        try:
            if parts[0] == "LISTEN" and len(parts) >= 4:  # ss
                address, port = _split_addr(parts[3])
                users = _USERS_RE.findall(line)
                out.append(
                    {
                        "address": address,
                        "port": port,
                        "process": users[0][0] if users else None,
                        "pid": int(users[0][1]) if users else None,
                        "pids": sorted({int(p) for _, p in users}),
                        # a listener's Recv-Q is its accept queue now, Send-Q the queue's limit
                        "queued": int(parts[1]) if parts[1].isdigit() else None,
                        "backlog": int(parts[2]) if parts[2].isdigit() else None,
                    }
                )
            elif parts[0] in ("tcp", "tcp6") and "LISTEN" in parts:  # netstat
                address, port = _split_addr(parts[3])
                prog = parts[parts.index("LISTEN") + 1 :]
                pid = name = None
                if prog and "/" in prog[0]:
                    pid_s, _, name = " ".join(prog).partition("/")
                    pid = int(pid_s) if pid_s.isdigit() else None
                out.append(
                    {
                        "address": address,
                        "port": port,
                        "process": name or None,
                        "pid": pid,
                        "pids": [pid] if pid else [],
                        "queued": None,
                        "backlog": None,
                    }
                )
        except (ValueError, IndexError):
            continue
    return out


def parse_pgrep(text: str) -> list[dict[str, Any]]:
    """`pgrep -a NAME` (or `ps -eo pid,args`) -> [{"pid", "command"}]."""
    out = []
    for line in (text or "").splitlines():
        m = re.match(r"^\s*(\d+)\s+(.*\S)\s*$", line)
        if m:
            out.append({"pid": int(m.group(1)), "command": m.group(2)})
    return out


def parse_getent(text: str) -> dict[str, Any]:
    """`getent ahosts NAME` / `getent hosts NAME` -> addresses (in order, once) and names."""
    addresses: list[str] = []
    names: list[str] = []
    for line in (text or "").splitlines():
        parts = line.split()
        if not parts:
            continue
        try:
            ipaddress.ip_address(parts[0])
        except ValueError:
            continue
        if parts[0] not in addresses:
            addresses.append(parts[0])
        rest = parts[1:]
        if rest and rest[0] in ("STREAM", "DGRAM", "RAW"):
            rest = rest[1:]
        for n in rest:
            if n not in names:
                names.append(n)
    return {"addresses": addresses, "names": names}


def _num(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def parse_curl_w(text: str) -> dict[str, Any]:
    """Output of `curl ... -w CURL_WRITE_OUT` (stderr may be mixed in) -> code, timings, body.

    http_code is None when curl got no response (it prints 000); curl's own error line
    ("curl: (7) Failed to connect ...") is returned as curl_error.
    """
    text = text or ""
    result: dict[str, Any] = {
        "http_code": None,
        "connect_s": None,
        "ttfb_s": None,
        "total_s": None,
        "dns_s": None,
        "size": None,
        "remote": None,
        "body": text,
        "curl_error": None,
        "marker": False,
    }
    idx = text.rfind("RBCURL ")
    if idx >= 0 and (idx == 0 or text[idx - 1] == "\n"):
        line_end = text.find("\n", idx)
        marker = text[idx : line_end if line_end >= 0 else len(text)]
        body = text[:idx]
        result["body"] = body[:-1] if body.endswith("\n") else body
        result["marker"] = True
        fields = dict(re.findall(r"(\w+)=(\S*)", marker))
        code = fields.get("code", "")
        if code.isdigit() and int(code) > 0:
            result["http_code"] = int(code)
        result["connect_s"] = _num(fields.get("connect"))
        result["ttfb_s"] = _num(fields.get("ttfb"))
        result["total_s"] = _num(fields.get("total"))
        result["dns_s"] = _num(fields.get("dns"))
        size = _num(fields.get("size"))
        result["size"] = int(size) if size is not None else None
        remote = fields.get("remote")
        result["remote"] = remote if remote and remote not in (":", ":0") else None
    if m := re.search(r"^curl: \((\d+)\) (.*)$", text, re.M):
        result["curl_error"] = {"code": int(m.group(1)), "message": m.group(2).strip()}
    return result
