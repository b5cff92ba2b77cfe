"""How a student's answer to a manually graded task is shown beside the score box.

An answer comes in one of several forms, and each form is an `AnswerView`: a section of
answers.md (Markdown with math), the cells of the executed notebook, or pages of a report stored
as PNG files with the result. The queue asks the registered views in order and shows the first
that applies, so a new form (say, a PDF hand-in rendered to pages by another assignment) is one
class with `applies` and `render`, plus `register(...)`: the queue itself does not change.

Every view renders through Jinja2 with autoescaping; Markdown is parsed with raw HTML, links and
images switched off, and math is left as escaped TeX for KaTeX to typeset in the browser.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markdown_it import MarkdownIt
from markupsafe import Markup
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.texmath import texmath_plugin

from grader.judgement.rubric import TaskSpec
from grader.presentation.html import format_number, notebook_view
from grader.results import SubmissionResult, TaskResult

TEMPLATES = Path(__file__).resolve().parent / "templates"
REPORT_TEMPLATES = Path(__file__).resolve().parents[1] / "presentation" / "templates"  # the reports' style
PAGES_DIR = "pages"  # OUT/<submission>/pages/<task>/*.png: an answer handed in as pages (e.g. a PDF report)
MAX_PAGES = 40
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class AnswerContext:
    result: SubmissionResult  # the autograder's result (with TA scores laid over)
    task: TaskResult
    spec: TaskSpec
    folder: Path  # OUT/<submission>: files stored with the result
    page_url: str  # where this task's page N is served: page_url + "N"


class AnswerView(Protocol):
    kind: str

    def applies(self, ctx: AnswerContext) -> bool: ...

    def render(self, ctx: AnswerContext) -> Markup: ...


@functools.cache
def env() -> Environment:
    """The web app's templates, which include the reports' stylesheet and macros."""
    environment = Environment(loader=FileSystemLoader([TEMPLATES, REPORT_TEMPLATES]), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["num"] = format_number
    return environment


@functools.cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True})  # breaks: a proof's lines stay lines
    md.use(texmath_plugin, delimiters="brackets").use(dollarmath_plugin, double_inline=True)
    md.disable(["image", "link", "autolink"])  # nothing a student writes loads or links anything
    return md


def markdown_html(text: str) -> Markup:
    """Student Markdown as HTML: markdown-it escapes all text and drops raw HTML (html=False)."""
    return Markup(_markdown().render(text))


class WrittenText:
    """A section of answers.md (HW4's T4 proof): Markdown with $…$, $$…$$, \\(…\\) and \\[…\\] math."""

    kind = "text"

    def applies(self, ctx: AnswerContext) -> bool:
        return ctx.task.submitted_text is not None

    def render(self, ctx: AnswerContext) -> Markup:
        text = ctx.task.submitted_text or ""
        return Markup(env().get_template("answers/text.html.j2").render(text=text, html=markdown_html(text)))


class NotebookCells:
    """The executed notebook's cells, for a task that reads the notebook."""

    kind = "notebook"

    def applies(self, ctx: AnswerContext) -> bool:
        return "notebook" in ctx.spec.needs and ctx.result.notebook is not None

    def render(self, ctx: AnswerContext) -> Markup:
        return Markup(env().get_template("answers/notebook.html.j2").render(nb=notebook_view(ctx.result.notebook)))


def answer_pages(folder: Path, task_id: str) -> list[Path]:
    """The PNG pages stored for a task, in name order; anything that is not a PNG is left out."""
    where = folder / PAGES_DIR / task_id
    if not where.is_dir():
        return []
    pages = []
    for path in sorted(where.glob("*.png"))[:MAX_PAGES]:
        try:
            with path.open("rb") as fh:
                if fh.read(8) == _PNG_MAGIC:
                    pages.append(path)
        except OSError:
            continue
    return pages


class ReportPages:
    """Pages of a hand-in (a PDF report) rendered to PNGs and stored with the result."""

    kind = "pages"

    def applies(self, ctx: AnswerContext) -> bool:
        return bool(answer_pages(ctx.folder, ctx.task.id))

    def render(self, ctx: AnswerContext) -> Markup:
        pages = answer_pages(ctx.folder, ctx.task.id)
        return Markup(env().get_template("answers/pages.html.j2").render(
            pages=[f"{ctx.page_url}{n}" for n in range(1, len(pages) + 1)]))


class NothingSubmitted:
    kind = "none"

    def applies(self, ctx: AnswerContext) -> bool:
        return True

    def render(self, ctx: AnswerContext) -> Markup:
        return Markup(env().get_template("answers/none.html.j2").render(task=ctx.task))


VIEWS: list[AnswerView] = [ReportPages(), WrittenText(), NotebookCells()]


def register(view: AnswerView, *, first: bool = True) -> None:
    """Add a form of answer; `first` lets it take precedence over the built-in ones."""
    VIEWS.insert(0, view) if first else VIEWS.append(view)


def render_answer(ctx: AnswerContext) -> tuple[str, Markup]:
    view = next((v for v in VIEWS if v.applies(ctx)), NothingSubmitted())
    return view.kind, view.render(ctx)
