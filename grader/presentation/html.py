"""HTML reports: one page per submission for the TA/student, and a class overview.

Everything a student controls (messages, expected/got, tracebacks, output, submitted text,
notebook cells, even the submission id) reaches the page only through Jinja2 autoescaping;
templates never mark such data `|safe`. Images are embedded as `data:` URLs only after they are
checked to decode to a PNG. Pages are self-contained (inline CSS and images, no scripts, no
external loads) so they can be mailed, archived or opened offline without phoning home.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from grader.lateness import Lateness
from grader.presentation.atomic import write_text_atomic
from grader.presentation.documents import markdown_html, text_html
from grader.presentation.lateness_view import late_view
from grader.presentation.plots import render_plot
from grader.presentation.similarity_pages import index_rows, page_href
from grader.results import (
    AUTO_GRADED,
    Cause,
    CheckResult,
    DocumentReport,
    NotebookReport,
    Plot,
    ScriptReport,
    Status,
    SubmissionResult,
    TaskResult,
)
from grader.similarity_results import SimilarityReport

_TEMPLATES = Path(__file__).resolve().parent / "templates"

# Long student data (a huge `got`, a print loop) must not turn a report into a 50 MB page.
_MAX_VALUE_CHARS = 4000
_MAX_OUTPUT_CHARS = 20000
_TITLE_MESSAGE_CHARS = 160
_MAX_SOURCE_CHARS = 6000
_MAX_PNG_BYTES = 600 * 1024
_MAX_NOTEBOOK_IMAGES = 24
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# a static page loads nothing and runs nothing: inline CSS, data: images only
STATIC_CSP = Markup("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'")

STATUS_LEGEND: tuple[tuple[str, str], ...] = (
    ("pass", "all counted checks passed"),
    ("fail", "the code ran but at least one check failed"),
    (
        "error",
        "the code raised or crashed (or the grader did, if marked as a grader failure)",
    ),
    ("timeout", "the code ran past its time limit"),
    ("missing", "nothing was submitted for this task"),
    ("manual", "awaits grading by a TA"),
    ("graded", "scored by a TA (kept when the autograder runs again)"),
    ("pending", "not graded by this version of the grader"),
)


@functools.cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=True,  # unconditional: templates are *.j2, so select_autoescape would miss them
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = format_number
    env.globals["value_pair"] = _format_pair
    env.filters["clip"] = _clip
    env.globals["STATUS_LEGEND"] = STATUS_LEGEND
    env.globals["is_mismatch"] = is_mismatch
    return env


def preload_templates() -> None:
    """Compile every template now: worker processes forked afterwards inherit them compiled, instead of
    each spending about a second compiling its own (benchmarks/profile_notebook.py)."""
    env = _env()
    for path in sorted(Path(_TEMPLATES).glob("*.j2")):
        env.get_template(path.name)


def format_number(x: float | None) -> str:
    """Show points and scores the way a person writes them (`1`, `0.75`, `12.5`), not `1.0`."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.4f}".rstrip("0").rstrip(".")


def _compact_scalar(v: Any, digits: int) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return repr(v) if digits >= 17 else format(v, f".{digits}g")
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return json.dumps(v, ensure_ascii=False, default=str)


def _compact(v: Any, digits: int) -> str:
    """A JSON-like one-liner with floats shortened to `digits` significant digits."""
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_compact(x, digits) for x in v) + "]"
    if isinstance(v, dict):
        items = (
            f"{_compact_scalar(str(k), digits)}: {_compact(x, digits)}"
            for k, x in v.items()
        )
        return "{" + ", ".join(items) + "}"
    return _compact_scalar(v, digits)


def _pretty(v: Any, digits: int, indent: int = 0) -> str:
    """Multi-line form: a matrix gets one row per line, other containers one item per line."""
    sep = ",\n" + " " * (indent + 1)
    if isinstance(v, (list, tuple)):
        if not v:
            return "[]"
        if all(not isinstance(x, (list, tuple, dict)) for x in v):
            return _compact(v, digits)
        return "[" + sep.join(_pretty(x, digits, indent + 1) for x in v) + "]"
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = (
            f"{_compact_scalar(str(k), digits)}: {_pretty(x, digits, indent + 1)}"
            for k, x in v.items()
        )
        return "{" + sep.join(items) + "}"
    return _compact_scalar(v, digits)


@dataclass(frozen=True)
class _Value:
    kind: str  # "none" | "text" | "num" | "inline" | "pre"
    text: str


def _format_value(v: Any, digits: int = 6) -> _Value:
    if v is None:
        return _Value("none", "—")
    if isinstance(v, bool):
        return _Value("num", "true" if v else "false")
    if isinstance(v, (int, float)):
        return _Value("num", _compact_scalar(v, digits))
    if isinstance(v, str):
        kind = "pre" if "\n" in v or len(v) > 120 else "text"
        return _Value(kind, _clip(v, _MAX_VALUE_CHARS))
    nested = isinstance(v, dict) or (
        isinstance(v, (list, tuple))
        and any(isinstance(x, (list, tuple, dict)) for x in v)
    )
    one_line = _compact(v, digits)
    if not nested and len(one_line) <= 80:
        return _Value("inline", one_line)
    return _Value("pre", _clip(_pretty(v, digits), _MAX_VALUE_CHARS))


def _format_pair(expected: Any, got: Any, passed: bool | None) -> tuple[_Value, _Value]:
    """Expected/got, short by default, but never rounded into looking equal on a failed check."""
    for digits in (6, 10, 17):
        pair = _format_value(expected, digits), _format_value(got, digits)
        if passed is not False or expected == got or pair[0] != pair[1]:
            return pair
    return pair


def _clip(text: str | None, limit: int = _MAX_OUTPUT_CHARS) -> str:
    text = text or ""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit} more characters not shown)"


def _one_line(text: str, limit: int = _TITLE_MESSAGE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sandbox_warning(sandbox: str) -> bool:
    s = sandbox.lower()
    return "weak" in s or "none" in s


def is_mismatch(check: CheckResult) -> bool:
    """A not-counted claim check that caught the notebook printing what the grader cannot reproduce."""
    return check.passed is None and isinstance(check.message, str) and "MISMATCH" in check.message


def valid_png(data: object, max_bytes: int = _MAX_PNG_BYTES) -> str | None:
    """`data` as canonical base64 when it really is a PNG (of at most `max_bytes`), else None.

    Whatever comes back is plain base64 alphabet, so it is safe inside a `data:` URL attribute.
    """
    if not isinstance(data, str) or len(data) > max_bytes * 4 // 3 + 64:
        return None
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    if not raw.startswith(_PNG_MAGIC) or len(raw) > max_bytes:
        return None
    return base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class _PlotView:
    title: str
    png: str | None  # None: "plot unavailable"


def draw_plot(plot: Plot) -> str | None:
    """A plot as base64 PNG, or None ("plot unavailable"); the default for render_report's `plot_png`."""
    return valid_png(render_plot(plot))


def _plots(task: TaskResult, plot_png: Callable[[Plot], str | None]) -> list[_PlotView]:
    return [_PlotView(str(p.title), plot_png(p)) for p in task.plots]


@dataclass(frozen=True)
class _OutputView:
    kind: str  # text | error | image
    text: str = ""
    png: str | None = None


@dataclass(frozen=True)
class _CellView:
    index: str
    status: str
    tone: str  # ok | bad | timeout | grey
    source: str
    first_line: str
    n_lines: int
    open: bool
    outputs: tuple[_OutputView, ...]
    n_dropped_images: int


@dataclass(frozen=True)
class _NotebookView:
    status: str
    tone: str
    message: str
    duration: str
    notes: tuple[str, ...]
    cells: tuple[_CellView, ...]
    executed_href: str | None
    executed_name: str | None


_NOTEBOOK_TONES = {"ok": "ok", "error": "bad", "dead": "bad", "timeout": "timeout"}
_CELL_TONES = {"ok": "ok", "error": "bad", "dead": "bad", "timeout": "timeout"}
_SAFE_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,200}")


def _text_of(value: object) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _notebook(nb: NotebookReport | None) -> _NotebookView | None:
    if nb is None:
        return None
    images_left = _MAX_NOTEBOOK_IMAGES
    cells = []
    for cell in nb.cells:
        outputs = []
        dropped = 0
        for out in cell.outputs:
            if out.kind == "image":
                png = valid_png(out.png) if images_left > 0 else None
                if png is None:
                    dropped += 1  # not a PNG (or over the cap): never embedded
                    continue
                images_left -= 1
                outputs.append(_OutputView("image", png=png))
            elif out.kind in ("text", "error"):
                text = _text_of(out.text)
                if out.kind == "text" and outputs and outputs[-1].kind == "text":  # stream chunks: one block
                    text = outputs.pop().text + text
                outputs.append(_OutputView(out.kind, _clip(text)))
        source = _text_of(cell.source)
        status = _text_of(cell.status)
        first = next((line.strip() for line in source.splitlines() if line.strip()), "")
        cells.append(
            _CellView(
                index=_text_of(cell.index),
                status=status,
                tone=_CELL_TONES.get(status, "grey"),
                source=_clip(source, _MAX_SOURCE_CHARS),
                first_line=_one_line(first, 100),
                n_lines=len(source.splitlines()),
                open=status in ("error", "timeout", "dead"),
                outputs=tuple(outputs),
                n_dropped_images=dropped,
            )
        )
    try:  # a notebook that never started (missing, invalid) has no duration worth showing
        seconds = float(nb.duration_s)
        duration = f"{seconds:.1f} s" if seconds > 0 else ""
    except (TypeError, ValueError):
        duration = ""
    # a relative link to the executed notebook next to report.html; anything path- or URL-like is not linked
    name = nb.executed_file if isinstance(nb.executed_file, str) else None
    href = quote(name, safe="") if name and _SAFE_FILE.fullmatch(name) else None
    status = _text_of(nb.status)
    return _NotebookView(
        status=status,
        tone=_NOTEBOOK_TONES.get(status, "grey"),
        message=_clip(_text_of(nb.message), _MAX_VALUE_CHARS),
        duration=duration,
        notes=tuple(_text_of(n) for n in nb.notes),
        cells=tuple(cells),
        executed_href=href,
        executed_name=name,
    )


def notebook_view(nb: NotebookReport | None) -> _NotebookView | None:
    """The notebook as the report shows it (cells, outputs, checked images), for other pages to reuse."""
    return _notebook(nb)


@dataclass(frozen=True)
class _FigureView:
    title: str
    png: str


@dataclass(frozen=True)
class _ScriptView:
    name: str
    path: str
    status: str
    tone: str
    message: str
    timing: str
    output: str
    figures: tuple[_FigureView, ...]
    n_dropped_figures: int
    files: tuple[str, ...]


_SCRIPT_TONES = {"ok": "ok", "error": "bad", "killed": "bad", "failed": "bad", "timeout": "timeout"}
_MAX_SCRIPT_FIGURES = 24
_MAX_DOCUMENT_PAGES = 24
_MAX_PAGE_BYTES = 900 * 1024


def _scripts(reports: tuple[ScriptReport, ...]) -> list[_ScriptView]:
    views = []
    left = _MAX_SCRIPT_FIGURES
    for script in reports:
        figures, dropped = [], 0
        for fig in script.figures:
            png = valid_png(fig.png) if left > 0 else None
            if png is None:
                dropped += 1
                continue
            left -= 1
            figures.append(_FigureView(f"{_text_of(fig.name)} ({_text_of(fig.how)})", png))
        timing = ""
        if script.status not in ("missing", "failed"):
            timing = f"{float(script.cpu_s):.1f} CPU-s of a {float(script.cpu_budget_s):g} s budget, " \
                     f"{float(script.wall_s):.1f} s wall-clock"
        status = _text_of(script.status)
        views.append(_ScriptView(_text_of(script.name), _text_of(script.path), status,
                                 _SCRIPT_TONES.get(status, "grey"), _clip(_text_of(script.message), _MAX_VALUE_CHARS),
                                 timing, _clip(_text_of(script.output)), tuple(figures), dropped,
                                 tuple(_text_of(f) for f in script.files)))
    return views


@dataclass(frozen=True)
class _DocumentView:
    name: str
    path: str
    status: str
    tone: str
    message: str
    pages: tuple[str, ...]
    body: Markup | None  # a Markdown or text report as safe HTML
    tasks: tuple[str, ...]


def _documents(reports: tuple[DocumentReport, ...]) -> list[_DocumentView]:
    views = []
    for doc in reports:
        pages = tuple(p for p in (valid_png(page, _MAX_PAGE_BYTES) for page in doc.pages[:_MAX_DOCUMENT_PAGES]) if p)
        body = None
        if doc.kind == "markdown" and doc.text:
            body = Markup(markdown_html(_text_of(doc.text)))  # raw HTML is disabled in the parser
        elif doc.text:
            body = Markup(text_html(_text_of(doc.text)))  # escaped by text_html
        status = _text_of(doc.status)
        views.append(_DocumentView(_text_of(doc.name), _text_of(doc.path or ""), status,
                                   {"ok": "ok", "invalid": "bad", "failed": "bad"}.get(status, "grey"),
                                   _clip(_text_of(doc.message), _MAX_VALUE_CHARS), pages, body,
                                   tuple(_text_of(t) for t in doc.tasks)))
    return views


def _document_places(documents: list[_DocumentView]) -> dict[str, tuple[_DocumentView, bool]]:
    """Where each report is shown: in full with the first manual task it feeds, as a pointer with the others."""
    places: dict[str, tuple[_DocumentView, bool]] = {}
    for doc in documents:
        for index, task_id in enumerate(doc.tasks):
            places.setdefault(task_id, (doc, index == 0))
    return places


def render_report(result: SubmissionResult, *, for_student: bool = False, lateness: Lateness | None = None,
                  chrome: Mapping[str, Any] | None = None, plot_png: Callable[[Plot], str | None] = draw_plot) -> str:
    """Give a TA (or the student) one page that explains every point given or withheld.

    A grader failure is shown as such, loudly, so nobody reads it as a zero; hidden checks are
    tagged so a TA knows what not to paste back to a student verbatim. `for_student` words the
    legend for a student (pass it the student view of the result: see student_view).

    `chrome` lets another page reuse this one's template (the web app's live report, a released
    feedback page): `csp` replaces the content security policy, `head` (Markup) goes into <head>,
    `top` and `bottom` (Markup) above and below the report. `plot_png` draws a plot (a cache can
    stand in: drawing the plots is most of a report's cost).
    """
    documents = _documents(result.documents)
    counts: dict[str, int] = {}
    for t in result.tasks:
        counts[t.status.value] = counts.get(t.status.value, 0) + 1
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            r=result,
            status_counts=[(s, counts[s]) for s, _ in STATUS_LEGEND if s in counts],
            sandbox_warning=_sandbox_warning(result.sandbox),
            max_output_chars=_MAX_OUTPUT_CHARS,
            Cause=Cause,
            plots=[_plots(t, plot_png) for t in result.tasks],
            notebook=_notebook(result.notebook),
            scripts=_scripts(result.scripts),
            document_places=_document_places(documents),
            unattached_documents=[d for d in documents if not d.tasks],
            mismatch_tasks=[t.id for t in result.tasks if any(is_mismatch(c) for c in t.checks)],
            for_student=for_student,
            late=late_view(lateness, result.score, result.max_score),
            chrome={"csp": STATIC_CSP, **(chrome or {})},
        )
    )


@dataclass(frozen=True)
class _Cell:
    status: str
    text: str
    title: str
    grader_failed: bool


def _cell(task_id: str, task: TaskResult | None) -> _Cell:
    if task is None:
        return _Cell("absent", "n/a", f"{task_id}: not in this result", False)
    if task.grader_failed:
        text = "grader"
    elif task.points is not None:
        text = format_number(task.points)
    else:
        text = task.status.value
    title = f"{task_id}: {task.status.value}"
    if task.grader_failed:
        title += " (grader failure, not a zero)"
    title += f" — {format_number(task.points)} / {format_number(task.max_points)}"
    if task.message:
        title += " — " + _one_line(task.message)
    return _Cell(task.status.value, text, title, task.grader_failed)


def _pass_rates(
    results: list[SubmissionResult], task_ids: list[str]
) -> list[tuple[str, str]]:
    # Grader failures are left out of the denominator: they say nothing about the students.
    rates = []
    for tid in task_ids:
        graded = passed = 0
        for r in results:
            t = next((t for t in r.tasks if t.id == tid), None)
            if t is None or t.status not in AUTO_GRADED or t.grader_failed:
                continue
            graded += 1
            passed += t.status is Status.PASS
        if graded:
            rates.append(
                (
                    f"{100 * passed / graded:.0f}%",
                    f"{passed} of {graded} auto-graded passed",
                )
            )
        else:
            rates.append(("—", "not auto-graded (manual/pending) in any submission"))
    return rates


def render_index(
    results: list[SubmissionResult], task_ids: list[str], task_titles: dict[str, str],
    lateness: dict[str, Lateness] | None = None,
    similarity: SimilarityReport | None = None,
    *, chrome: Mapping[str, Any] | None = None,
) -> str:
    """Let a TA scan the whole class at once and spot weak tasks and grader failures.

    Links are relative (`<id>/report.html`) so the output directory can be moved or zipped.
    `chrome` as for render_report (the web app's live overview).
    """
    ordered = sorted(results, key=lambda r: r.submission)
    rows = []
    for r in ordered:
        by_id = {t.id: t for t in r.tasks}
        rows.append(
            {
                "r": r,
                "href": quote(r.submission, safe="") + "/report.html",
                "cells": [_cell(tid, by_id.get(tid)) for tid in task_ids],
            }
        )
    max_scores = {r.max_score for r in ordered}
    return (
        _env()
        .get_template("index.html.j2")
        .render(
            rows=rows,
            task_ids=task_ids,
            task_titles=task_titles,
            pass_rates=_pass_rates(ordered, task_ids),
            n_submissions=len(ordered),
            mean_score=round(statistics.fmean(r.score for r in ordered), 2)
            if ordered
            else None,
            common_max=max_scores.pop() if len(max_scores) == 1 else None,
            n_grader_errors=sum(1 for r in ordered if r.grader_failures),
            late={r.submission: late_view(lateness.get(r.submission), r.score, r.max_score) for r in ordered}
            if lateness else None,
            similarity=similarity,
            similarity_rows=index_rows,
            similarity_href=page_href,
            report_href=lambda sub: quote(sub, safe="") + "/report.html",
            rubrics=sorted(
                {
                    f"{r.rubric} v{r.rubric_version}" if r.rubric_version else r.rubric
                    for r in ordered
                }
            ),
            chrome={"csp": STATIC_CSP, **(chrome or {})},
        )
    )


def write_index(
    path: Path,
    results: list[SubmissionResult],
    task_ids: list[str],
    task_titles: dict[str, str],
    lateness: dict[str, Lateness] | None = None,
    similarity: SimilarityReport | None = None,
) -> None:
    """Write the class overview atomically, so a TA refreshing the page never sees half of it."""
    write_text_atomic(path, render_index(results, task_ids, task_titles, lateness=lateness, similarity=similarity))
