"""What a TA sees of similarity: the section of the class overview, a page per flagged pair, the CSV.

TA-only: these are drawn from a `SimilarityReport`, which is never part of a submission's result,
so no student-facing file can carry them. Every submission id and every line of code reaches the
page through Jinja2 autoescaping, as in the other reports; pages have no scripts, and a matching
region links to its counterpart on the other side with a plain `#` anchor.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from urllib.parse import quote

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
class _Piece:
    text: str
    match: int | None
    anchor: bool = False  # the first piece of its region on this side: what the other side links to


@dataclass(frozen=True)
class _Document:
    path: str
    lines: list[list[_Piece]]
    matched_lines: int


def _lines(doc: DocumentView, seen: set[int]) -> _Document:
    """Segments cut at line ends, so each line can carry its number and a match can span lines."""
    lines: list[list[_Piece]] = [[]]
    for seg in doc.segments:
        parts = seg.text.split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append([])
            if part:
                first = bool(seg.match) and seg.match not in seen
                seen.add(seg.match or 0)
                lines[-1].append(_Piece(part, seg.match, first))
    if lines and not lines[-1]:
        lines.pop()
    matched = sum(1 for line in lines if any(p.match for p in line))
    return _Document(doc.path, lines, matched)


def render_pair_page(view: PairView, report: SimilarityReport) -> str:
    from grader.presentation.html import _env  # html.py draws the overview with this module's rows

    seen_left: set[int] = set()
    seen_right: set[int] = set()
    return _env().get_template("similarity_pair.html.j2").render(
        pair=view.pair, left=[_lines(d, seen_left) for d in view.left],
        right=[_lines(d, seen_right) for d in view.right], matches=view.matches, palette=PALETTE, report=report,
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
