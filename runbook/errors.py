"""The error every loader raises for a bad source file (kept apart from the YAML reader, so that
whoever only catches it does not import a YAML parser)."""

from __future__ import annotations


class SourceError(Exception):
    """One or more problems in a source file, each as `file:line: message`."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems
