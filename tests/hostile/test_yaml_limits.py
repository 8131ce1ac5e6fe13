"""YAML bombs and deep nesting in playbooks and inventories: a file:line error naming the limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.inventory import load_inventory
from runbook.playbook import load_playbook
from runbook.yamlsource import MAX_DEPTH, SourceError, load_yaml
from tests.conftest import runbook_cmd

LAUGHS = "".join(
    f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}" if i else "lol"] * 9) + "]\n" for i in range(10)
)  # 9**10 nodes once expanded

CASES = {
    "alias-cycle": ("a: &a [1, *a]\n", 1, "alias cycle"),
    "alias-cycle-mapping": ("x: 1\nb: &b\n  self: *b\n", 2, "alias cycle"),
    "billion-laughs": (LAUGHS, None, "alias bomb"),
    "chain-1500-sequences": ("[" * 1500 + "]" * 1500 + "\n", 1, "nest"),
    "chain-1500-mappings": ("".join("  " * i + f"k{i}:\n" for i in range(1500)), None, "nest"),
    "chain-via-anchors": (
        "a: &a " + "[" * 60 + "]" * 60 + "\nb: " + "[" * 60 + "*a" + "]" * 60 + "\n",
        None,
        "levels deep",
    ),
}


@pytest.mark.parametrize(("text", "line", "words"), CASES.values(), ids=CASES.keys())
def test_yaml_limits_name_file_line_and_the_limit(tmp_path: Path, text: str, line: int | None, words: str) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    with pytest.raises(SourceError) as err:
        load_yaml(path)
    (problem,) = err.value.problems
    assert problem.startswith(f"{path}:"), problem
    if line is not None:
        assert problem.startswith(f"{path}:{line}:"), problem
    assert words in problem, problem


@pytest.mark.parametrize("kind", ["playbook", "inventory"])
@pytest.mark.parametrize("case", ["alias-cycle", "billion-laughs", "chain-1500-sequences"])
def test_cli_gives_exit_2_and_no_traceback(tmp_path: Path, kind: str, case: str) -> None:
    path = tmp_path / f"{case}.yaml"
    path.write_text(CASES[case][0])
    if kind == "playbook":
        res = runbook_cmd("validate", str(path), timeout=60)
    else:
        res = runbook_cmd(
            "run", "502-bad-gateway", "-i", str(path), "--headless", "--journal", str(tmp_path / "j.jsonl"),
            env={"XDG_DATA_HOME": str(tmp_path / "xdg")}, timeout=60,
        )  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert f"{path}:" in res.stderr


def test_loaders_raise_source_error_for_bombs(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(LAUGHS)
    with pytest.raises(SourceError):
        load_playbook(str(path))
    with pytest.raises(SourceError):
        load_inventory(str(path))


def test_file_size_and_encoding_limits(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * (9 * 1024 * 1024) + "\n")
    with pytest.raises(SourceError, match=r"big\.yaml:1: .* at most"):
        load_yaml(big)
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"id: x\ntitle: ok\nname: caf\xe9\n")
    with pytest.raises(SourceError, match=r"bad\.yaml:3: not UTF-8 text"):
        load_yaml(bad)


def test_ordinary_aliases_and_depth_still_load(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        "base: &base {port: 80}\nweb: {<<: *base, name: w}\ndeep: "
        + "[" * (MAX_DEPTH - 2)
        + "]" * (MAX_DEPTH - 2)
        + "\n"
    )
    data = load_yaml(path).data
    assert data["web"] == {"port": 80, "name": "w"}
