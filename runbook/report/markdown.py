"""Render the incident report (Jinja2) and write it atomically.

The view model arrives already sanitised and redacted; the filters here only make text inert
as Markdown: escaped inline text, table cells without `|` or line breaks, code spans and
fences sized to their content.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import jinja2

from runbook.report.view import build_view
from runbook.safety import clean, fence

DEFAULT_TEMPLATE = "runbook/incident.md.j2"

# Characters that can start Markdown or HTML constructs anywhere in a line (`#` too: a
# list item "- # x" holds a heading).
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#])")


#: a code span written in the text (playbooks write `nginx -t`): kept as code, it renders literally anyway
_CODE_SPAN = re.compile(r"(`[^`\n]+`)")


def md_text(value: Any) -> str:
    """Untrusted text as inline Markdown that renders literally, on one line. Balanced code
    spans stay code spans (their content is never interpreted); the rest is escaped."""
    # Collapsing whitespace also drops leading indentation, which could start a code block.
    text = " ".join(str(value if value is not None else "").split())
    parts = _CODE_SPAN.split(text)
    text = "".join(p if i % 2 else _escape_inline(p) for i, p in enumerate(parts))
    # Block markers only count at the start of a line: bullets, ordered items, "---"/"===".
    text = re.sub(r"^([-+])(?=\s|$)", r"\\\1", text)
    text = re.sub(r"^(\d{1,9})([.)])(?=\s|$)", r"\1\\\2", text)
    return re.sub(r"^([-=])(?=[-=\s]*$)", r"\\\1", text)


def _escape_inline(text: str) -> str:
    text = _INLINE_SPECIAL.sub(r"\\\1", text)
    # an underscore inside a word never starts emphasis: leave snake_case names readable
    return re.sub(r"(?<=[A-Za-z0-9])\\_(?=[A-Za-z0-9])", "_", text)


def md_quote(value: Any) -> str:
    """Multi-line untrusted text as a block quote, one escaped line per quoted line."""
    lines = str(value or "").split("\n")
    return "\n".join(f"> {md_text(line)}".rstrip() for line in lines)


def md_cell(value: Any) -> str:
    """A table cell: escaped, no raw `|`, line breaks as <br>."""
    # a pipe ends a GFM table cell even inside a code span: \| there renders as |
    lines = [_pipes_in_code(md_text(line)) for line in str(value if value is not None else "").split("\n")]
    return "<br>".join(line for line in lines if line) or " "


def _pipes_in_code(text: str) -> str:
    parts = _CODE_SPAN.split(text)
    return "".join(p.replace("|", "\\|") if i % 2 else p for i, p in enumerate(parts))


def md_code(value: Any) -> str:
    """An inline code span whose backtick fence is longer than any run inside it."""
    text = " ".join(str(value if value is not None else "").split("\n"))
    if not text.strip():
        return ""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text[0] in "` " or text[-1] in "` " else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def md_code_cell(value: Any) -> str:
    # In a GFM table a pipe must be escaped even inside a code span.
    return md_code(value).replace("|", "\\|") or " "


def md_fence(value: Any, info: str = "") -> str:
    return fence(str(value if value is not None else ""), info)


def _environment(template_path: str | Path | None) -> tuple[jinja2.Environment, str]:
    # one environment per template file, so the template is compiled once per process
    key = str(Path(template_path).expanduser().resolve()) if template_path is not None else None
    if key is not None and not Path(key).is_file():
        raise FileNotFoundError(f"report template not found: {key}")
    mtime = Path(key).stat().st_mtime if key else 0.0
    return _cached_environment(key, mtime)


@functools.lru_cache(maxsize=8)
def _cached_environment(template_path: str | None, _mtime: float) -> tuple[jinja2.Environment, str]:
    loaders: list[jinja2.BaseLoader] = [
        # The shipped templates stay reachable as "runbook/..." so a user template can extend them.
        jinja2.PrefixLoader({"runbook": jinja2.PackageLoader("runbook.report", "templates")})
    ]
    name = DEFAULT_TEMPLATE
    if template_path is not None:
        path = Path(template_path).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(f"report template not found: {path}")
        loaders.insert(0, jinja2.FileSystemLoader(str(path.parent)))
        name = path.name
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,  # Markdown, not HTML; escaping is done by the md_* filters
        undefined=jinja2.Undefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=md_text,
        md_quote=md_quote,
        cell=md_cell,
        code=md_code,
        code_cell=md_code_cell,
        fence=md_fence,
        # For user templates that reach into raw values: the view is already clean, but
        # applying it again is harmless (both steps are idempotent).
        clean=clean,
    )
    return env, name


def render_markdown(
    events: list[dict[str, Any]],
    template_path: str | Path | None = None,
    attachment: str | None = None,
    *,
    scrubbed: bool = False,
) -> str:
    """The incident report for a journal's events (any prefix of a journal works); `attachment`
    names the structured-result JSON file written beside it, which the report links to;
    `scrubbed`: the events were cleaned by view.scrub_events already (see report.live)."""
    env, name = _environment(template_path)
    view = build_view(events, scrubbed=scrubbed)
    view["attachment"] = attachment or ""
    text = env.get_template(name).render(view=view, **view)
    return text.rstrip("\n") + "\n"


def write_atomic(path: str | Path, text: str, mode: int | None = None) -> Path:
    """Write `text` so that readers see the old file or the new one, never a torn one;
    `mode` sets the permissions outright, else an existing file's are kept."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        elif path.exists():  # keep the permissions of the file being replaced
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:  # mkstemp makes 0600; a new report gets the usual mode for this umask
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(directory)
    return path


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform (Windows), so best effort.
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def write_report(
    events: list[dict[str, Any]],
    path: str | Path,
    template_path: str | Path | None = None,
    mode: int | None = None,
) -> tuple[Path, Path]:
    """The report and, beside it, its attachment: the structured result as JSON (X.md, X.json)."""
    import json

    from runbook.report.view import build_result

    path = Path(path)
    attachment = path.with_suffix(".json") if path.suffix != ".json" else path.with_suffix(".result.json")
    result = json.dumps(build_result(events), indent=2, ensure_ascii=False, default=str) + "\n"
    write_atomic(attachment, result, mode)
    write_atomic(path, render_markdown(events, template_path, attachment=attachment.name), mode)
    return path, attachment
