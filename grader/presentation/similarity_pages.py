"""What a TA sees of similarity: the section of the class overview, a page per flagged pair, the CSV.

TA-only: these are drawn from a `SimilarityReport`, which is never part of a submission's result,
so no student-facing file can carry them. Every submission id reaches the page through Jinja2
autoescaping, as in the other reports; every piece of code through `markupsafe.escape` (what that
autoescaping calls) in `_code_lines`, which draws the code's lines in Python: a page holds a few
hundred lines of a few pieces each, and per-line template logic (filters, loops, one escape per
piece) made 100 pages cost 3 s. Pages have no scripts, and a matching region links to its
counterpart on the other side with a plain `#` anchor.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from urllib.parse import quote

from markupsafe import Markup, escape

from grader.similarity_results import DocumentView, PairScore, PairView, SimilarityReport

INDEX_ROWS = 60  # pairs listed in the class overview; similarity.csv has them all
PALETTE = 8  # distinct colours for matching regions, reused in turn


def pairs_csv(pairs: tuple[PairScore, ...] | list[PairScore]) -> str:
    """`a,b,score`, highest first: one row per pair the index found sharing at least one counted fingerprint."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["a", "b", "score"])
    for p in pairs:
        writer.writerow([p.a, p.b, f"{p.score:.4f}"])
    return buffer.getvalue()


@dataclass(frozen=True)
class _Document:
    path: str
    html: Markup  # the code's lines, one `<span class="l">` each, joined by line breaks
    n_lines: int
    matched_lines: int


def _code_lines(doc: DocumentView, side: str, seen: set[int]) -> _Document:
    """The document's lines as HTML: each carries its number (`data-n`, shown by the stylesheet),
    and a match that spans lines (a multi-line string) is marked on each of its lines. A region's
    first piece on this side carries the anchor (`a-m3`) the other side links to.

    The code is escaped first (escaping leaves line ends alone), marked, then cut at line ends: the
    only links on the page's code are a region's, so a line with a link is a line with a match.
    """
    other = "b" if side == "a" else "a"
    out: list[str] = []
    for seg in doc.segments:
        text = str(escape(seg.text))
        match = seg.match
        if match is None:
            out.append(text)
            continue
        parts = text.split("\n")
        for i, part in enumerate(parts):
            if not part:
                continue
            if match:
                anchor = f' id="{side}-m{match}"' if match not in seen else ""
                seen.add(match)
                parts[i] = (f'<mark class="c{match % PALETTE}"{anchor}>'
                            f'<a href="#{other}-m{match}" title="region {match}">{part}</a></mark>')
            else:  # 0: a region of this side the other side's numbering could not place
                parts[i] = f'<mark class="c-none">{part}</mark>'
        out.append("\n".join(parts))
    lines = "".join(out).split("\n")
    if not lines[-1]:
        lines.pop()
    hits = ['<a href="#' in line for line in lines]
    html = "\n".join(f'<span class="l{" hit" if hit else ""}" data-n="{n}">{line}</span>'
                     for n, (line, hit) in enumerate(zip(lines, hits, strict=True), start=1))
    return _Document(doc.path, Markup(html), len(lines), sum(hits))


def render_pair_page(view: PairView, report: SimilarityReport) -> str:
    from grader.presentation.html import _env  # html.py draws the overview with this module's rows

    seen_left: set[int] = set()
    seen_right: set[int] = set()
    return _env().get_template("similarity_pair.html.j2").render(
        pair=view.pair, left=[_code_lines(d, "a", seen_left) for d in view.left],
        right=[_code_lines(d, "b", seen_right) for d in view.right], matches=view.matches, report=report,
        report_href=report_from_page)


def index_rows(report: SimilarityReport) -> list[tuple[int, PairScore, str | None]]:
    """Every flagged pair, then the highest below the threshold, up to INDEX_ROWS (at least 10 below)."""
    flagged = list(report.flagged)
    below = [p for p in report.pairs if p.score < report.threshold]
    shown = flagged[:INDEX_ROWS] + below[:max(10, INDEX_ROWS - len(flagged))]
    return [(rank, p, report.page_for(p)) for rank, p in enumerate(shown, start=1)]


def page_href(name: str) -> str:
    return "similarity/" + quote(name)


def report_from_page(sub: str) -> str:
    """A submission's report, linked from a pair page one folder down."""
    return "../" + quote(sub, safe="") + "/report.html"
