"""`grader serve` in a real Chromium (Debian's, driven by Playwright): the TA's keyboard, rubric items,
two TAs on one submission, blind mode.

Every wait is for an element or a state (a page that says it is ready, a navigation, a visible
message), never for a time. One browser serves the module; each test gets its own output folder
and server.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.judgement import rubric as rubric_mod
from grader.store import GRADEBOOK_FILE, Gradebook
from grader.web.book import WebBook
from grader.web.serve import Served, running

from .webkit import make_gradebook

playwright_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright (pip)")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="the browser tests need Debian's chromium (apt-get install chromium)")

IDS = ["alice-2041", "bob-7317", "carol-5529"]  # distinctive: a search for them finds nothing by accident


@pytest.fixture(scope="module")
def hw4_rubric() -> rubric_mod.Rubric:
    return rubric_mod.load("hw4")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM,
                                      args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def out(tmp_path: Path, hw4_rubric: rubric_mod.Rubric) -> Path:
    return make_gradebook(tmp_path / "reports", hw4_rubric, dict.fromkeys(IDS, None) | {i: _proof(i) for i in IDS},
                          note="wrapped")


def _proof(sub: str) -> str:
    return f"Proof by {sub.split('-')[0].title()}: $P_i - y_i$ follows from the quotient rule.\n\n$$\\sum_j y_j = 1$$\n"


@pytest.fixture
def served(out: Path, hw4_rubric: rubric_mod.Rubric) -> Iterator[Served]:
    with running(out, hw4_rubric, by="ta-one") as server:
        yield server


def _open(browser: object, served: Served, path: str = "/", name: str | None = None) -> object:
    context = browser.new_context(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    context.set_default_timeout(30000)  # a bound on a wait for an element or a state, never a sleep
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(served.url)  # sets the token cookie, then lands on the queue
    if name:
        page.request.post(f"{served.base}/api/me", data={"name": name},
                          headers={"X-CSRF-Token": served.app.keys.csrf})
    if path != "/":
        page.goto(served.base + path)
    return page


def _ready(page: object) -> None:
    page.wait_for_selector("body[data-ready='1']")  # type: ignore[attr-defined]


def _key_and_wait_navigation(page: object, key: str) -> None:
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.keyboard.press(key)  # type: ignore[attr-defined]
    _ready(page)


def _book(out: Path, rubric: rubric_mod.Rubric) -> tuple[Gradebook, WebBook]:
    book = Gradebook(out / GRADEBOOK_FILE)
    return book, WebBook(book, rubric)


def _t4_column(out: Path) -> dict[str, str]:
    with (out / "grades.csv").open() as fh:
        return {row["submission"]: row["T4"] for row in csv.DictReader(fh)}


def test_grading_t4_for_three_submissions_by_keyboard_only(browser, served, out, hw4_rubric) -> None:
    book, wb = _book(out, hw4_rubric)
    wb.add_item("T4", "the j ≠ i term is missing", -0.5, "ta-one")
    wb.bank_add("T4", "Clear and complete.", "ta-one")
    page = _open(browser, served, name="ta-kbd")
    _ready(page)
    assert page.url.endswith("/grade/T4/alice-2041")  # the first ungraded
    assert page.locator("#answer .katex").count() >= 2  # the math is typeset (KaTeX from the package)

    page.keyboard.press("1")  # rubric item 1
    assert page.locator("button.item[aria-pressed='true']").count() == 1
    assert page.input_value("#score") == "0.5"
    _key_and_wait_navigation(page, "Enter")  # save, on to the next ungraded
    assert page.url.endswith("/grade/T4/bob-7317")

    page.keyboard.press("s")
    page.keyboard.type("0.25")
    _key_and_wait_navigation(page, "Enter")
    assert page.url.endswith("/grade/T4/carol-5529")

    page.keyboard.press("b")  # the comment bank: type to find, Enter inserts into the comment
    page.keyboard.type("Clear and complete.")
    page.keyboard.press("Enter")
    assert page.input_value("#note") == "Clear and complete."
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")  # the last one: nothing ungraded is left, the page stays and says so
    page.wait_for_selector("#flash:has-text('Every submission in this queue is scored')")
    _key_and_wait_navigation(page, "p")
    assert page.url.endswith("/grade/T4/bob-7317")
    assert page.locator(".queue li.q-graded").count() == 3

    scores = {sub: wb.grade(sub, "T4") for sub in IDS}
    assert {s: g.points for s, g in scores.items() if g} == {"alice-2041": 0.5, "bob-7317": 0.25, "carol-5529": 1.0}
    assert {g.graded_by for g in scores.values() if g} == {"ta-kbd"}
    assert scores["alice-2041"].comment == "−0.5: the j ≠ i term is missing"
    assert scores["carol-5529"].note == "Clear and complete."
    # the static outputs follow (redrawn after the answer, in the helper), as after `grader manual`
    served.app.exporter.wait()
    assert "Scored by ta-kbd" in (out / "alice-2041" / "report.html").read_text()
    assert _t4_column(out) == {"alice-2041": "0.5", "bob-7317": "0.25", "carol-5529": "1"}
    assert page.errors == []
    book.close()


def test_editing_an_items_points_rescores_every_submission_that_has_it(browser, served, out, hw4_rubric) -> None:
    book, wb = _book(out, hw4_rubric)
    page = _open(browser, served, "/grade/T4/alice-2041", name="ta-items")
    _ready(page)
    page.fill("#item-points", "-0.5")
    page.fill("#item-desc", "the j ≠ i term is missing")
    with page.expect_navigation():
        page.click("#item-save")
    _ready(page)
    for _ in IDS[:2]:  # alice and bob get the item; carol full marks
        page.keyboard.press("1")
        _key_and_wait_navigation(page, "Enter")
    assert page.url.endswith("/grade/T4/carol-5529")
    page.keyboard.press("Enter")  # carol, full marks: the last ungraded, so the page stays
    page.wait_for_selector("#flash:has-text('Every submission in this queue is scored')")
    before = {sub: wb.grade(sub, "T4").points for sub in IDS}
    assert before == {"alice-2041": 0.5, "bob-7317": 0.5, "carol-5529": 1.0}

    page.click("button.edit")
    page.fill("#item-points", "-0.75")
    with page.expect_navigation():
        page.click("#item-save")
    _ready(page)
    marks = {li.locator(".qname").inner_text(): li.locator(".qstate").inner_text()
             for li in page.locator(".queue li").all()}
    assert marks == {"alice-2041": "0.25", "bob-7317": "0.25", "carol-5529": "1"}
    assert page.locator("button.item .ipts").inner_text() == "−0.75"
    after = {sub: wb.grade(sub, "T4") for sub in IDS}
    assert {s: g.points for s, g in after.items()} == {"alice-2041": 0.25, "bob-7317": 0.25, "carol-5529": 1.0}
    assert after["alice-2041"].graded_by == "ta-items" and after["alice-2041"].comment.startswith("−0.75:")
    assert [h.points for h in wb.history("alice-2041", "T4")] == [0.25, 0.5]  # history kept
    overview = page.goto(served.base + "/class/index.html").text()  # live: drawn from the gradebook
    assert re.search(r'title="T4: graded[^"]*">0\.25<', overview)
    served.app.exporter.wait()  # the re-scored submissions' files and the exports follow in the helper
    assert "0.25/1" in (out / "bob-7317" / "report.html").read_text()
    assert "0.25/1" not in (out / "carol-5529" / "report.html").read_text()
    assert _t4_column(out) == {"alice-2041": "0.25", "bob-7317": "0.25", "carol-5529": "1"}
    book.close()


def test_two_sessions_on_one_submission_lose_no_update(browser, served, out, hw4_rubric) -> None:
    book, wb = _book(out, hw4_rubric)
    wb.add_item("T4", "the j ≠ i term is missing", -0.5, "setup")
    first = _open(browser, served, "/grade/T4/bob-7317", name="ta-first")
    second = _open(browser, served, "/grade/T4/bob-7317", name="ta-second")
    _ready(first)
    _ready(second)

    first.keyboard.press("1")
    _key_and_wait_navigation(first, "Enter")  # saved: 0.5 by ta-first
    second.keyboard.press("s")
    second.keyboard.type("0.75")
    second.keyboard.press("Enter")  # based on the page as it was before ta-first saved
    alert = second.locator("#conflict")
    alert.wait_for(state="visible")
    message = second.inner_text("#conflict-msg")
    assert "Not saved" in message and "ta-first" in message and "0.5" in message
    grade = wb.grade("bob-7317", "T4")
    assert (grade.points, grade.graded_by) == (0.5, "ta-first")  # ta-second's write did not replace it
    assert len(wb.history("bob-7317", "T4")) == 1

    second.click("#conflict-overwrite")  # a deliberate choice, made after seeing theirs
    second.wait_for_selector("#conflict", state="hidden")
    grade = wb.grade("bob-7317", "T4")
    assert (grade.points, grade.graded_by) == (0.75, "ta-second")
    assert [(h.points, h.graded_by) for h in wb.history("bob-7317", "T4")] == [(0.75, "ta-second"),
                                                                                (0.5, "ta-first")]
    book.close()


def test_blind_mode_shows_no_real_id_anywhere(browser, out, hw4_rubric) -> None:
    with running(out, hw4_rubric, by="ta-blind", blind=True) as served:
        page = _open(browser, served)
        _ready(page)
        sources = {"queue (first)": page.content()}
        for _ in range(2):
            _key_and_wait_navigation(page, "n")
            sources[f"queue {page.url}"] = page.content()
        handle = page.url.rsplit("/", 1)[1]
        for path in ["/class/index.html", f"/class/{handle}/report.html", f"/grade/T4/{handle}"]:
            response = page.goto(served.base + path)
            sources[path] = response.text()  # the source as served
            sources[path + " (DOM)"] = page.content()
        assert len({re.search(r"<title>(.*?)</title>", s).group(1) for s in sources.values()}) >= 3
        leaks = [(where, sub) for where, text in sources.items() for sub in [*IDS, "alice", "2041"] if sub in text]
        assert leaks == []
        # the control: unblinding shows the ids, so their absence above means something
        page.goto(served.base + "/grade/T4")
        page.once("dialog", lambda dialog: dialog.accept())  # "Unblind: show every TA the real ids?"
        page.click("#blind-toggle")
        page.wait_for_url(re.compile(r"/grade/T4/alice-2041$"))
        assert "alice-2041" in page.content() and "bob-7317" in page.content()
