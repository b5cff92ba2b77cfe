"""A written report (Markdown or plain text) as safe HTML for the TA's page.

Markdown is parsed with markdown-it-py's CommonMark rules with raw HTML turned off, so a
report's `<script>` or `<img onerror>` is shown as text, never run; links keep markdown-it's
own URL validation (no `javascript:`), and the page's Content-Security-Policy loads no remote
image. PDF pages are rasterised in the sandbox at grading time (grader/execution/documents.py);
here they are only embedded.
"""

from __future__ import annotations

import html

from markdown_it import MarkdownIt

_MAX_CHARS = 200_000


def markdown_html(text: str) -> str:
    """The report as HTML; raw HTML in it is escaped, not rendered."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    return md.render(text[:_MAX_CHARS])


def text_html(text: str) -> str:
    return f"<pre class=\"wrap\">{html.escape(text[:_MAX_CHARS])}</pre>"
