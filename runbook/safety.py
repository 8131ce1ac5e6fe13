"""Make untrusted text safe: terminal sanitising, secret redaction, Markdown fences, quoting.

Everything a remote host (or a user) hands us goes through `sanitize` before it reaches a
screen and through `sanitize` + `redact` before it reaches a report. Plain module: no
textual, no rich.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable

REDACTED = "[REDACTED]"

# --- sanitising -------------------------------------------------------------------------------

# Escape sequences, 7-bit (ESC-introduced) and 8-bit (C1-introduced) forms. Order matters:
# the specific forms come first, a lone ESC is the fallback so nothing starting with ESC survives.
_ST = r"(?:\x1b\\|\x9c|\x07)"  # string terminator (BEL is accepted by xterm for OSC)
_ESCAPES = re.compile(
    "|".join(
        [
            r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]",  # CSI: parameters, intermediates, final byte
            r"(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*" + _ST,  # OSC: titles, OSC 52 clipboard writes
            r"(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*" + _ST,  # DCS/SOS/PM/APC
            r"\x1b[ -/]*[0-~]",  # two-char and nF sequences: ESC 7, ESC ( B, ESC # 8 ...
            r"\x1b",  # anything else: drop the ESC itself, what follows is inert text
        ]
    )
)
# C0 except \t \n (\r and \b are resolved by _overprint first), DEL, C1, bidi overrides/isolates.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")


def _overprint(line: str) -> str:
    """What a terminal shows for one line containing \\r (back to column 0) and \\b."""
    if "\r" not in line and "\b" not in line:
        return line
    cells: list[str] = []
    col = 0
    for ch in line:
        if ch == "\r":
            col = 0
        elif ch == "\b":
            col = max(0, col - 1)
        else:
            if col < len(cells):
                cells[col] = ch
            else:
                cells.append(ch)
            col += 1
    return "".join(cells)


def sanitize(text: str) -> str:
    """Strip escape sequences and control characters; resolve carriage-return overprinting."""
    text = _ESCAPES.sub("", text)
    text = text.replace("\r\n", "\n")
    if "\r" in text or "\b" in text:
        text = "\n".join(_overprint(line) for line in text.split("\n"))
    return _CONTROLS.sub("", text)


def decode(data: bytes) -> str:
    """Bytes from a host -> safe text (invalid UTF-8 becomes U+FFFD)."""
    return sanitize(data.decode("utf-8", errors="replace"))


# --- redaction --------------------------------------------------------------------------------

_Sub = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]

# Key names whose values are secrets; a key only has to contain one (DB_PASSWORD, X-Auth-Token).
_SECRET_KEY = (
    r"[\w.-]*?(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key"
    r"|private[_-]?key|credentials?)[\w.-]*"
)
_KEY_VALUE = re.compile(
    r"(?i)(?P<q>[\"']?)(?P<key>" + _SECRET_KEY + r")(?P=q)(?P<sep>[ \t]*[:=][ \t]*)"
    r"(?P<scheme>(?:bearer|basic|token|digest)[ \t]+)?"
    r"(?:(?P<dq>\"(?:[^\"\\\n]|\\.)*\")|(?P<sq>'[^'\n]*')|(?P<bare>[^\s,;&'\"{}<>]+))"
)


def _key_value(m: re.Match[str]) -> str:
    head = m.group("q") + m.group("key") + m.group("q") + m.group("sep") + (m.group("scheme") or "")
    if m.group("dq") is not None:
        return f'{head}"{REDACTED}"'
    if m.group("sq") is not None:
        return f"{head}'{REDACTED}'"
    return head + REDACTED


def _auth_header(m: re.Match[str]) -> str:
    # Keep the scheme (Bearer, Basic, ...) visible: it helps the reader, it is not a secret.
    scheme = m.group("scheme")
    return m.group("head") + (scheme + " " if scheme else "") + REDACTED


def _cookie_header(m: re.Match[str]) -> str:
    # Keep cookie names and Set-Cookie attributes; hide the values.
    head, value = m.group("head"), m.group("value")
    first, *rest = value.split(";")
    # Set-Cookie: name=value first, then attributes (Path, Expires, ...) that are not secret.
    rest = rest if m.group("set") else [_cookie_pair(p) for p in rest]
    return head + ";".join([_cookie_pair(first), *rest])


def _cookie_pair(pair: str) -> str:
    name, eq, value = pair.partition("=")
    if not eq:
        return REDACTED if name.strip() else pair
    return f"{name}={REDACTED}" if value.strip() else pair


def _private_key(m: re.Match[str]) -> str:
    end = m.group("end")
    return f"-----BEGIN {m.group('kind')}-----\n{REDACTED}" + (f"\n{end}" if end else "")


_REDACTIONS: list[_Sub] = [
    (
        re.compile(
            r"-----BEGIN (?P<kind>[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----.*?"
            r"(?:(?P<end>-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)|\Z)",
            re.DOTALL,
        ),
        _private_key,
    ),
    (
        re.compile(
            r"(?i)(?P<head>\b(?:proxy-)?authorization[\"']?[ \t]*[:=][ \t]*[\"']?)"
            r"(?:(?P<scheme>[a-z][\w-]*)[ \t]+)?(?P<value>[^\s'\"][^\r\n'\"]*)"
        ),
        _auth_header,
    ),
    (
        re.compile(r"(?i)(?P<head>\b(?P<set>set-)?cookie[\"']?[ \t]*:[ \t]*[\"']?)(?P<value>[^\r\n'\"]+)"),
        _cookie_header,
    ),
    # URL userinfo: keep the user, hide the password.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):[^/\s@]+@"), r"\1:" + REDACTED + "@"),
    (_KEY_VALUE, _key_value),
    # Well-known token shapes, wherever they appear.
    (re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"), REDACTED),
    (re.compile(r"(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{20,}"), REDACTED),
    (re.compile(r"(?<![A-Za-z0-9])github_pat_[A-Za-z0-9_]{20,}"), REDACTED),
    (re.compile(r"(?<![A-Za-z0-9])xox[baprs]-[A-Za-z0-9-]{10,}"), REDACTED),
    (re.compile(r"(?<![A-Za-z0-9_-])eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*"), REDACTED),
    # "token abc...", "Bearer abc..." outside a header: long opaque strings after the word.
    (
        re.compile(r"(?i)\b((?:bearer|token)[ \t]+)[A-Za-z0-9._~+/-]{16,}=*"),
        r"\1" + REDACTED,
    ),
]


def _redact_once(text: str) -> str:
    for pattern, repl in _REDACTIONS:
        text = pattern.sub(repl, text)
    return text


def redact(text: str) -> str:
    """Replace secrets with [REDACTED], keeping the text around them. Idempotent."""
    # The rules are designed not to feed each other, but re-applying until nothing changes
    # makes idempotence a guarantee rather than a hope.
    for _ in range(5):
        new = _redact_once(text)
        if new == text:
            break
        text = new
    return text


def clean(value: object) -> str:
    """Untrusted value -> text fit for a report: sanitised, then redacted."""
    return redact(sanitize(str(value)))


# --- Markdown and shell -----------------------------------------------------------------------

_BACKTICK_RUN = re.compile(r"`+")


def fence(text: str, info: str = "") -> str:
    """A fenced code block that the text cannot close early, ending with a newline."""
    longest = max((len(run) for run in _BACKTICK_RUN.findall(text)), default=0)
    marker = "`" * max(3, longest + 1)
    # An info string of a backtick fence may not contain backticks or line breaks.
    info = re.sub(r"[`\s]+", " ", info).strip()
    body = text if not text or text.endswith("\n") else text + "\n"
    return f"{marker}{info}\n{body}{marker}\n"


def shell_quote(value: object) -> str:
    return shlex.quote(str(value))


def excerpt(text: str, max_lines: int = 40, max_chars: int = 4000) -> str:
    """Head and tail of `text` within max_lines lines and (for max_chars >= 100) max_chars chars."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    if len(lines) <= max_lines and len(text) <= max_chars:
        return text
    # One very long line (minified JSON, a binary dump) must not eat the whole budget.
    width = max(40, max_chars // 4)
    clipped = [ln if len(ln) <= width else f"{ln[:width]}… (+{len(ln) - width} chars)" for ln in lines]
    budget = max_chars - 40  # room for the marker line
    slots = max(0, max_lines - 1)
    head: list[str] = []
    tail: list[str] = []
    used = 0
    i, j = 0, len(clipped) - 1
    take_head = True
    while i <= j and len(head) + len(tail) < slots:
        line = clipped[i] if take_head else clipped[j]
        if used + len(line) + 1 > budget:
            break
        used += len(line) + 1
        if take_head:
            head.append(line)
            i += 1
        else:
            tail.append(line)
            j -= 1
        take_head = not take_head
    omitted = j - i + 1
    middle = [f"… {omitted} lines omitted …"] if omitted > 0 else []
    return "\n".join(head + middle + tail[::-1])
