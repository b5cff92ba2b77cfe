"""The report's layout in a real browser: a TA on a laptop never scrolls sideways to read a verdict.

A check table grows to its content's narrowest possible width, and a `<pre>` of a matrix or a long
unbroken check name cannot wrap: before the fix, Hand-in 1's T6 table (a softmax matrix in both
value columns, `neural_network.softmax` as a name) pushed the page 110 px past a 1280-px window.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from grader.presentation.html import render_report
from grader.results import CheckResult, Status, SubmissionResult, TaskResult, Visibility

playwright_api = pytest.importorskip("playwright.sync_api", reason="the layout test needs playwright (pip)")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="the layout test needs Debian's chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def page() -> Iterator[object]:
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 900})
        finally:
            browser.close()


def _wide_result() -> SubmissionResult:
    matrix = np.random.default_rng(0).random((4, 7)).tolist()
    name = "neural_network.softmax_of_the_handouts_logits:" * 2  # no place to break a line
    checks = tuple(CheckResult(f"{name} {i}", Visibility.PUBLIC, True, matrix, matrix) for i in range(3))
    task = TaskResult("T6", "Activations and their derivatives, softmax (neural_network.py)", Status.PASS,
                      1.0, 1.0, "all 3 checks passed", checks=checks)
    return SubmissionResult("alice", "ha1", "1.0", (task,), grader_version="0.1.0", sandbox="bwrap")


def test_a_report_with_wide_check_values_fits_a_1280_px_window(page: object, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    html.write_text(render_report(_wide_result()), encoding="utf-8")
    page.goto(html.as_uri())
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths[0]} px of content in a {widths[1]} px window"
    # the values are still all there, in a box that scrolls on its own
    assert page.locator("table.checks pre").count() == 6
    # and the check's name and rule keep a readable column (squeezed to ~60 px, a rule read one word a line)
    assert page.locator("table.checks td.name").first.bounding_box()["width"] >= 150


def test_a_similarity_pair_page_with_long_lines_fits_a_1280_px_window(page: object, tmp_path: Path) -> None:
    from grader.presentation.similarity_pages import render_pair_page
    from grader.similarity_results import DocumentView, PairScore, PairView, Segment, SimilarityReport

    long_line = "#" * 160 + "\n"  # a comment banner, as the starter's task markers are: no place to break
    doc = DocumentView("cattern/neural_net.py", (Segment("x = 1\n" + long_line), Segment("y = 2\n", 1)))
    pair = PairScore("alice", "bob", 0.9, 10, 10, 10)
    html = tmp_path / "pair.html"
    html.write_text(render_pair_page(PairView(pair, (doc,), (doc,), 1), SimilarityReport("hw4", 0.6, (pair,))),
                    encoding="utf-8")
    page.goto(html.as_uri())
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths[0]} px of content in a {widths[1]} px window"
    boxes = [box.bounding_box() for box in page.locator(".code").all()]
    assert len(boxes) == 2 and boxes[1]["x"] + boxes[1]["width"] <= widths[1]  # both sides in view, side by side
