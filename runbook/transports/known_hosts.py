"""OpenSSH known_hosts: look up, verify and record host keys, the same way for both transports.

Our own reader (rather than each library's) so that "unknown" and "changed" are told apart
before authentication and the messages are identical whichever transport connects.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class KeyStatus(StrEnum):
    KNOWN = "known"
    UNKNOWN = "unknown"
    CHANGED = "changed"
    REVOKED = "revoked"
    #: known_hosts trusts a certificate authority for this host: runbook does not check host
    #: certificates, so it refuses rather than pin a plain key beside the CA line
    CERT_AUTHORITY = "cert-authority"


@dataclass(frozen=True)
class KnownKey:
    keytype: str
    blob: bytes
    marker: str | None = None  # "@revoked" / "@cert-authority"
    line: int = 0


def entry_name(hostname: str, port: int) -> str:
    """How OpenSSH names a host in known_hosts: `host` on port 22, else `[host]:port`."""
    return hostname.lower() if port == 22 else f"[{hostname.lower()}]:{port}"


def fingerprint(blob: bytes) -> str:
    """OpenSSH's SHA256 fingerprint (`ssh-keygen -lf`)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _glob(pattern: str) -> re.Pattern[str]:
    # OpenSSH patterns know only * and ?; "[host]:port" brackets are literal
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


def _matches(patterns: str, name: str) -> bool:
    if patterns.startswith("|1|"):
        try:
            _, _, salt, digest = patterns.split("|")
            mac = hmac.new(base64.b64decode(salt), name.encode(), hashlib.sha1).digest()
            return hmac.compare_digest(mac, base64.b64decode(digest))
        except ValueError:
            return False
    hit = False
    for pattern in patterns.lower().split(","):
        negated = pattern.startswith("!")
        if _glob(pattern.lstrip("!")).fullmatch(name):
            if negated:
                return False
            hit = True
    return hit


def lookup(path: str, hostname: str, port: int) -> list[KnownKey]:
    """Every key line in `path` that applies to hostname:port (missing file: none)."""
    name = entry_name(hostname, port)
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found = []
    for number, raw in enumerate(text.splitlines(), 1):
        fields = raw.split()
        if not fields or fields[0].startswith("#"):
            continue
        marker = None
        if fields[0].startswith("@"):
            marker, fields = fields[0], fields[1:]
        if len(fields) < 3 or not _matches(fields[0], name):
            continue
        try:
            blob = base64.b64decode(fields[2], validate=True)
        except ValueError:
            continue
        found.append(KnownKey(fields[1], blob, marker, number))
    return found


@dataclass(frozen=True)
class Verdict:
    """What every known_hosts file together says of a key; `path` is the file that decided
    (the one holding the match, the @revoked or CA line, or the other key), else the first."""

    status: KeyStatus
    path: str
    known: tuple[str, ...] = ()  # key types the host is known under, in the deciding file


def verdict(paths: Sequence[str], hostname: str, port: int, keytype: str, blob: bytes) -> Verdict:
    """OpenSSH's reading of several files (user files, then global): a match in any file is
    known, a @revoked line in any file refuses, another key for the host in any file is changed."""
    found = [(path, key) for path in paths for key in lookup(path, hostname, port)]
    first = paths[0] if paths else ""
    for path, key in found:
        if key.marker == "@revoked" and key.blob == blob:
            return Verdict(KeyStatus.REVOKED, path)
    plain = [(path, key) for path, key in found if key.marker is None]
    for path, key in plain:
        if key.blob == blob:
            return Verdict(KeyStatus.KNOWN, path)
    for path, key in found:
        if key.marker == "@cert-authority":
            return Verdict(KeyStatus.CERT_AUTHORITY, path)
    # Another key is known for this host: of the same type, or of a type the server no longer
    # offers (the known types are offered first, as OpenSSH does). Either way it is not the
    # key we know, and --accept-new-host-keys must not add it beside the old one. Name the file
    # with a key of the offered type if there is one (that is the line to remove).
    if plain:
        same = [path for path, key in plain if key.keytype == keytype]
        path = same[0] if same else plain[0][0]
        return Verdict(KeyStatus.CHANGED, path, tuple(k.keytype for p, k in plain if p == path))
    return Verdict(KeyStatus.UNKNOWN, first)


def check(path: str, hostname: str, port: int, keytype: str, blob: bytes) -> KeyStatus:
    return verdict([path], hostname, port, keytype, blob).status


def known_types(paths: str | Sequence[str], hostname: str, port: int) -> list[str]:
    files = [paths] if isinstance(paths, str) else paths
    return [k.keytype for path in files for k in lookup(path, hostname, port) if k.marker is None]


def _hashed(name: str) -> str:
    salt = os.urandom(20)
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


def append(path: str, hostname: str, port: int, keytype: str, blob: bytes) -> None:
    """Record a key, hashed when the file already hashes its names (HashKnownHosts)."""
    p = Path(path)
    p.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        existing = p.read_text(encoding="utf-8", errors="replace")
    except OSError:
        existing = ""
    name = entry_name(hostname, port)
    if any(line.startswith("|1|") for line in existing.splitlines()):
        name = _hashed(name)
    line = f"{name} {keytype} {base64.b64encode(blob).decode()}\n"
    prefix = "\n" if existing and not existing.endswith("\n") else ""
    fd = os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (prefix + line).encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def unknown_message(name: str, where: str, path: str, fp: str) -> str:
    return f"host key for {name} ({where}) is not in {path}: {fp} — run with --accept-new-host-keys to trust it"


def changed_message(name: str, where: str, path: str, keytype: str, fp: str, entry: str) -> str:
    return (
        f"HOST KEY CHANGED for {name} ({where}): {path} holds a different {keytype} key,"
        f" the server now presents {fp}. Someone may be intercepting the connection;"
        f" refusing to connect. If the host was re-keyed on purpose, remove the old key with"
        f" `ssh-keygen -R '{entry}' -f {path}` and verify the new fingerprint out of band."
    )


def other_type_message(name: str, where: str, path: str, known: list[str], keytype: str, fp: str, entry: str) -> str:
    return (
        f"HOST KEY CHANGED for {name} ({where}): {path} holds a {', '.join(sorted(set(known)))} key for it,"
        f" but the server offers none of those and presents a {keytype} key {fp}. OpenSSH treats this as"
        f" a changed key; refusing to connect (even with --accept-new-host-keys). If the host was re-keyed"
        f" on purpose, remove the old key with `ssh-keygen -R '{entry}' -f {path}` and verify the new"
        f" fingerprint out of band."
    )


def cert_authority_message(name: str, where: str, path: str, fp: str) -> str:
    return (
        f"host key for {name} ({where}): {path} trusts a @cert-authority for this host, and runbook does not"
        f" verify host certificates; refusing to connect rather than pin the plain key {fp} beside the CA"
        f" line. Add the host's own key to {path} (after checking it out of band) to use runbook here."
    )


def revoked_message(name: str, where: str, path: str, fp: str) -> str:
    return f"host key for {name} ({where}) is marked @revoked in {path}: {fp}; refusing to connect"
