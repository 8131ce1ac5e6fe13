"""`runbook validate`: the shipped playbook passes; each kind of error gives file:line and exit 2."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runbook.playbook import load_playbook
from runbook.yamlsource import SourceError
from tests.conftest import PLAYBOOK_502, runbook_cmd

GOOD = """\
id: t
title: T
start: a
host_vars: {port: 80}
nodes:
  a:
    title: A
    checks:
      - {id: c1, on: backend, shell: "curl -s localhost:{port}"}
    findings:
      - {id: f1, check: c1, when: "r.exit_status != 0", title: failed}
    next:
      - {when: f1, goto: bad}
      - goto: good
  good:
    needs: [c1]
    conclusion: {cause: no-fault-found, title: fine}
  bad:
    needs: [c1@cited]
    conclusion: {cause: backend-down, title: down}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pb.yaml"
    path.write_text(text)
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(SourceError) as info:
        load_playbook(write(tmp_path, text))
    return info.value.problems


def line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


def test_shipped_playbook_is_valid() -> None:
    result = runbook_cmd("validate", str(PLAYBOOK_502))
    assert result.returncode == 0, result.stderr
    pb = load_playbook("502-bad-gateway")  # by id too
    assert pb.start == "symptom"
    causes = {n.conclusion.cause for n in pb.nodes.values() if n.conclusion}
    assert causes == {
        "backend-down",
        "backend-overloaded",
        "gateway-misconfigured",
        "dns-failure",
        "malformed-response",
        "network-blocked",
        "no-fault-found",
    }


def test_good_fixture_loads(tmp_path: Path) -> None:
    assert load_playbook(write(tmp_path, GOOD)).id == "t"


@pytest.mark.parametrize(
    ("mutate", "needle", "message"),
    [
        (lambda s: s.replace("title: A\n", "title: A\n    colour: red\n"), "colour: red", "unknown key 'colour'"),
        (lambda s: s.replace("goto: good", "goto: nowhere"), "goto: nowhere", "missing node 'nowhere'"),
        (
            lambda s: s + "  orphan:\n    needs: [c1]\n    conclusion: {cause: dns-failure, title: lost}\n",
            "orphan:",
            "cannot be reached",
        ),
        (lambda s: s.replace("cause: backend-down", "cause: gremlins"), "cause: gremlins", "not one of"),
        (lambda s: s.replace("localhost:{port}", "{backend_host}:{port}"), "backend_host", "{backend_host}, which no"),
        (
            lambda s: s.replace('when: "r.exit_status != 0"', 'when: "r.exit_status !="'),
            "r.exit_status !=",
            "cannot parse expression",
        ),
        (
            lambda s: s.replace("{when: f1, goto: bad}", "{when: f_unknown, goto: bad}"),
            "f_unknown",
            "f_unknown, which no",
        ),
        # gaps: a conclusion says what it needs; a rule reading a check's output guards for a gap
        (lambda s: s.replace("    needs: [c1]\n", ""), "cause: no-fault-found", "declares what it `needs:`"),
        (lambda s: s.replace("needs: [c1]", "needs: [c9]"), "needs: [c9]", "needs 'c9', which is no check"),
        (
            lambda s: s.replace("{when: f1, goto: bad}", "{when: c1.exit_status, goto: bad}"),
            "c1.exit_status",
            "reads c1 without guarding for a gap",
        ),
        (
            lambda s: s.replace("title: failed}", 'title: "failed {{ c1.stdout }}"}'),
            "failed {{",
            "reads c1 without guarding for a gap",
        ),
    ],
    ids=[
        "unknown-key",
        "missing-node",
        "unreachable",
        "bad-cause",
        "unknown-template-var",
        "bad-expression",
        "unknown-finding",
        "conclusion-without-needs",
        "needs-unknown-name",
        "branch-reads-check-unguarded",
        "title-reads-check-unguarded",
    ],
)
def test_each_error_names_file_line_and_problem(tmp_path: Path, mutate, needle: str, message: str) -> None:
    text = mutate(GOOD)
    path = write(tmp_path, text)
    result = runbook_cmd("validate", str(path))
    assert result.returncode == 2
    expected_line = line_of(text, needle)
    lines = [ln for ln in result.stderr.splitlines() if message in ln]
    assert lines, result.stderr
    assert re.match(rf"^{re.escape(str(path))}:{expected_line}: ", lines[0]), (lines[0], expected_line)


def test_a_guarded_read_of_a_check_validates(tmp_path: Path) -> None:
    text = GOOD.replace("{when: f1, goto: bad}", "{when: \"seen('c1') and c1.exit_status\", goto: bad}")
    assert load_playbook(write(tmp_path, text)).id == "t"


def test_cycle_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace("      - goto: good\n", "      - goto: loop\n") + (
        "  loop:\n    title: L\n    next:\n      - goto: a\n"
    )
    problems = problems_of(tmp_path, text)
    assert any("cycle: a -> loop -> a" in p for p in problems), problems


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    text = GOOD.replace("title: A\n", "title: [A\n")
    problems = problems_of(tmp_path, text)
    assert problems[0].startswith(f"{tmp_path / 'pb.yaml'}:")
    assert "YAML syntax" in problems[0]


def test_every_error_is_reported_not_just_the_first(tmp_path: Path) -> None:
    schema = GOOD.replace("title: A\n", "title: A\n    colour: red\n").replace("cause: backend-down", "cause: x")
    assert len(problems_of(tmp_path, schema)) == 2
    graph = GOOD.replace("goto: good", "goto: nowhere").replace("{when: f1, goto: bad}", "{when: nope, goto: bad}")
    assert len(problems_of(tmp_path, graph)) >= 3  # missing node, unknown name, unreachable `good`


def test_on_key_is_not_a_boolean(tmp_path: Path) -> None:
    # YAML 1.1 would read `on:` as True; the loader must keep it a role name
    pb = load_playbook(write(tmp_path, GOOD))
    assert pb.nodes["a"].checks[0].on == "backend"


def test_scenario_validation(tmp_path: Path) -> None:
    bad = tmp_path / "s.jsonl"
    bad.write_text('{"type": "scenario", "format": 1, "name": "x", "playbook": "502-bad-gateway"}\nnot json\n')
    result = runbook_cmd("validate", str(bad))
    assert result.returncode == 2
    assert f"{bad}:2: not JSON" in result.stderr


def test_a_passed_check_is_remembered_and_an_edit_is_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole-tree check is skipped for content that passed it before, never for new content."""
    from runbook.playbook import loader

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    calls: list[str] = []
    real = loader.check_playbook

    def counting(pb, source):  # type: ignore[no-untyped-def]
        calls.append(pb.id)
        return real(pb, source)

    monkeypatch.setattr(loader, "check_playbook", counting)
    path = tmp_path / "t.yaml"
    path.write_text(GOOD)
    load_playbook(path)
    load_playbook(path)
    assert calls == ["t"]
    assert len(list((tmp_path / "cache").rglob("checked-playbooks/*"))) == 1
    # a graph error added to content that passed before is still found
    path.write_text(GOOD.replace("goto: good", "goto: nowhere"))
    with pytest.raises(SourceError, match="nowhere"):
        load_playbook(path)
    assert calls == ["t", "t"]
