"""Where a playbook is: a path, or the id of a shipped one (no parsing, nothing heavy imported)."""

from __future__ import annotations

from pathlib import Path

from runbook.errors import SourceError

PLAYBOOK_DIRS = [
    Path(__file__).resolve().parent.parent / "_playbooks",  # installed wheel
    Path(__file__).resolve().parent.parent.parent / "playbooks",  # source checkout
]


def find_playbook(ref: str) -> Path:
    """A path, or the id of a shipped playbook (`502-bad-gateway`)."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    for directory in PLAYBOOK_DIRS:
        for suffix in (".yaml", ".yml"):
            candidate = directory / f"{ref}{suffix}"
            if candidate.is_file():
                return candidate
    from runbook.suggest import unknown_name

    raise SourceError([unknown_name("playbook file or id", ref, (p.stem for p in shipped_playbooks()))])


def shipped_playbooks() -> list[Path]:
    seen: dict[str, Path] = {}
    for directory in PLAYBOOK_DIRS:
        if directory.is_dir():
            for p in sorted(directory.glob("*.y*ml")):
                seen.setdefault(p.stem, p)
    return list(seen.values())
