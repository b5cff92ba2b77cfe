"""Generic: script mode and document pages, on a toy assignment (tests/fixtures/toy_scripts).

One `grader grade` batch (two workers) grades a correct hand-in and one variant per behaviour:
a script past its budget (with and without a saved model), a fake printed figure, no model, a
pickled model, a crash, a malformed PDF report, a real PDF report and no report. Every test
reads that one batch; nothing here knows any real assignment.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pytest
from click.testing import CliRunner
from matplotlib import pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages

from grader import cli
from grader.judgement import rubric as rubric_mod
from grader.judgement.grading import STUDENT_QUICK, grade_submission
from grader.results import Status, SubmissionResult

TOY = Path(__file__).resolve().parent / "fixtures" / "toy_scripts"

FIT = '''import numpy as np
import matplotlib.pyplot as plt

x, y = np.loadtxt("points/points.csv", delimiter=",", unpack=True)
a, b = np.polyfit(x, y, 1)
print("slope: %.4f" % a)
plt.plot(x, y, ".")
plt.plot(x, a * x + b)
plt.title("fit")
plt.savefig("fit.png")
np.savez("line.npz", a=a, b=b)
plt.show()
'''
SPIN = "\nwhile True:\n    pass\n"
REPORT_MD = "# Discussion\n\nThe slope is close to **2**.\n\n<script>alert('x')</script>\n"

VARIANTS = {
    "good": {"fit.py": FIT, "report.md": REPORT_MD},
    "over-budget": {"fit.py": FIT + SPIN, "report.md": REPORT_MD},
    "over-budget-unsaved": {"fit.py": FIT.replace('np.savez("line.npz"', SPIN + 'np.savez("line.npz"'),
                            "report.md": REPORT_MD},
    "fake-print": {"fit.py": FIT.replace('print("slope: %.4f" % a)', 'print("slope: 9.0")'), "report.md": REPORT_MD},
    "no-model": {"fit.py": FIT.replace('np.savez("line.npz", a=a, b=b)', ""), "report.md": REPORT_MD},
    "pickled-model": {"fit.py": FIT.replace('np.savez("line.npz", a=a, b=b)',
                                            'import pickle; pickle.dump({"a": a, "b": b}, open("line.npz", "wb"))')},
    "crashes": {"fit.py": FIT.replace("a, b = np.polyfit", "raise ValueError('no data')\na, b = np.polyfit")},
    "bad-pdf": {"fit.py": FIT, "report.pdf": "%PDF-1.4\nthis is not a PDF\n"},
    "pdf-report": {"fit.py": FIT},
}


def _pdf(path: Path, pages: int) -> None:
    with PdfPages(path) as pdf:
        for i in range(pages):
            fig = plt.figure(figsize=(8.27, 11.69))
            fig.text(0.1, 0.9, f"Page {i + 1}: the derivation")
            pdf.savefig(fig)
            plt.close(fig)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, SubmissionResult]]:
    base = tmp_path_factory.mktemp("scripts")
    subs = base / "subs"
    for name, files in VARIANTS.items():
        (subs / name).mkdir(parents=True)
        for rel, text in files.items():
            (subs / name / rel).write_text(text)
    _pdf(subs / "pdf-report" / "report.pdf", 6)
    (base / "secret").write_text("toy-scripts-secret-0123456789abcdef\n")
    run = CliRunner().invoke(cli.main, ["grade", str(subs), "--rubric", str(TOY), "--out", str(base / "out"),
                                        "--workers", "2", "--secret-file", str(base / "secret")])
    assert run.exit_code == 0, run.output
    results = {p.name: SubmissionResult.from_json(json.loads((base / "out" / p.name / "result.json").read_text()))
               for p in sorted(subs.iterdir())}
    return base / "out", results


def _task(result: SubmissionResult, task_id: str):
    return next(t for t in result.tasks if t.id == task_id)


def test_a_script_runs_headless_and_its_saved_model_is_measured(batch) -> None:
    out, results = batch
    good = results["good"]
    assert _task(good, "T1").status is Status.PASS
    (script,) = good.scripts
    assert script.status == "ok" and script.path == "fit.py" and script.files == ("line.npz",)
    assert "slope: 2.0" in script.output
    assert 0 < script.cpu_s < script.cpu_budget_s == 5
    # the figure saved with savefig and the one shown with show() are both captured
    assert [(f.how, f.name) for f in script.figures] == [("savefig", "01-savefig-fit"), ("show", "02-show")]
    page = (out / "good" / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 2 and 'id="script-fit"' in page


def test_printed_numbers_are_claims_and_a_fake_one_is_flagged(batch) -> None:
    _, results = batch
    good = _task(results["good"], "T1").checks[0]
    assert good.name == "printed slope" and good.passed is None and "agree" in good.message
    fake = _task(results["fake-print"], "T1")
    assert fake.status is Status.PASS  # the model is right; what it printed is not counted
    claim = fake.checks[0]
    assert claim.passed is None and claim.got == 9.0 and "MISMATCH" in claim.message


def test_a_script_stopped_at_its_budget_keeps_the_model_it_saved(batch) -> None:
    _, results = batch
    stopped = results["over-budget"]
    (script,) = stopped.scripts
    assert script.status == "timeout"
    assert "stopped at its budget of 5 CPU-seconds; it had saved line.npz by then, which is graded" in script.message
    t1 = _task(stopped, "T1")
    assert t1.status is Status.PASS and "stopped at its budget" in t1.checks[-1].message
    unsaved = _task(results["over-budget-unsaved"], "T1")
    assert unsaved.status is Status.TIMEOUT
    assert "it had not saved line.npz by then" in unsaved.message and "np.savez('line.npz'" in unsaved.message


def test_no_model_a_pickled_model_and_a_crash_get_clear_messages(batch) -> None:
    _, results = batch
    missing = _task(results["no-model"], "T1")
    assert missing.status is Status.MISSING and "no line.npz to measure" in missing.message
    pickled = _task(results["pickled-model"], "T1")
    assert pickled.status is Status.FAIL and "it is a Python pickle, not an .npz file" in pickled.checks[0].message
    crashed = results["crashes"]
    assert crashed.scripts[0].status == "error" and "ValueError: no data" in crashed.scripts[0].output
    assert _task(crashed, "T1").status is Status.MISSING


def test_a_markdown_report_is_shown_with_the_manual_task_it_feeds(batch) -> None:
    out, results = batch
    t2 = _task(results["good"], "T2")
    assert t2.status is Status.MANUAL and "judge from report.md" in t2.message
    (doc,) = results["good"].documents
    assert doc.kind == "markdown" and doc.tasks == ("T2",)
    page = (out / "good" / "report.html").read_text()
    assert "<h1>Discussion</h1>" in page and "<strong>2</strong>" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page  # raw HTML in a report is text


def test_pdf_pages_are_rendered_and_capped_and_a_broken_pdf_is_said_so(batch) -> None:
    out, results = batch
    (doc,) = results["pdf-report"].documents
    assert doc.status == "ok" and doc.kind == "pdf" and doc.page_count == 6 and len(doc.pages) == 4
    assert "the first 4 shown" in doc.message
    page = (out / "pdf-report" / "report.html").read_text()
    assert page.count('alt="page ') == 4
    (bad,) = results["bad-pdf"].documents
    assert bad.status == "invalid" and "could not be read as a PDF" in bad.message
    t2 = _task(results["bad-pdf"], "T2")
    assert t2.status is Status.MANUAL and "could not be read as a PDF" in t2.message
    assert _task(results["bad-pdf"], "T1").status is Status.PASS  # the batch and the other tasks go on
    assert _task(results["pickled-model"], "T2").status is Status.MISSING  # no report handed in


def test_a_quick_student_check_runs_no_script(tmp_path: Path) -> None:
    rubric = rubric_mod.load(str(TOY))
    rubric.load_judges()
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "fit.py").write_text("raise SystemExit('must not run')\n")
    result = grade_submission(tmp_path / "s", rubric, None, mode=STUDENT_QUICK)
    assert _task(result, "T1").status is Status.PENDING and result.scripts == ()
