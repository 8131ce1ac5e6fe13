"""Differential: every inventory read by `ansible-inventory --list` (the reference, run now), by
runbook through Ansible and by runbook's own reader. Hosts, variables and groups must agree."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from runbook.inventory import load_inventory
from runbook.inventory.ansible_cli import ansible_inventory_binary, views_from_list
from runbook.inventory.ansible_static import read_static
from runbook.yamlsource import SourceError

from .ansible_corpus import CASES, Case

BINARY = ansible_inventory_binary()
pytestmark = pytest.mark.skipif(BINARY is None, reason="needs ansible-core (pip install -e '.[test]')")

AGREE = {"cases": 0, "built-in reader": 0, "runbook via ansible-inventory": 0}


def write_case(tmp: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        p = tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def reference(source: Path) -> dict[str, Any] | None:
    env = {**os.environ, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True", "ANSIBLE_NOCOLOR": "1"}
    out = subprocess.run([BINARY, "-i", str(source), "--list"], capture_output=True, text=True, env=env)  # type: ignore[list-item]
    return json.loads(out.stdout) if out.returncode == 0 else None


def normal(views: list) -> dict[str, Any]:
    return {v.name: {"vars": json.loads(json.dumps(v.vars, default=str)), "groups": sorted(v.groups)} for v in views}


def host_view(inv: Any) -> dict[str, Any]:
    return {
        name: {
            **h.model_dump(include={"address", "port", "user", "identity_file", "jump", "sudo", "known_hosts", "vars"}),
            "roles": sorted(h.roles),
            "explicit_port": "port" in h.model_fields_set,
        }
        for name, h in inv.hosts.items()
    }


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_inventory_agrees_with_ansible_inventory(case: Case, tmp_path: Path) -> None:
    name, files, src = case
    write_case(tmp_path, files)
    source = tmp_path / src if src != "." else tmp_path
    expected = reference(source)
    AGREE["cases"] += 1
    if expected is None:
        # Ansible refuses it: so must both runbook paths, with file:line from runbook's reader
        with pytest.raises(SourceError) as info:
            read_static(source)
        assert re.match(rf"{re.escape(str(tmp_path))}/\S+:\d+: ", info.value.problems[0]), info.value.problems
        AGREE["built-in reader"] += 1
        with pytest.raises(SourceError) as info:
            load_inventory(source, ansible="ansible")
        assert re.match(rf"{re.escape(str(tmp_path))}/\S+:\d+: ", info.value.problems[0]), info.value.problems
        AGREE["runbook via ansible-inventory"] += 1
        return
    want = normal(views_from_list(expected, str(source)))
    got, _ = read_static(source)
    assert normal(got) == want, f"built-in reader disagrees with ansible-inventory on {name}"
    AGREE["built-in reader"] += 1
    try:
        via_ansible = host_view(load_inventory(source, ansible="ansible"))
    except SourceError as exc:
        via_ansible = {"error": exc.problems}
    try:
        via_builtin = host_view(load_inventory(source, ansible="builtin"))
    except SourceError as exc:
        via_builtin = {"error": exc.problems}
    assert via_builtin == via_ansible, f"the two runbook paths disagree on {name}"
    AGREE["runbook via ansible-inventory"] += 1


def test_print_agreement_counts() -> None:
    print(f"\nAnsible corpus: {len(CASES)} inventories; agreement with ansible-inventory --list: {AGREE}")
    assert len(CASES) >= 60
