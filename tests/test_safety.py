"""Sanitiser, redaction, fences, quoting and excerpts: examples plus hypothesis properties."""

from __future__ import annotations

import re
import shlex
import string

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from runbook.safety import REDACTED, decode, excerpt, fence, redact, sanitize, shell_quote

redact("password=warm-up")  # load detect-secrets once, outside any hypothesis deadline

FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

# Text rich in the characters that make escape sequences, so hypothesis hits the edge cases
# (unterminated strings, nested introducers, 8-bit forms) far more often than st.text() alone.
nasty = st.text(
    alphabet=st.sampled_from(list("\x1b[]();PX^_\\\x07\x9b\x9c\x9d\x90\r\n\b\t\x00\x7f\u202e\u2066 am019?@~`"))
)
any_text = st.one_of(st.text(), nasty, st.lists(st.one_of(st.text(), nasty)).map("".join))


# --- sanitize ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[1;31mred\x1b[0m plain", "red plain"),
        ("copy\x1b]52;c;ZXZpbA==\x07 done", "copy done"),
        ("title\x1b]0;pwned\x1b\\ ok", "title ok"),
        ("8bit\x9b2J csi", "8bit csi"),
        ("dcs\x1bPq#0;2;0;0;0\x1b\\ end", "dcs end"),
        ("apc\x1b_payload\x9c end", "apc end"),
        ("charset\x1b(B\x1b7 ok", "charset ok"),
        ("abc\rXY", "XYc"),
        ("line1\r\nline2\r\n", "line1\nline2\n"),
        ("progress 10%\rprogress 100%", "progress 100%"),
        ("bo\bold", "bold"),
        ("safe\u202eevil\u2066x\u2069", "safeevilx"),
        ("nul\x00bell\x07tab\tok", "nulbelltab\tok"),
        ("c1\x85\x9fgone", "c1gone"),
        ("unterminated \x1b[12", "unterminated 12"),
    ],
)
def test_sanitize_examples(raw: str, shown: str) -> None:
    assert sanitize(raw) == shown


@given(any_text)
@settings(max_examples=500)
def test_sanitize_leaves_no_control_characters(text: str) -> None:
    out = sanitize(text)
    assert not FORBIDDEN.search(out), repr(out)
    assert "\x1b" not in out and "\r" not in out


@given(any_text)
@settings(max_examples=500)
def test_sanitize_is_idempotent(text: str) -> None:
    once = sanitize(text)
    assert sanitize(once) == once


@given(st.text(alphabet=string.ascii_letters + string.digits + " \t\n.,:-/"))
def test_sanitize_keeps_plain_text(text: str) -> None:
    assert sanitize(text) == text


def test_decode_replaces_invalid_utf8_and_sanitises() -> None:
    assert decode(b"ok \xff\xfe \x1b[31mred\x1b[0m caf\xc3\xa9") == "ok \ufffd\ufffd red café"


@given(st.binary())
def test_decode_never_yields_controls(data: bytes) -> None:
    assert not FORBIDDEN.search(decode(data))


# --- redact ------------------------------------------------------------------------------------

alnum = string.ascii_letters + string.digits
secret_values = st.text(alphabet=alnum, min_size=16, max_size=48)
KEYS = [
    "password",
    "passwd",
    "DB_PASSWORD",
    "client_secret",
    "token",
    "auth_token",
    "api_key",
    "apikey",
    "X-Api-Key",
    "access_key",
    "AWS_SECRET_ACCESS_KEY",
]


def _private_key(s: str) -> str:
    return f"-----BEGIN OPENSSH PRIVATE KEY-----\n{s}\n{s[::-1]}==\n-----END OPENSSH PRIVATE KEY-----"


# Each form builds a line holding the secret `s`; the forms cover every rule in redact().
FORMS = [
    lambda s: f"Authorization: Bearer {s}",
    lambda s: f"authorization: Basic {s}",
    lambda s: f"Proxy-Authorization: {s}",
    lambda s: f"curl -H 'Authorization: Bearer {s}' http://198.18.0.2/",
    lambda s: f'{{"Authorization": "Token {s}", "x": 1}}',
    lambda s: f"Cookie: session={s}; theme=dark",
    lambda s: f"Set-Cookie: sid={s}; Path=/; HttpOnly",
    *[(lambda s, k=k: f"{k}={s}") for k in KEYS],
    *[(lambda s, k=k: f"{k}: {s}") for k in KEYS],
    *[(lambda s, k=k: f'"{k}": "{s}"') for k in KEYS],
    lambda s: f"GET /api?access_token={s}&page=2",
    lambda s: f"X-Auth-Token: Bearer {s}",
    lambda s: f"postgres://app:{s}@db.internal:5432/app",
    _private_key,
    lambda s: f"token {s}",
    lambda s: f"sent Bearer {s} upstream",
]


@given(
    form=st.sampled_from(FORMS),
    secret=secret_values,
    before=st.text(alphabet=string.ascii_letters + " .,-()"),
    after=st.text(alphabet=string.ascii_letters + " .,-()"),
)
@settings(max_examples=400)
def test_redact_hides_secret_and_keeps_context(form, secret, before, after) -> None:
    assume(secret not in before and secret not in after)
    assume(redact(before) == before and redact(after) == after)
    text = f"{before}\n{form(secret)}\n{after}"
    out = redact(text)
    assert secret not in out
    assert REDACTED in out
    assert out.startswith(before + "\n") and out.endswith("\n" + after)
    assert redact(out) == out


shaped_tokens = st.one_of(
    st.text(alphabet=string.ascii_uppercase + string.digits, min_size=16, max_size=16).map(lambda s: "AKIA" + s),
    st.text(alphabet=alnum, min_size=36, max_size=40).map(lambda s: "ghp_" + s),
    st.text(alphabet=alnum + "_", min_size=40, max_size=82).map(lambda s: "github_pat_" + s),
    st.tuples(st.sampled_from("baprs"), st.text(alphabet=alnum + "-", min_size=10)).map(lambda t: f"xox{t[0]}-{t[1]}"),
    st.tuples(*[st.text(alphabet=alnum + "_-", min_size=8, max_size=60)] * 3).map(
        lambda t: f"eyJ{t[0]}.eyJ{t[1]}.{t[2]}"
    ),
)


@given(token=shaped_tokens, before=st.text(alphabet=string.ascii_lowercase + " "))
def test_redact_well_known_token_shapes(token: str, before: str) -> None:
    out = redact(f"{before} {token} trailing words")
    assert token not in out
    assert out == f"{before} {REDACTED} trailing words"


def test_redact_examples_keep_useful_parts() -> None:
    assert redact("Authorization: Bearer abc123def456") == "Authorization: Bearer [REDACTED]"
    assert redact("https://alice:s3cret@example.com/x") == "https://alice:[REDACTED]@example.com/x"
    assert redact("Set-Cookie: sid=abc; Path=/; HttpOnly") == ("Set-Cookie: sid=[REDACTED]; Path=/; HttpOnly")
    assert redact('{"password": "p\\"w", "user": "bob"}') == ('{"password": "[REDACTED]", "user": "bob"}')
    text = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY-----\nnext"
    assert redact(text) == ("-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]\n-----END RSA PRIVATE KEY-----\nnext")
    # A key cut off by truncation is hidden to the end rather than leaked.
    assert "MIIEow" not in redact("-----BEGIN PRIVATE KEY-----\nMIIEow\nAAAA")
    plain = "connect() failed (111: Connection refused) while connecting to upstream"
    assert redact(plain) == plain


@given(any_text)
@settings(max_examples=500)
def test_redact_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


@given(st.text(alphabet=string.printable, max_size=300))
@settings(max_examples=500)
def test_redact_is_idempotent_on_secretish_text(text: str) -> None:
    text = text + " password=abc Authorization: Bearer x Cookie: a=b https://u:p@h"
    once = redact(text)
    assert redact(once) == once


# --- fence -------------------------------------------------------------------------------------

# CommonMark normalises \r and NUL before parsing, so they cannot round-trip; sanitize()
# removes both before anything is fenced.
fence_text = st.one_of(
    st.text(alphabet=st.sampled_from(list("`~ \n\tab>-*#|"))),
    st.text().filter(lambda t: "\r" not in t and "\x00" not in t),
)


@given(fence_text, st.sampled_from(["", "text", "sh", "a`b c"]))
@settings(max_examples=500)
def test_fence_round_trips_through_markdown_it(text: str, info: str) -> None:
    block = fence(text, info)
    assert block.endswith("\n")
    tokens = MarkdownIt("commonmark").parse(block)
    assert [t.type for t in tokens] == ["fence"]
    expected = text if not text or text.endswith("\n") else text + "\n"
    assert tokens[0].content == expected
    assert tokens[0].info == info.replace("`", " ").strip()


def test_fence_is_longer_than_any_backtick_run() -> None:
    block = fence("x ````` y\n~~~\n```")
    assert block.startswith("``````\n") and block.endswith("\n``````\n")


# --- shell_quote and excerpt ------------------------------------------------------------------


@given(st.one_of(st.text().filter(lambda t: "\x00" not in t), st.integers()))
def test_shell_quote_round_trips(value: object) -> None:
    assert shlex.split(shell_quote(value)) == [str(value)]


def test_shell_quote_neutralises_injection() -> None:
    assert shell_quote("x; rm -rf /") == "'x; rm -rf /'"


lines_text = st.lists(st.text(alphabet=alnum + " `", max_size=300), max_size=200).map("\n".join)


def _line_count(text: str) -> int:
    # A final newline ends the last line; it does not start another one.
    return text.count("\n") + (0 if text.endswith("\n") else 1)


@given(lines_text, st.integers(1, 60), st.integers(100, 5000))
@settings(max_examples=300)
def test_excerpt_is_bounded(text: str, max_lines: int, max_chars: int) -> None:
    out = excerpt(text, max_lines=max_lines, max_chars=max_chars)
    assert _line_count(out) <= max_lines
    assert len(out) <= max_chars
    if _line_count(text) <= max_lines and len(text) <= max_chars:
        assert out == text


def test_excerpt_keeps_head_and_tail() -> None:
    text = "\n".join(f"line {i}" for i in range(1, 101))
    out = excerpt(text, max_lines=11)
    lines = out.split("\n")
    assert lines[:5] == [f"line {i}" for i in range(1, 6)]
    assert lines[5] == "… 90 lines omitted …"
    assert lines[-5:] == [f"line {i}" for i in range(96, 101)]


def test_excerpt_clips_one_huge_line() -> None:
    out = excerpt("x" * 100_000, max_chars=400)
    assert len(out) <= 400 and "chars)" in out


def test_warm_up_loads_the_detectors_before_first_use() -> None:
    from runbook import safety

    safety._detectors.cache_clear()
    safety.warm_up()
    assert safety._detectors.cache_info().currsize == 1
    assert "detect_secrets.plugins.keyword" in __import__("sys").modules
