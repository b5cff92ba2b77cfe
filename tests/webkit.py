"""A small HW4 gradebook for the web app's tests, built from results rather than by grading (fast).

The results are shaped as grading HW4 shapes them (T4 `manual` with the answers.md section as
submitted text), so the app meets what it meets on a real output folder.
"""

from __future__ import annotations

from pathlib import Path

from grader.judgement.rubric import Rubric
from grader.pipeline import refresh_pages
from grader.presentation.outputs import render_files, write_files
from grader.results import CheckResult, Status, SubmissionResult, TaskResult, Visibility
from grader.store import GRADEBOOK_FILE, Gradebook

PROOF = """Write $P_j = e^{h_j}/S$ with $S = \\sum_k e^{h_k}$.

Quotient rule: for $j = i$, $\\frac{\\partial P_i}{\\partial h_i} = P_i(1 - P_i)$; for $j \\ne i$, $-P_j P_i$.

$$\\frac{\\partial L}{\\partial h_i} = -\\sum_j y_j (\\delta_{ij} - P_i) = P_i - y_i$$
"""


def hw4_result(sub: str, rubric: Rubric, proof: str | None = PROOF, note: str = "") -> SubmissionResult:
    tasks = []
    for spec in rubric.tasks:
        if spec.grader == "manual":
            if proof is None:
                tasks.append(TaskResult(spec.id, spec.title, Status.MISSING, 0.0, spec.points, "nothing written"))
            else:
                tasks.append(TaskResult(spec.id, spec.title, Status.MANUAL, None, spec.points,
                                        "a proof: a TA grades it from the text below", submitted_text=proof))
        elif spec.id in ("T6", "T7"):
            checks = (CheckResult("toy loss", Visibility.PUBLIC, True, 1.3, 1.3),
                      CheckResult(f"hidden reg=0.25 for {sub}", Visibility.HIDDEN, False, 2.0, 2.5))
            tasks.append(TaskResult(spec.id, spec.title, Status.FAIL, 0.0, spec.points,
                                    f"1 of 2 checks failed in {sub}/cattern/neural_net.py", checks=checks))
        else:
            tasks.append(TaskResult(spec.id, spec.title, Status.PASS, spec.points, spec.points, "all checks passed",
                                    checks=(CheckResult("public", Visibility.PUBLIC, True, 1, 1),)))
    notes = (f"used the wrapping folder {sub}/ as the submission root",) if note == "wrapped" else ()
    return SubmissionResult(sub, rubric.id, rubric.version_tag, tuple(tasks), grader_version="test",
                            content_hash=f"hash-of-{sub}", graded_at="2026-11-22T03:00:00+00:00", notes=notes)


def make_gradebook(out: Path, rubric: Rubric, subs: dict[str, str | None], note: str = "") -> Path:
    """An output folder as `grader grade` leaves it: gradebook, per-submission files, class pages."""
    with Gradebook(out / GRADEBOOK_FILE) as book:
        for sub, proof in subs.items():
            result = hw4_result(sub, rubric, proof, note)
            book.record(result, str(out.parent / "subs" / sub))
            write_files(out / sub, render_files(result, gradescope=True))
        refresh_pages(out, rubric, book)
    return out
