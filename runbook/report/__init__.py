"""Journal -> incident report (Markdown via a Jinja2 template users can replace) and JSON."""

from runbook.report.markdown import render_markdown, write_atomic, write_report
from runbook.report.view import build_result, build_view

__all__ = ["build_result", "build_view", "render_markdown", "write_atomic", "write_report"]
