"""Incident report and JSON result, rendered from hand-built journals and parsed back."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from runbook.report import build_result, build_view, render_markdown, write_atomic

BEARER = "abc123def456ghi789jkl012mno345"
KEY_BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
PASSWORD = "Sup3rS3cretPa55"
COOKIE = "sess9f8e7d6c5b4a3210"


def ev(event_type: str, ts: str, /, **fields: Any) -> dict[str, Any]:
    return {"type": event_type, "ts": f"2026-11-22T03:{ts}Z", **fields}


def start() -> dict[str, Any]:
    return ev(
        "session-start",
        "00:00.000",
        session_id="s-1",
        playbook="502-bad-gateway",
        playbook_path="playbooks/502-bad-gateway.yaml",
        playbook_title="502 Bad Gateway",
        mode="live",
        scenario=None,
        transport="asyncssh",
        inventory=[
            {"name": "gw1", "address": "198.18.0.2", "port": 22, "roles": ["gateway"]},
            {"name": "app1", "address": "198.18.0.3", "port": 2222, "roles": ["backend"]},
        ],
        vars={"public_url": "http://198.18.0.2/api/users"},
        incident={"title": "API returns 502", "severity": "SEV2", "ticket": "INC-42"},
        runbook_version="0.1.0",
    )


def step(sid: str, node: str, host: str, command: str, t0: str, t1: str, **result: Any):
    start_ev = ev("step-start", t0, step_id=sid, node=node, check=sid, host=host, command=command)
    base = {"stdout": "", "stderr": "", "timed_out": False, "truncated_bytes": 0, "data": None}
    base.update(error=None, exit_status=0, duration_s=0.25)
    base.update(result)
    result_ev = ev(
        "step-result",
        t1,
        step_id=sid,
        node=node,
        check=sid,
        host=host,
        command=command,
        started_at=start_ev["ts"],
        **base,
    )
    return [start_ev, result_ev]


NASTY_LOG = (
    "2026/11/22 03:00:01 [error] 17#17: *1 connect() failed (111: Connection refused) while "
    'connecting to upstream, client: 198.18.0.1, upstream: "http://198.18.0.3:8080/api"\n'
    "```\n# not a heading\n| not | a table |\n"
    "\x1b[31mred\x1b[0m \x1b]52;c;ZXZpbA==\x07clipboard\nprogress 10%\rprogress 100%\n"
    f"Authorization: Bearer {BEARER}\n"
    f"-----BEGIN OPENSSH PRIVATE KEY-----\n{KEY_BODY}\n-----END OPENSSH PRIVATE KEY-----\n"
    f"Cookie: session={COOKIE}\n~~~\n"
)


def concluded_run() -> list[dict[str, Any]]:
    return [
        start(),
        ev(
            "node-enter",
            "00:00.100",
            node="backend-health",
            title="Is the backend up?",
            kind="check",
            why="Crashed backends cause most 502s.",
            reason="start",
        ),
        *step(
            "status",
            "backend-health",
            "app1",
            "systemctl status app --no-pager",
            "00:01.000",
            "00:01.300",
            exit_status=3,
            stdout="● app.service - App\n   Active: inactive (dead)\n",
        ),
        ev(
            "finding",
            "00:01.400",
            id="backend-not-running",
            node="backend-health",
            host="app1",
            severity="critical",
            title="Backend service is not running",
            evidence="Active: inactive (dead) | since 02:58",
            step_id="status",
            check="status",
        ),
        ev("branch", "00:01.500", **{"from": "backend-health", "to": "gateway-log"}, reason="confirm from the gateway"),
        ev(
            "node-enter",
            "00:01.600",
            node="gateway-log",
            title="What does the gateway log say?",
            kind="check",
            why="",
            reason="",
        ),
        *step(
            "errlog",
            "gateway-log",
            "gw1",
            "tail -n 200 /var/log/nginx/error.log",
            "00:02.000",
            "00:02.500",
            stdout=NASTY_LOG,
            stderr=f"password={PASSWORD}\n",
        ),
        ev(
            "finding",
            "00:02.600",
            id="conn-refused",
            node="gateway-log",
            host="gw1",
            severity="warning",
            title="nginx: connect() failed (111: Connection refused)",
            evidence=f"upstream: x `tick` Authorization: Bearer {BEARER}",
            step_id="errlog",
            check="errlog",
        ),
        ev(
            "note",
            "00:03.000",
            node="gateway-log",
            text=f"Deploy at 02:55 restarted app1?\n# check with team | later\npassword: {PASSWORD}",
        ),
        ev(
            "node-enter",
            "00:04.000",
            node="cause-backend-down",
            title="Backend is down",
            kind="conclusion",
            why="",
            reason="",
        ),
        ev(
            "conclusion",
            "00:04.100",
            node="cause-backend-down",
            cause="backend-down",
            title="Backend service is down",
            summary="app on app1 is stopped; nginx gets ECONNREFUSED.",
            hosts=["app1"],
            remediation=["Start the service: systemctl start app", "Check why it stopped"],
            prevention=["Add health checks with max_fails and fail_timeout", "Alert when the unit is inactive"],
            findings=["backend-not-running", "conn-refused"],
        ),
        ev("session-end", "05:30.000", status="concluded", reason=""),
    ]


def interrupted_run() -> list[dict[str, Any]]:
    events = concluded_run()[:8]  # up to the gateway log step-start, no result for it
    assert events[-1]["type"] == "step-start"
    return events


def run_with_people() -> list[dict[str, Any]]:
    return [
        start(),
        ev(
            "node-enter",
            "00:00.100",
            node="ask-deploy",
            title="Was there a deploy?",
            kind="question",
            why="",
            reason="",
        ),
        ev("answer", "00:00.500", node="ask-deploy", key="recent_deploy", value="yes", source="user"),
        ev("answer", "00:00.600", node="ask-deploy", key="maintenance", value="no", source="default"),
        ev("skip", "00:01.000", node="firewall", reason="no sudo on gw1"),
        ev(
            "override",
            "00:02.000",
            node="dns",
            finding="dns-mismatch",
            verdict="dismiss",
            reason="the inventory is stale | known",
            goto="timeouts",
        ),
        *step(
            "dns",
            "dns",
            "gw1",
            "getent hosts app1",
            "00:02.500",
            "00:07.500",
            exit_status=None,
            timed_out=True,
            duration_s=5.0,
            error={"kind": "timeout", "message": "no answer in 5 s"},
        ),
        ev("note", "00:08.000", node="dns", text="resolver on gw1 looks slow"),
        ev(
            "mutating-refused",
            "00:08.200",
            node="dns",
            steps=["flush"],
            commands=["resolvectl flush-caches"],
            reason="--read-only",
        ),
        ev("rule-problem", "00:08.300", node="dns", message="rule names unknown check `x`"),
        ev("host-key", "00:08.500", host="app1", fingerprint="SHA256:abc", decision="trust-once"),
        ev("session-end", "09:00.000", status="unconcluded", reason="no rule matched"),
    ]


# --- helpers -----------------------------------------------------------------------------------


def parse(md: str) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(md)


def headings(tokens: list[Token], level: int) -> list[str]:
    out = []
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.tag == f"h{level}":
            out.append(tokens[i + 1].content)
    return out


def tables(tokens: list[Token]) -> list[list[int]]:
    """Cells per row (header included) for every table in the document."""
    result: list[list[int]] = []
    for tok in tokens:
        if tok.type == "table_open":
            result.append([])
        elif tok.type == "tr_open":
            result[-1].append(0)
        elif tok.type in ("th_open", "td_open"):
            result[-1][-1] += 1
    return result


def all_text(tokens: list[Token]) -> str:
    """What a reader sees: rendered inline text (escapes resolved) and code blocks."""
    parts = []
    for tok in tokens:
        if tok.type == "inline":
            parts.append("".join(child.content for child in tok.children or []))
        else:
            parts.append(tok.content)
    return "\n".join(parts)


#: the main body (Google SRE book / PagerDuty layout), then the appendix
SECTIONS = [
    "Summary",
    "Impact",
    "Trigger",
    "Detection",
    "Root cause",
    "Contributing factors",
    "Resolution and mitigation",
    "Action items",
    "Lessons learned",
    "Timeline (UTC)",
    "Supporting information",
    "A. Steps",
    "B. Tool timeline",
    "C. Hosts",
]


# --- tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("events", [concluded_run(), interrupted_run(), run_with_people()])
def test_report_has_every_section_and_well_formed_tables(events) -> None:
    md = render_markdown(events)
    tokens = parse(md)
    assert headings(tokens, 1) == ["API returns 502", "Appendix"]
    assert headings(tokens, 2) == SECTIONS
    assert all(h.startswith("Step ") for h in headings(tokens, 3))
    header_widths = {2, 4, 5, 6}
    for rows in tables(tokens):
        assert len(set(rows)) == 1, rows  # every row has the header's column count
        assert rows[0] in header_widths
    assert "\x1b" not in md


def test_concluded_report_content_is_safe_and_fenced() -> None:
    md = render_markdown(concluded_run())
    tokens = parse(md)
    # No secret, escape sequence or raw control character survives anywhere in the file.
    for secret in (BEARER, KEY_BODY, PASSWORD, COOKIE, "ZXZpbA=="):
        assert secret not in md
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", md)
    assert "[REDACTED]" in md
    # The gateway log is inside a single fence, intact: its ``` and ~~~ did not close it.
    fences = [t for t in tokens if t.type == "fence"]
    log = next(t for t in fences if "connect() failed" in t.content)
    assert log.info == "text"
    assert "```\n# not a heading\n| not | a table |\n" in log.content
    assert "\nred clipboard\nprogress 100%\n" in log.content
    assert "Authorization: Bearer [REDACTED]" in log.content
    assert log.content.rstrip("\n").endswith("~~~")
    # Commands are fenced exactly as run.
    assert any(t.info == "sh" and t.content == "systemctl status app --no-pager\n" for t in fences)
    # Nothing from the output leaked out as document structure.
    assert "not a heading" not in headings(tokens, 1) + headings(tokens, 2) + headings(tokens, 3)
    # The metadata and conclusion are there.
    text = all_text(tokens)
    assert "root cause identified" in text
    assert "SEV2" in text
    assert "2026-11-22 03:00:00 UTC to 2026-11-22 03:05:30 UTC" in text
    assert "Backend service is down" in text
    assert "Start the service: systemctl start app" in text
    assert "Add health checks with max\\_fails" not in text  # escaped for Markdown, shown plain
    assert "Add health checks with max_fails and fail_timeout" in text


def test_timeline_links_point_at_step_anchors() -> None:
    md = render_markdown(concluded_run())
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', md))
    links = re.findall(r"\]\(#([^)]+)\)", md)
    assert links and set(links) <= anchors
    assert {"step-1", "step-2", "root-cause", "note-1"} <= anchors
    timeline = md.split("## Timeline")[1].split("## Hosts involved")[0]
    assert "[step 1](#step-1)" in timeline and "[step 2](#step-2)" in timeline


def test_table_cells_escape_pipes_and_newlines() -> None:
    md = render_markdown(concluded_run())
    tokens = parse(md)
    # A finding title with a pipe stays in one cell of the 4-column findings table.
    cells = [t for t in tokens if t.type == "inline"]
    assert any(c.content == "Backend service is not running" for c in cells)
    # The decisive evidence line "inactive (dead) | since" is quoted once, in a fence.
    fences = [t.content for t in tokens if t.type == "fence"]
    assert sum("Active: inactive (dead) | since 02:58" in f for f in fences) == 1
    note_row = next(c for c in cells if c.content.startswith("Note at"))
    assert "\n" not in note_row.content


def test_notes_are_kept_with_their_node_and_redacted() -> None:
    md = render_markdown(concluded_run())
    notes = md.split("Engineer's notes:")[1].split("Draft status page message:")[0]
    assert "What does the gateway log say?" in notes
    assert "Deploy at 02:55 restarted app1?" in notes
    assert PASSWORD not in notes and "password: \\[REDACTED\\]" in notes
    # "# check with team" is quoted text, not a heading.
    assert "check with team" not in " ".join(headings(parse(md), 1) + headings(parse(md), 2))


def test_interrupted_prefix_renders_what_is_there() -> None:
    events = interrupted_run()
    view = build_view(events)
    assert view["status"] == "investigating / interrupted"
    assert view["root_cause"] is None
    assert [s["state"] for s in view["steps"]] == ["exit 3", "no result (interrupted)"]
    md = render_markdown(events)
    assert "**investigating / interrupted**" in md
    assert "Started errlog on gw1; no result recorded" in md
    assert "No root cause was identified" in md
    assert "Finish the diagnosis" in md


def test_people_input_overrides_skips_answers_and_lessons() -> None:
    view = build_view(run_with_people())
    assert view["status"] == "unconcluded"
    assert [(a["key"], a["value"], a["source"]) for a in view["answers"]] == [
        ("recent_deploy", "yes", "user"),
        ("maintenance", "no", "default"),
    ]
    assert view["steps"][0]["state"] == "timed out"
    lessons = view["lessons"]
    assert any("no sudo on gw1" in x for x in lessons["went_wrong"])
    assert any("overrode" in x for x in lessons["went_wrong"])
    assert any("dns on gw1 did not complete" in x for x in lessons["went_wrong"])
    assert any("maintenance" in x for x in lessons["lucky"])
    assert any("trusted once" in x for x in lessons["lucky"])
    md = render_markdown(run_with_people())
    timeline = md.split("## B. Tool timeline")[1].split("## C. Hosts")[0]
    assert "Mutating step not run (resolvectl flush-caches) (--read-only)" in timeline
    assert "rule-problem (rule names unknown check `x`)" in timeline
    section = md.split("Decisions by the engineer:")[1]
    assert "no sudo on gw1" in section
    assert "the inventory is stale \\| known" in section
    assert "Investigating:" in md.split("Draft status page message:")[1]


def test_status_page_message_names_no_hosts() -> None:
    view = build_view(concluded_run())
    message = view["status_page"]
    assert message.startswith("Identified:")
    assert "app1" not in message and "198.18" not in message


def test_view_strings_are_clean_even_for_raw_template_use() -> None:
    blob = json.dumps(build_view(concluded_run()), ensure_ascii=False)
    for secret in (BEARER, KEY_BODY, PASSWORD, COOKIE):
        assert secret not in blob
    assert "\\u001b" not in blob


def test_build_result_follows_the_contract() -> None:
    result = build_result(concluded_run())
    assert result["playbook"] == "502-bad-gateway"
    assert result["started_at"] == "2026-11-22T03:00:00.000Z"
    assert result["finished_at"] == "2026-11-22T03:05:30.000Z"
    conclusion = result["conclusion"]
    assert {"node", "cause", "title", "summary", "hosts", "remediation"} <= set(conclusion)
    assert conclusion["cause"] == "backend-down" and conclusion["hosts"] == ["app1"]
    assert [f["id"] for f in result["findings"]] == ["backend-not-running", "conn-refused"]
    assert set(result["findings"][0]) >= {"id", "host", "severity", "title", "evidence"}
    first = result["steps"][0]
    assert first["command"] == "systemctl status app --no-pager"
    assert first["exit_status"] == 3 and first["duration_s"] == 0.25
    assert first["started_at"] == "2026-11-22T03:00:01.000Z"
    blob = json.dumps(result)
    for secret in (BEARER, KEY_BODY, PASSWORD, COOKIE):
        assert secret not in blob
    assert "\\u001b" not in blob


def test_build_result_on_an_interrupted_prefix() -> None:
    result = build_result(interrupted_run())
    assert result["conclusion"] is None
    assert result["finished_at"] is None
    assert result["status"] == "investigating / interrupted"
    assert result["steps"][-1]["exit_status"] is None
    assert result["steps"][-1]["status"] == "no result (interrupted)"


def test_empty_journal_still_renders() -> None:
    md = render_markdown([])
    assert headings(parse(md), 2) == SECTIONS
    assert build_result([])["conclusion"] is None


def test_user_template_replaces_the_default(tmp_path: Path) -> None:
    own = tmp_path / "mine.md.j2"
    own.write_text("# {{ title }}\nstatus={{ status }} steps={{ steps | length }}\n")
    md = render_markdown(concluded_run(), own)
    assert md == "# API returns 502\nstatus=root cause identified steps=2\n"


def test_user_template_can_extend_the_default(tmp_path: Path) -> None:
    own = tmp_path / "short.md.j2"
    own.write_text('{% extends "runbook/incident.md.j2" %}{% block steps %}## Steps\n\nomitted\n{% endblock %}')
    md = render_markdown(concluded_run(), str(own))
    assert "omitted" in md and "### Step 1" not in md
    assert headings(parse(md), 2) == [h if h != "A. Steps" else "Steps" for h in SECTIONS]


def test_missing_user_template_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.j2"):
        render_markdown(concluded_run(), tmp_path / "nope.j2")


def test_write_atomic_replaces_content_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "incident.md"
    assert write_atomic(target, "first\n") == target
    target.chmod(0o640)
    write_atomic(target, "second ✓\n")
    assert target.read_text(encoding="utf-8") == "second ✓\n"
    assert (target.stat().st_mode & 0o777) == 0o640
    assert os.listdir(target.parent) == ["incident.md"]


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "incident.md"
    target.write_text("old\n")
    with pytest.raises(TypeError):
        write_atomic(target, None)  # type: ignore[arg-type]
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["incident.md"]


def test_live_report_cleans_each_event_once_and_matches_the_whole_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The TUI's preview renders a growing journal from events cleaned as they came: at every
    prefix, with an event not journaled yet, and after the file is replaced, it is byte for byte
    what rendering the whole journal gives (secrets redacted too)."""
    from runbook.report import live

    events = concluded_run()
    path = tmp_path / "j.jsonl"
    report = live.LiveReport(path)
    cleaned: list[int] = []
    original = live.scrub_events

    def counting(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
        cleaned.append(len(raw))
        return original(raw)

    monkeypatch.setattr(live, "scrub_events", counting)
    for cut in (1, len(events) // 2, len(events)):
        path.write_text("".join(json.dumps(e) + "\n" for e in events[:cut]))
        assert report.markdown() == render_markdown(events[:cut])
    # markdown() cleans the journal's new events, then its `extra` ones (none so far)
    assert sum(cleaned) == len(events), cleaned  # each journal event was cleaned once
    extra = [{"type": "session-end", "ts": "2026-11-22T03:06:00Z", "status": "concluded", "reason": "done"}]
    assert report.markdown(extra) == render_markdown(events + extra)
    assert BEARER not in report.markdown()
    path.write_text("".join(json.dumps(e) + "\n" for e in events[:2]))  # another, shorter journal
    assert report.markdown() == render_markdown(events[:2])
