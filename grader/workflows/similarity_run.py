"""`grader similarity`: compare a graded class's code again and redraw the overview's section."""

from __future__ import annotations

from pathlib import Path

from grader.judgement.rubric import Rubric
from grader.judgement.similarity.settings import SimilaritySettingsError
from grader.pipeline import refresh_pages
from grader.similarity import run_similarity
from grader.similarity_results import SimilarityReport
from grader.store import GRADEBOOK_FILE, Gradebook
from grader.workflows import UsageProblem


def similarity_of_class(out: Path, rubric: Rubric) -> SimilarityReport:
    """Fingerprints come from the gradebook's cache (the workers computed them); pairs, pages,
    similarity.csv and index.html's section are rewritten."""
    if not (out / GRADEBOOK_FILE).is_file():
        raise UsageProblem(f"{out} has no {GRADEBOOK_FILE}: grade the submissions into it first")
    with Gradebook(out / GRADEBOOK_FILE) as book:
        try:
            report = run_similarity(out, rubric, book)
        except SimilaritySettingsError as exc:
            raise UsageProblem(str(exc)) from None
        refresh_pages(out, rubric, book)
    return report
