"""Every secret rule: detect-secrets' plugins and our own shell forms (issue 12 item 7), and the
exports that must apply them (item 8)."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

import pytest

from runbook.journal import Journal
from runbook.safety import REDACTED, redact
from tests.conftest import runbook_cmd

redact("password=warm-up")  # load detect-secrets outside any timing

RAND_B64 = base64.b64encode(secrets.token_bytes(30)).decode()
RAND_HEX = secrets.token_hex(20)

# (rule, line, the secret that must not survive, what must survive)
CASES = [
    # ours: shell forms detect-secrets does not know
    ("env DB_PASS", "DB_PASS=hunter2secret", "hunter2secret", "DB_PASS="),
    ("env MYSQL_PWD", "export MYSQL_PWD=hunter2secret", "hunter2secret", "MYSQL_PWD="),
    ("mysql -pSECRET", "mysql -u root -phunter2secret appdb", "hunter2secret", "mysql -u root -p"),
    ("mysqldump -pSECRET", "mysqldump -h db -phunter2secret appdb", "hunter2secret", "appdb"),
    ("--password SECRET", "pg_tool --password hunter2secret --host db", "hunter2secret", "--host db"),
    ("--db-pass SECRET", "app --db-pass hunter2secret", "hunter2secret", "--db-pass"),
    (".netrc inline", "machine db.internal login bob password hunter2secret", "hunter2secret", "login bob"),
    (".netrc own line", "  password hunter2secret", "hunter2secret", "password"),
    ("url-encoded", "GET /login?user=bob&password%3Dhunter2secret&x=1", "hunter2secret", "&x=1"),
    (
        "google api key",
        "key=AIzaSyA1234567890abcdefghijklmnopqrstuv used",
        "AIzaSyA1234567890abcdefghijklmnopqrstuv",
        "used",
    ),
    ("stripe sk_live", "charge with sk_live_4eC39HqLyjWDarjtT1zdp7dc now", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "now"),
    (
        "slack webhook",
        "POST https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX ok",
        "XXXXXXXXXXXXXXXXXXXXXXXX",
        "ok",
    ),
    # detect-secrets' plugins
    ("keyword assignment", 'my_password := "hunter2secret"', "hunter2secret", "my_password"),
    ("keyword comparison", 'if ("hunter2secret" == db_password) {}', "hunter2secret", "db_password"),
    ("aws access key", "id AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE", "here"),
    (
        "aws secret key",
        'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_secret_access_key",
    ),
    ("slack token", "token xoxb-123456789012-1234567890123-abcdefABCDEF", "xoxb-123456789012", "token"),
    ("basic-auth url", "proxy http://user:pa55w0rdXYZ@proxy.internal:3128/", "pa55w0rdXYZ", "user:"),
    (
        "private key",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        "MIIEow",
        "BEGIN",
    ),
    ("high entropy base64", f'blob "{RAND_B64}" end', RAND_B64, "end"),
    ("high entropy hex", f"digest '{RAND_HEX}' end", RAND_HEX, "end"),
]


@pytest.mark.parametrize(("rule", "line", "secret", "kept"), CASES, ids=[c[0] for c in CASES])
def test_every_secret_rule(rule: str, line: str, secret: str, kept: str) -> None:
    out = redact(line)
    assert secret not in out, out
    assert REDACTED in out and kept in out, out
    assert redact(out) == out


@pytest.mark.parametrize(
    "plain",
    [
        "sudo: a password is required",
        "mkdir -p /var/lib/app && ssh -p 2222 host",
        "proxy_pass http://backend:8080;",
        '{"proxy_pass": "http://backend:8080", "fastcgi_pass": "unix:/run/php/fpm.sock"}',
        "connect() failed (111: Connection refused) while connecting to upstream",
        "user:x:1000:1000::/home/user:/bin/bash",
        "upstream timed out (110: Connection timed out) while reading response header",
    ],
)
def test_ordinary_output_is_left_alone(plain: str) -> None:
    assert redact(plain) == plain


SECRETS = [c for c in CASES if "\n" not in c[1]]


def _journal_with_secrets(path: Path) -> None:
    j = Journal(path)
    j.append("session-start", playbook="mini", playbook_title="t", inventory=[], mode="live")
    j.append("node-enter", node="first", title="First", kind="check", why="", reason="")
    for i, (_rule, line, _s, _k) in enumerate(SECRETS):
        j.append(
            "step-result", step_id=f"s{i}", node="first", check="c", host="web1", command=line,
            stdout=line, stderr=line, exit_status=0, duration_s=0.1, data={"raw": line},
        )  # fmt: skip
        j.append("note", node="first", text=line)
    j.append("node-enter", node="end-ok", title="End", kind="conclusion", why="", reason="")
    j.append("conclusion", node="end-ok", cause="no-fault-found", title="All good", summary="", hosts=[])
    j.append("session-end", status="concluded", reason="")
    j.close()


def test_report_json_and_scenario_exports_hold_no_secret(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    _journal_with_secrets(journal)
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    res = runbook_cmd("report", str(journal), "-o", str(tmp_path / "r.md"), "--json", str(tmp_path / "r.json"), env=env)
    assert res.returncode == 0, res.stderr
    res = runbook_cmd("scenario", "from-journal", str(journal), "-o", str(tmp_path / "s.jsonl"), env=env)
    assert res.returncode == 0, res.stderr
    for out in ("r.md", "r.json", "s.jsonl"):
        text = (tmp_path / out).read_text()
        if out.endswith("json"):
            text = json.dumps(json.loads(text), ensure_ascii=False)
        for rule, _line, secret, _kept in SECRETS:
            assert secret not in text, f"{rule} leaked into {out}"
