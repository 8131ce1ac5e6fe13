"""The demo's report as a postmortem author meets it: one or two screens, then the appendix;
only what the journal shows; every claim linked to its step; clean when rendered."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from runbook.journal import read_journal
from runbook.report import build_view, render_markdown, write_report
from runbook.report.html import render_html
from tests.conftest import runbook_cmd

MAIN_SECTIONS = [
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
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("demo")
    journal = tmp / "demo.jsonl"
    run = runbook_cmd(
        "run",
        "502-bad-gateway",
        "--scenario",
        "demo",
        "--headless",
        "--journal",
        str(journal),
        "--title",
        "Checkout API answers 502",
        "--responder",
        "oncall",
        env={"XDG_DATA_HOME": str(tmp / "xdg")},
    )
    assert run.returncode == 0, run.stderr
    return {"journal": journal, "events": read_journal(journal), "stderr": run.stderr}


def _md() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table")


def visible_text(markdown: str) -> str:
    """The text a reader sees: inline text and code, fences' content, no markup."""
    out = []
    for tok in _md().parse(markdown):
        if tok.type == "inline":
            out.append("".join(c.content for c in tok.children or [] if c.type in ("text", "code_inline")))
        elif tok.type in ("fence", "code_block"):
            out.append(tok.content)
    return "\n".join(out)


def test_main_body_is_short_and_has_every_section(demo: dict[str, Any]) -> None:
    md = render_markdown(demo["events"])
    body, _, appendix = md.partition("\n# Appendix\n")
    assert appendix, "the appendix heading is missing"
    assert len(body.splitlines()) <= 200
    tokens = _md().parse(body)
    h2 = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2"]
    assert h2 == MAIN_SECTIONS
    for field in ("Status", "Severity", "Owner", "Incident window (UTC)"):
        assert f"| {field} |" in body
    assert "**Authors:**" in body and "**Responders:** oncall (on-call engineer" in body
    # the appendix holds every step with its command, exit status and duration, and the tool timeline
    steps = [e for e in demo["events"] if e["type"] == "step-result"]
    assert appendix.count("\n### Step ") == len(steps)
    assert "## B. Tool timeline" in appendix
    assert "exit status 0" in appendix and "took " in appendix
    # no inline JSON blocks: the structured result is an attachment
    assert "```json" not in md


def test_impact_has_the_figures_the_run_measured(demo: dict[str, Any]) -> None:
    view = build_view(demo["events"])
    impact = view["impact"]
    assert "answered HTTP 502 Bad Gateway" in impact["lines"][0]["text"]
    assert impact["lines"][0]["anchor"] == "step-1"
    rows = impact["log_rows"]
    assert rows and rows[0]["kind"] == "connect-refused" and rows[0]["count"] >= 1
    assert rows[0]["first"].endswith("UTC") and rows[0]["upstream"].endswith(":8081")
    assert impact["requests"] == ["GET /api/users"]


def _with_symptom(events: list[dict[str, Any]], code: str | None) -> list[dict[str, Any]]:
    """The demo's journal with the symptom check changed (200), or removed (None)."""
    out = []
    symptom = next(e["step_id"] for e in events if e["type"] == "step-result" and e["check"] == "through_gateway")
    for e in copy.deepcopy(events):
        if e.get("step_id") == symptom:
            if code is None:
                continue
            if e["type"] == "step-result":
                e["data"].update(http_code=code, reason="OK")
            if e["type"] == "finding":
                continue
        out.append(e)
    return out


def test_says_only_what_the_journal_shows(demo: dict[str, Any]) -> None:
    ok = render_markdown(_with_symptom(demo["events"], "200"))
    impact = ok.split("## Impact")[1].split("## Trigger")[0]
    assert "answered HTTP 200 OK" in impact
    assert "did not see the error itself" in impact
    assert "502" not in impact.split("Errors in the gateway")[0]
    assert "reported as failing" in ok  # the status page does not claim what was not seen
    never = render_markdown(_with_symptom(demo["events"], None))
    impact = never.split("## Impact")[1].split("## Trigger")[0]
    assert "did not check the symptom" in impact
    assert "answered HTTP" not in impact


def test_incident_window_starts_at_the_first_error_in_the_log(demo: dict[str, Any]) -> None:
    events = copy.deepcopy(demo["events"])
    for e in events:  # a live session, so the log's times are this incident's
        if e["type"] == "session-start":
            e["mode"] = "live"
    view = build_view(events)
    first_error = view["impact"]["log_rows"][0]["first"]
    assert view["window"]["start"] == first_error
    assert view["window"]["from"] == "first error in the gateway's log"
    end = next(e for e in events if e["type"] == "session-end")["ts"]
    assert view["window"]["end"].startswith(end[:10])
    milestones = [m["event"] for m in view["milestones"]]
    assert milestones[0] == "First error in the gateway's log"
    assert "Runbook session started" in milestones and any(m.startswith("Diagnosis:") for m in milestones)
    # a replayed session says why its window starts with the session
    assert "replayed" in build_view(demo["events"])["window"]["from"]


def test_every_claim_links_to_a_step_that_exists(demo: dict[str, Any]) -> None:
    md = render_markdown(demo["events"])
    body = md.partition("\n# Appendix\n")[0]
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', md))
    links = re.findall(r"\]\(#([^)]+)\)", md)
    assert links and set(links) <= anchors
    for section in ("## Impact", "## Root cause", "## Timeline (UTC)"):
        part = body.split(section)[1].split("\n## ")[0]
        assert "](#step-" in part, section
    evidence = [line for line in body.splitlines() if line.startswith("Evidence:")]
    assert evidence and all("](#step-" in line for line in evidence)


def test_renders_cleanly(demo: dict[str, Any]) -> None:
    md = render_markdown(demo["events"])
    text = visible_text(md)
    for bad in ("\\`", "on —", "time(s)", "step(s)", "..", "\\_", "\\|"):
        assert bad not in text, bad
    assert "`nginx -t`" not in text and "nginx -t" in text  # a code span, not literal backticks
    html = render_html(demo["events"])
    body = re.sub(r"<pre><code[^>]*>.*?</code></pre>", "", html, flags=re.S)  # commands may hold backslashes
    for bad in ("\\`", "\\_", "\\|", "\\[", "\\*", "&amp;amp;", "on —", "time(s)"):
        assert bad not in body, bad
    assert "<code>nginx -t</code>" in html


def test_report_and_its_json_attachment_beside_it(demo: dict[str, Any], tmp_path: Path) -> None:
    report, attachment = write_report(demo["events"], tmp_path / "incident.md")
    assert attachment == tmp_path / "incident.json"
    result = json.loads(attachment.read_text())
    assert result["conclusion"]["cause"] == "gateway-misconfigured"
    assert all("data" in s for s in result["steps"])  # the structured results live here
    assert "[incident.json](incident.json)" in report.read_text()


def test_session_end_writes_the_report_beside_the_journal(demo: dict[str, Any]) -> None:
    journal: Path = demo["journal"]
    report = journal.with_suffix(".md")
    assert f"report: {report}" in demo["stderr"]
    assert report.read_text().startswith("# Checkout API answers 502")
    assert journal.with_suffix(".json").is_file()


def test_report_command_formats_and_attachment(demo: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    run = runbook_cmd("report", str(demo["journal"]), "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert out.is_file() and (tmp_path / "r.json").is_file()
    html = runbook_cmd("report", str(demo["journal"]), "--format", "html").stdout
    assert "<title>Checkout API answers 502</title>" in html
