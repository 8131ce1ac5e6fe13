"""One secret corpus through every export (issue 24 item 8): the Markdown, JSON and HTML reports,
the report and attachment written beside the journal, the progress and error lines on stderr,
and the text the TUI is handed. Only the private journal may keep a secret."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest

from runbook.events import parse_events
from runbook.headless import Progress, report_beside_journal
from runbook.journal import Journal, read_journal
from runbook.safety import REDACTED, clean, say, scrub
from tests.conftest import runbook_cmd
from tests.hostile.test_secret_rules import CASES

_AIZA = "AIzaSyB9876543210zyxwvutsrqponmlkjihg"
_B64 = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQ"


def _block(kind: str, body: str) -> tuple[str, str, str]:
    text = f"-----BEGIN {kind}-----\n{body}\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0\n-----END {kind}-----"
    return (kind.lower(), text, body)


# (shape, text holding the secret, the secret): the single-line rules of test_secret_rules, every
# private-key block kind, and the header, token and URL shapes seen in real output.
CORPUS: list[tuple[str, str, str]] = [(rule, line, secret) for rule, line, secret, _kept in CASES if "\n" not in line]
CORPUS += [
    _block("OPENSSH PRIVATE KEY", _B64 + "Aa"),
    _block("RSA PRIVATE KEY", "MIIEowIBAAKCAQEAwJ7x" + _B64[:40]),
    _block("PRIVATE KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + _B64[:30]),
    _block("ENCRYPTED PRIVATE KEY", "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkq" + _B64[:30]),
    _block("EC PRIVATE KEY", "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5" + _B64[:20]),
    _block("DSA PRIVATE KEY", "MIIBuwIBAAKBgQCxdsa" + _B64[:40]),
    _block("PGP PRIVATE KEY BLOCK", "lQOYBF9xyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd"),
    # a copy cut short of the 39 characters of a real key is still a key
    ("google api key, bare", f"loaded {_AIZA} ok", _AIZA),
    ("authorization bearer", "Authorization: Bearer abcDEF123ghiJKL456mnoPQR", "abcDEF123ghiJKL456mnoPQR"),
    ("authorization basic", "authorization: Basic dXNlcjpodW50ZXIyc2VjcmV0", "dXNlcjpodW50ZXIyc2VjcmV0"),
    ("proxy-authorization", "Proxy-Authorization: Digest zzTopSecretDigest99", "zzTopSecretDigest99"),
    ("cookie", "Cookie: session=s3ss10nVal9e; theme=dark", "s3ss10nVal9e"),
    ("set-cookie", "Set-Cookie: sid=abcSid1234567; Path=/; HttpOnly", "abcSid1234567"),
    ("jwt", "got eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlMTIz end", "eyJzdWIiOiIxMjM0In0"),
    ("github pat", "GH ghp_abcdefghijklmnopqrstuvwxyz0123456789 ok", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("github fine-grained", "github_pat_11ABCDEFG0123456789_abcdefghijXYZ ok", "github_pat_11ABCDEFG0123456789"),
    ("aws session key", "id ASIAIOSFODNN7EXAMPLE here", "ASIAIOSFODNN7EXAMPLE"),
    ("stripe restricted", "rk_live_51HabcdefghijKLMNOP used", "rk_live_51HabcdefghijKLMNOP"),
    ("postgres url", "dsn postgres://app:pgSecretPw77@db:5432/app", "pgSecretPw77"),
    ("json password", '{"user": "app", "password": "jsonSecret42"}', "jsonSecret42"),
    ("yaml secret", "  client_secret: yamlSecret9000", "yamlSecret9000"),
    ("api key header", "X-Api-Key: hdrApiKey12345678", "hdrApiKey12345678"),
    ("--token flag", "deploy --token flagTok3n9999 --env prod", "flagTok3n9999"),
    ("failed command password", "psql: error: connection failed password=stderrPw123 host=db", "stderrPw123"),
]
SHAPES = [c[0] for c in CORPUS]


def _events() -> list[tuple[str, dict[str, object]]]:
    """Every place a secret can reach a journal: commands, output, parsed data (a string, its
    lines as a list, a secret-named field), errors, findings, answers, notes, the conclusion."""
    out: list[tuple[str, dict[str, object]]] = [
        ("session-start", {"playbook": "mini", "playbook_title": "t", "inventory": [], "mode": "live"}),
        ("node-enter", {"node": "first", "title": "First", "kind": "check", "why": "", "reason": ""}),
    ]
    for i, (_shape, text, secret) in enumerate(CORPUS):
        out.append(
            ("step-result", {
                "step_id": f"s{i}", "node": "first", "check": f"c{i}", "host": "web1", "command": text,
                "stdout": text, "stderr": text, "exit_status": 1, "duration_s": 0.1,
                "error": {"kind": "error", "message": text},
                "data": {"raw": text, "lines": text.split("\n"), "password": secret,
                         "headers": {"Authorization": secret}},
            })
        )  # fmt: skip
        out.append(("finding", {"id": f"f{i}", "node": "first", "severity": "warning", "title": text,
                                "evidence": text, "host": "web1", "step_id": f"s{i}"}))  # fmt: skip
        out.append(("answer", {"node": "first", "key": f"k{i}", "value": text, "source": "cli"}))
        out.append(("note", {"node": "first", "text": text}))
    out.append(("node-enter", {"node": "end", "title": "End", "kind": "conclusion", "why": "", "reason": ""}))
    summary = "\n".join(text for _s, text, _x in CORPUS)
    out.append(("conclusion", {"node": "end", "cause": "no-fault-found", "title": "ok", "summary": summary,
                               "hosts": [], "remediation": [t for _s, t, _x in CORPUS]}))  # fmt: skip
    out.append(("session-end", {"status": "concluded", "reason": ""}))
    return out


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "j.jsonl"
    j = Journal(path)
    for kind, fields in _events():
        j.append(kind, **fields)
    j.close()
    return path


def _survivors(text: str) -> list[str]:
    return [shape for shape, _t, secret in CORPUS if secret in text]


def test_the_corpus_is_in_the_journal(journal: Path) -> None:
    # the journal is the one private copy: if it lost a secret, the export tests would prove nothing
    raw = journal.read_text()
    assert len(CORPUS) >= 38
    assert all(secret in raw or json.dumps(secret)[1:-1] in raw for _s, _t, secret in CORPUS)
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600


def test_report_exports_hold_no_shape(journal: Path, tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    outputs = {"r.md": [], "r.html": ["--format", "html"], "r.json": ["--format", "json"]}
    for name, extra in outputs.items():
        res = runbook_cmd("report", str(journal), "-o", str(tmp_path / name), *extra, env=env)
        assert res.returncode == 0, res.stderr
        assert _survivors(res.stderr) == [], "stderr"
    side, md = str(tmp_path / "side.json"), str(tmp_path / "x.md")
    res = runbook_cmd("report", str(journal), "--json", side, "-o", md, env=env)
    assert res.returncode == 0, res.stderr
    for name in [*outputs, "side.json", "x.md", "x.json"]:
        text = (tmp_path / name).read_text()
        if name.endswith(".json"):  # compare decoded strings, not JSON escapes
            text = json.dumps(json.loads(text), ensure_ascii=False)
        assert _survivors(text) == [], name
        assert REDACTED in text


def test_report_beside_the_journal_holds_no_shape_and_is_private(journal: Path, tmp_path: Path) -> None:
    copy = tmp_path / "incident.jsonl"
    copy.write_bytes(journal.read_bytes())
    report = report_beside_journal(copy)
    assert report == copy.with_suffix(".md")
    for path in (report, copy.with_suffix(".json")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert _survivors(path.read_text()) == [], path


def test_progress_lines_hold_no_shape(journal: Path) -> None:
    out = io.StringIO()
    progress = Progress(out)
    for event in parse_events(read_journal(journal)):
        progress(event)
    text = out.getvalue()
    assert "conclusion: no-fault-found" in text  # the lines were written
    assert _survivors(text) == []


def test_say_and_the_screen_text_hold_no_shape() -> None:
    # `clean` is what the TUI is to show of step output and findings; `say` is every stderr line
    out = io.StringIO()
    for _shape, text, _secret in CORPUS:
        say(text, out)
        say(f"runbook: cannot resume j.jsonl: {clean(text)}", out)  # untrusted parts are cleaned first
    assert _survivors(out.getvalue()) == []
    assert _survivors("\n".join(clean(text) for _s, text, _x in CORPUS)) == []


@pytest.mark.parametrize(("shape", "text", "secret"), CORPUS, ids=SHAPES)
def test_structured_values_hold_no_shape(shape: str, text: str, secret: str) -> None:
    # a value split into lines, nested, or under a secret-named key still loses its secret
    value = {"lines": text.split("\n"), "nested": [[text]], "token": secret, "plain": "keep me"}
    blob = json.dumps(scrub(value), ensure_ascii=False)
    assert secret not in blob, shape
    assert "keep me" in blob


def test_upstream_directives_are_evidence_not_secrets() -> None:
    # nginx's *_pass directives end like a password key; they name where a 502 came from
    data = {"proxy_pass": "http://10.0.0.5:8081", "upstreams": [{"uwsgi_pass": "unix:/run/app.sock"}]}
    assert scrub(data) == data
    assert scrub({"db_pass": "hunter2secret"}) == {"db_pass": REDACTED}
