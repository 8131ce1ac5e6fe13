"""Rule expressions that validate but used to crash or stall a run: bounded, and reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.journal import read_journal
from runbook.playbook.expr import ExprError, evaluate, render_text
from tests.conftest import FIXTURES, runbook_cmd

HOSTILE = [
    "1 // 0",
    "1 % 0",
    "range(10**9) | list",
    "'a' * 2000000000",
    "2000000000 * 'a'",
    "[0] * 10**8",
    "(10 ** 100000) ** 100000",
    "'x'.center(2000000000)",
    "'%2000000000s' % 1",
    "range(100000) | map('string') | join * 100",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_expressions_are_expr_errors(source: str) -> None:
    with pytest.raises(ExprError):
        evaluate(source, {})


@pytest.mark.parametrize(
    "template",
    [
        "{{ 1 // 0 }}",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}",
        "{% set s = 'a' * 1000000 %}{% for c in s %}{% for d in s %}{% endfor %}{% endfor %}",
    ],
)
def test_hostile_templates_are_expr_errors(template: str) -> None:
    with pytest.raises(ExprError):
        render_text(template, {})


def test_ordinary_expressions_still_work() -> None:
    assert evaluate("range(3) | list", {}) == [0, 1, 2]
    assert evaluate("'ab' * 3", {}) == "ababab"
    assert evaluate("2 ** 10", {}) == 1024
    assert render_text("{% for i in range(3) %}{{ i }}{% endfor %}", {}) == "012"


def test_a_run_with_hostile_rules_finishes_and_reports_each_as_a_rule_problem(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    res = runbook_cmd(
        "run", str(FIXTURES / "hostile-exprs.yaml"), "-i", str(FIXTURES / "local-inventory.yaml"),
        "--transport", "local", "--headless", "--journal", str(journal),
        env={"XDG_DATA_HOME": str(tmp_path / "xdg")}, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode == 0, res.stderr
    events = read_journal(journal)
    problems = " | ".join(e["message"] for e in events if e["type"] == "rule-problem")
    for rule in ("div title", "huge_range", "huge_string evidence", "nested_loops evidence", "huge_power"):
        assert f"finding {rule}" in problems, problems
    assert "branch to end-bad" in problems and "ZeroDivisionError" in problems
    assert "check each foreach" in problems, problems  # a foreach that fails plans nothing, and says so
    assert not [e for e in events if e["type"] == "step-start" and e.get("check") == "each"]
    assert [e["cause"] for e in events if e["type"] == "conclusion"] == ["no-fault-found"]
