"""Make untrusted text safe: terminal sanitising, secret redaction, Markdown fences, quoting.

Everything a remote host (or a user) hands us goes through `sanitize` before it reaches a
screen and through `sanitize` + `redact` before it reaches a report. Plain module: no
textual, no rich.
"""

from __future__ import annotations

import functools
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO

REDACTED = "[REDACTED]"

# --- sanitising -------------------------------------------------------------------------------

# Escape sequences, 7-bit (ESC-introduced) and 8-bit (C1-introduced) forms. Order matters:
# the specific forms come first, a lone ESC is the fallback so nothing starting with ESC survives.
# Linear time: a string body stops at any ESC, BEL or C1 character, and every introducer is one
# of those, so a failed match never rescans past the next candidate start (a flood of U+009D
# without terminators used to make each one scan to the end of the text).
_ST = r"(?:\x1b\\|\x9c|\x07)"  # string terminator (BEL is accepted by xterm for OSC)
_BODY = r"[^\x07\x1b\x80-\x9f]*+"
_ESCAPES = re.compile(
    "|".join(
        [
            r"(?:\x1b\[|\x9b)[0-?]*+[ -/]*+[@-~]",  # CSI: parameters, intermediates, final byte
            r"(?:\x1b\]|\x9d)" + _BODY + _ST,  # OSC: titles, OSC 52 clipboard writes
            r"(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])" + _BODY + _ST,  # DCS/SOS/PM/APC
            r"\x1b[ -/]*+[0-~]",  # two-char and nF sequences: ESC 7, ESC ( B, ESC # 8 ...
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
#
# Two layers. detect-secrets (a maintained detector) finds keyword assignments, AWS, Stripe,
# Slack, basic-auth URLs, private keys and high-entropy strings, line by line; our own rules
# below cover headers, cookies, multi-line key blocks and the shell forms it does not know
# (`mysql -pSECRET`, `--password SECRET`, `DB_PASS=...`, `.netrc`, URL-encoded `password%3D`).
# Every pattern runs in linear time: a key is only matched from the start of a word and with
# possessive quantifiers, so a long run of word characters cannot make it backtrack.

_Sub = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]

# Key names whose values are secrets; a key only has to contain one (DB_PASSWORD, X-Auth-Token,
# DB_PASS, MYSQL_PWD).
_SECRET_WORD = (
    r"(?:password|passwd|passphrase|pass(?![a-z])|pwd(?![a-z])|secret|token|api[_-]?key|access[_-]?key"
    r"|private[_-]?key|credentials?)"
)
# nginx's upstream directives end in "_pass" and name where requests go: the evidence of a 502
_NOT_SECRET = r"(?:proxy|fastcgi|grpc|memcached|scgi|uwsgi)_pass(?![\w.-])"
_SECRET_KEY = r"(?<![\w.-])(?!" + _NOT_SECRET + r")(?=[\w.-]*?" + _SECRET_WORD + r")[\w.-]++"
_KEY_VALUE = re.compile(
    r"(?i)(?P<q>[\"']?)(?P<key>" + _SECRET_KEY + r")(?P=q)(?P<sep>[ \t]*+(?::=|[:=]|%3[ad])[ \t]*+)"
    r"(?P<scheme>(?:bearer|basic|token|digest)[ \t]+)?"
    r"(?:(?P<dq>\"(?:[^\"\\\n]|\\.)*+\")|(?P<sq>'[^'\n]*+')|(?P<bare>(?!=)[^\s,;&'\"{}<>]++))"
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


def _keep_head(m: re.Match[str]) -> str:
    return m.group("head") + REDACTED


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
    # Slack incoming webhooks: the whole URL is the credential.
    (re.compile(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]++"), REDACTED),
    # URL userinfo: keep the user, hide the password.
    (re.compile(r"(?i)(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*+://[^/\s:@]*+):[^/\s@]++@"), r"\1:" + REDACTED + "@"),
    (_KEY_VALUE, _key_value),
    # Shell forms: `--password SECRET`, `--db-pass SECRET`, `-p SECRET` is left alone (it is a port
    # or a pid far more often), `mysql -pSECRET` (the password glued to -p).
    (
        re.compile(
            r"(?i)(?P<head>(?<![\w-])(?:--[\w-]*?|-)(?:password|passwd|pass|pwd|secret|token|api-?key)"
            r"[ \t]++)(?![-\[])[^\s'\"]++"
        ),
        _keep_head,
    ),
    (
        re.compile(r"(?P<head>\b(?:mysql\w*+|mariadb\w*+)\b(?:[ \t]++(?!-p)\S++){0,12}?[ \t]++-p)(?![\s\[])\S++"),
        _keep_head,
    ),
    # .netrc: `machine h login u password SECRET`, or `password SECRET` alone on its line.
    (re.compile(r"(?m)(?P<head>(?:\blogin[ \t]++\S++[ \t]++|^[ \t]*+)password[ \t]++)(?!\[)\S++"), _keep_head),
    # Well-known token shapes, wherever they appear.
    (re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"), REDACTED),
    (re.compile(r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{30,}"), REDACTED),  # 39 long; copies get cut
    (re.compile(r"(?<![A-Za-z0-9])[sr]k_(?:live|test)_[0-9A-Za-z]{10,}"), REDACTED),
    (re.compile(r"(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{20,}"), REDACTED),
    (re.compile(r"(?<![A-Za-z0-9])github_pat_[A-Za-z0-9_]{20,}"), REDACTED),
    (re.compile(r"(?<![A-Za-z0-9])xox[baprs]-[A-Za-z0-9-]{10,}"), REDACTED),
    (re.compile(r"(?<![A-Za-z0-9_-])eyJ[\w-]++\.eyJ[\w-]++\.[\w-]*+"), REDACTED),
    # "token abc...", "Bearer abc..." outside a header: long opaque strings after the word.
    (
        re.compile(r"(?i)\b((?:bearer|token)[ \t]+)[A-Za-z0-9._~+/-]{16,}=*"),
        r"\1" + REDACTED,
    ),
]


@functools.cache
def _detectors() -> tuple[re.Pattern[str], list[Any], list[Any]]:
    """detect-secrets plugins, loaded on first use (importing them costs a quarter second).

    Returns a cheap pre-filter for the keyword plugin (the slow one, about 1 MB/s), the keyword
    plugin list, and the plugins run on every line (in the order of _PLUGIN_WORDS).
    """
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.basic_auth import BasicAuthDetector
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString, HexHighEntropyString
    from detect_secrets.plugins.keyword import DENYLIST, KeywordDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector
    from detect_secrets.plugins.slack import SlackDetector
    from detect_secrets.plugins.stripe import StripeDetector

    keyword_hint = re.compile("|".join(DENYLIST), re.IGNORECASE)
    every_line = [
        AWSKeyDetector(),
        StripeDetector(),
        SlackDetector(),
        BasicAuthDetector(),
        PrivateKeyDetector(),
        Base64HighEntropyString(limit=4.5),
        HexHighEntropyString(limit=3.0),
    ]
    return keyword_hint, [KeywordDetector()], every_line


def warm_up() -> None:
    """Load the detectors ahead of the first text that needs them (a UI calls this off its thread)."""
    _detectors()


# detect-secrets reports what it found, not where: its values are replaced in their line.
# PrivateKeyDetector reports the header text itself ("BEGIN RSA PRIVATE KEY"), which our own
# block rule already handles; a value shorter than this is too common a substring to replace.
_MIN_DETECTED = 4
_KEYWORD_REACH = 100
_KEYWORD_STEP = 60
_KEYWORD_WINDOWS = 200
_QUOTE = re.compile("[\"'`]")
# Lower-case words without which each every-line plugin cannot find anything (AWS key prefixes,
# Stripe, Slack, a URL with userinfo, a key header, a quoted string for the entropy plugins).
_PLUGIN_WORDS: list[tuple[str, ...]] = [
    ("akia", "asia", "abia", "acca", "a3t", "aws"),
    ("k_live_",),
    ("xox", "hooks.slack.com"),
    ("@",),
    ("private key", "begin"),
    ("'", '"'),
    ("'", '"'),
]
_KEYWORD_WORDS = ("key", "pass", "pwd", "secret", "contrase")


def _replace_detected(line: str, values: set[str]) -> str:
    values = {v for v in values if len(v) >= _MIN_DETECTED and "PRIVATE KEY" not in v and v != REDACTED}
    if not values:
        return line
    # Never rewrite inside an existing marker, so redaction stays idempotent.
    parts = line.split(REDACTED)
    for value in sorted(values, key=len, reverse=True):
        parts = [p.replace(value, REDACTED) for p in parts]
    return REDACTED.join(parts)


def _found(plugin: Any, line: str) -> Iterator[str]:
    limit = getattr(plugin, "entropy_limit", None)
    for value in plugin.analyze_string(line):
        # the entropy plugins yield every quoted string; their limit applies on top
        if isinstance(value, str) and (limit is None or plugin.calculate_shannon_entropy(value) > limit):
            yield value


def _detect(text: str) -> str:
    # plugins whose words are nowhere in the text are not run on any of its lines (nor loaded:
    # a plain terminal line does not pay for importing detect-secrets)
    low = text.lower()
    wanted = [any(w in low for w in words) for words in _PLUGIN_WORDS]
    use_keyword = any(w in low for w in _KEYWORD_WORDS)
    if not any(wanted) and not use_keyword:
        return text
    keyword_hint, keyword, every_line = _detectors()
    plugins = [p for p, want in zip(every_line, wanted, strict=True) if want]
    if not use_keyword:
        keyword = []
    lines = text.split("\n")
    budget = _KEYWORD_WINDOWS
    for i, line in enumerate(lines):
        if not line:
            continue
        found: set[str] = set()
        for plugin in plugins:
            found.update(_found(plugin, line))
        # The keyword plugin backtracks badly on lines full of keywords ('password' * 1000 takes
        # minutes), so it only sees a short window around a keyword that has a quote after it
        # (its patterns require one), at most one window per _KEYWORD_STEP characters and
        # _KEYWORD_WINDOWS per text. Past that budget our own key/value rule still applies.
        resume = 0
        for hit in keyword_hint.finditer(line) if keyword else ():
            if budget <= 0:
                break
            if hit.start() < resume:
                continue
            window = line[max(0, hit.start() - 30) : hit.end() + _KEYWORD_REACH]
            resume = hit.end() + _KEYWORD_STEP
            if not _QUOTE.search(window):
                continue
            budget -= 1
            for plugin in keyword:
                found.update(_found(plugin, window))
        if found:
            lines[i] = _replace_detected(line, found)
    return "\n".join(lines)


# Literal words (lower case) without which a rule cannot match, aligned with _REDACTIONS: the
# text is lowered once and a rule whose words are all absent is skipped. Most output holds no
# secret, so this spares trying each pattern at every position.
_SECRET_WORDS = ("pass", "pwd", "secret", "token", "key", "credential")
_RULE_WORDS: list[tuple[str, ...]] = [
    ("private key",),
    ("authorization",),
    ("cookie",),
    ("hooks.slack.com",),
    ("://",),
    _SECRET_WORDS,
    _SECRET_WORDS,
    ("mysql", "mariadb"),
    ("password",),
    ("akia", "asia"),
    ("aiza",),
    ("k_live_", "k_test_"),
    ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ("github_pat_",),
    ("xox",),
    ("eyj",),
    ("bearer", "token"),
]
assert len(_RULE_WORDS) == len(_REDACTIONS)


def _redact_once(text: str) -> str:
    low = text.lower()  # a substitution only adds [REDACTED], which holds none of the words
    for (pattern, repl), words in zip(_REDACTIONS, _RULE_WORDS, strict=True):
        if any(w in low for w in words):
            text = pattern.sub(repl, text)
    return _detect(text)


def redact(text: str) -> str:
    """Replace secrets with [REDACTED], keeping the text around them. Idempotent, linear time."""
    # The rules are designed not to feed each other, but re-applying until nothing changes
    # makes idempotence a guarantee rather than a hope.
    for _ in range(5):
        new = _redact_once(text)
        if new == text:
            break
        text = new
    return text


# What a report can show of one value: the head and the tail of it. A 10 MB output or a 200 KB
# note is cut to this before the (linear but not free) redaction, so re-rendering a report costs
# the same whatever a host printed. The windows are far wider than any excerpt the report takes
# (safety.excerpt keeps at most 4,000 characters), so the cut itself is never on screen and a
# secret split by it is not shown in part.
SHOWN_HEAD = 32 * 1024
SHOWN_TAIL = 16 * 1024


def bounded(text: str, head: int = SHOWN_HEAD, tail: int = SHOWN_TAIL) -> str:
    """`text`, or its head and tail around a line saying how much was left out."""
    if len(text) <= head + tail + 200:
        return text
    left_out = len(text) - head - tail
    return f"{text[:head]}\n… {left_out:,} characters not kept in the report …\n{text[-tail:]}"


def clean(value: object) -> str:
    """Untrusted value -> text fit for any export: bounded, sanitised, then redacted.

    The one redaction path: the Markdown, JSON and HTML reports (through `scrub`), the report
    written beside the journal, the progress and error lines on stderr (`say`) and what the TUI
    shows of step output and findings all go through it. Only the journal keeps raw text."""
    return redact(sanitize(bounded(str(value))))


# Field names whose whole value is a secret, wherever they sit in a structure: a parser's
# {"password": "hunter2"} loses the "password=" context that the text rules need once the
# value is scrubbed on its own.
SECRET_FIELD = re.compile(r"(?i)(?:" + _SECRET_WORD + r"|auth(?:orization)?(?![a-z])|cookie)")
_NOT_SECRET_FIELD = re.compile("(?i)" + _NOT_SECRET)
#: keys that hold structure, not values (never blanked whatever their name says)
_STRUCTURAL = frozenset({"type", "ts", "node", "id", "check", "key", "step_id", "v"})
_KEY_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_KEY_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")


def scrub(value: Any, key: str | None = None, text: Callable[[str], str] = clean) -> Any:
    """Every string (keys included) of a JSON-like value through `text` (`clean` by default).

    Two shapes that per-string redaction misses are handled here: a value under a secret-named
    key, and a private-key block split over list items (output kept as a list of lines)."""
    if isinstance(value, str):
        if value and key and key not in _STRUCTURAL and SECRET_FIELD.search(key) and not _NOT_SECRET_FIELD.match(key):
            return REDACTED
        return text(value)
    if isinstance(value, dict):
        return {(text(k) if isinstance(k, str) else k): scrub(v, str(k), text) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return _scrub_items(list(value), key, text)
    return value


def _scrub_items(items: list[Any], key: str | None, text: Callable[[str], str]) -> list[Any]:
    out: list[Any] = []
    in_key = False  # inside a key block that an earlier item opened
    for item in items:
        if isinstance(item, str):
            was_in = in_key
            ends = list(_KEY_END.finditer(item))
            begins = list(_KEY_BEGIN.finditer(item))
            last_end = ends[-1].end() if ends else -1
            in_key = bool(begins and begins[-1].start() > last_end) or (was_in and not ends)
            if was_in:
                # the body (and an END line) of a block opened before: only what follows END is text
                rest = item[ends[0].end() :] if ends else ""
                out.append(REDACTED + (ends[0].group(0) if ends else "") + scrub(rest, key, text))
                continue
        out.append(scrub(item, key, text))
    return out


def say(line: str, file: TextIO | None = None) -> None:
    """One line for the terminal (stderr by default), through the same path as every export."""
    print(clean(line), file=file or sys.stderr, flush=True)


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
