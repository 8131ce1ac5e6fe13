"""The Markdown report as one self-contained HTML page (markdown-it-py, CommonMark + tables)."""

from __future__ import annotations

import html
from typing import Any

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
pre { background: #f5f5f5; padding: .5rem; overflow-x: auto; }
code { font-family: ui-monospace, monospace; font-size: 90%; }
blockquote { border-left: 3px solid #ccc; margin-left: 0; padding-left: 1rem; color: #444; }
"""


def markdown_to_html(markdown: str, title: str = "Incident report") -> str:
    from markdown_it import MarkdownIt

    # html=False: raw HTML in the Markdown (there is none but <br> in cells) is shown, not run
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    body = md.render(markdown)
    body = body.replace("&lt;br&gt;", "<br>")  # the report's only markup: line breaks in table cells
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )


def render_html(events: list[dict[str, Any]], template_path: Any = None) -> str:
    from runbook.report.markdown import render_markdown

    markdown = render_markdown(events, template_path)
    import re

    first = next((line[2:].strip() for line in markdown.splitlines() if line.startswith("# ")), "Incident report")
    return markdown_to_html(markdown, re.sub(r"\\(.)", r"\1", first))
