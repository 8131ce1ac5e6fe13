"""Hostile inventories (issue 12, item 10): every one ends in a clear `file:line: message` naming
the limit hit, in bounded time, through both readers. Each is loaded in a child process with a
deadline, so a hang or a blow-up fails the test instead of stalling the suite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = """
import json, sys
from runbook.inventory import load_inventory
from runbook.yamlsource import SourceError
try:
    try:
        inv = load_inventory(sys.argv[1], ansible=sys.argv[2])
    except TypeError:  # a runbook without the choice of reader (to show these fail on main)
        inv = load_inventory(sys.argv[1])
    print(json.dumps({"hosts": len(inv.hosts), "roles": sorted({r for h in inv.hosts.values() for r in h.roles})}))
except SourceError as exc:
    print(json.dumps({"problems": exc.problems}))
"""
DEADLINE_S = 30


def load(path: Path, reader: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), reader], capture_output=True, text=True, timeout=DEADLINE_S
    )
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-2000:]
    return json.loads(out.stdout)


READERS = ["builtin", "auto"]  # auto = ansible-inventory where installed, after runbook's bounds


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(("pattern", "size"), [("app[0:99999999]", 100_000_000), ("app[0:9999][0:9999]", 100_000_000)])
def test_huge_host_range_is_refused_with_file_and_line(tmp_path: Path, reader: str, pattern: str, size: int) -> None:
    path = tmp_path / "hosts.ini"
    path.write_text(f"[web]\nok1\n{pattern}\n")
    got = load(path, reader)
    assert got["problems"][0].startswith(f"{path}:3: host range '{pattern}' expands to {size} hosts (limit ")


@pytest.mark.parametrize("reader", READERS)
def test_1100_nested_children_groups(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "hosts.ini"
    lines = [f"[g{i}:children]\ng{i + 1}\n" for i in range(1100)] + ["[g1100]\nh1\n"]
    path.write_text("".join(lines))
    got = load(path, reader)
    assert "problems" in got, got
    assert got["problems"][0].startswith(f"{path}:"), got
    assert "levels deep (limit 100)" in got["problems"][0], got


@pytest.mark.parametrize("reader", READERS)
def test_1100_nested_yaml_children(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "inv.yml"
    text = "all:\n"
    for i in range(1100):
        text += "  " * (2 * i + 1) + f"children:\n{'  ' * (2 * i + 2)}g{i}:\n"
    path.write_text(text)
    got = load(path, reader)
    assert got["problems"][0].startswith(f"{path}:"), got
    assert "deeper than" in got["problems"][0], got


@pytest.mark.parametrize("reader", READERS)
def test_26_level_diamond_loads(tmp_path: Path, reader: str) -> None:
    """Two groups per level, each a child of both groups above: 2**26 paths to the top."""
    path = tmp_path / "hosts.ini"
    lines = []
    for level in range(26):
        for side in "ab":
            lines.append(f"[l{level}{side}:children]\nl{level + 1}a\nl{level + 1}b\n")
    lines.append("[l26a]\nh1\n[l26b]\nh2\n")
    path.write_text("".join(lines))
    got = load(path, reader)
    assert got.get("hosts") == 2, got
    assert len(got["roles"]) == 54, got  # every group of every level is an ancestor


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("suffix", ["hosts.ini", "inv.yaml"])
def test_non_utf8_inventory_names_the_line(tmp_path: Path, reader: str, suffix: str) -> None:
    path = tmp_path / suffix
    path.write_bytes(b"# fine\n[web]\nh\xe9llo\n" if suffix.endswith("ini") else b"hosts:\n  h1: {address: caf\xe9}\n")
    got = load(path, reader)
    line = 3 if suffix.endswith("ini") else 2
    assert got["problems"][0].startswith(f"{path}:{line}: not UTF-8"), got
