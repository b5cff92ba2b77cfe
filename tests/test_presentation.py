"""Presentation: HTML reports, class index and the grades CSV.

Results are built by hand so these tests do not depend on execution or judgement.
"""

from __future__ import annotations

import ast
import base64
import csv
import html as htmllib
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib import image as mpimg

from grader.presentation import atomic
from grader.presentation.atomic import write_text_atomic
from grader.presentation.gradebook import grades_csv_text, write_grades_csv
from grader.presentation.html import (
    format_number,
    render_index,
    render_report,
    valid_png,
)
from grader.presentation.outputs import result_json_text
from grader.presentation.plots import render_plot
from grader.results import (
    Cause,
    CellOutput,
    CellReport,
    CheckResult,
    NotebookReport,
    Plot,
    Status,
    StudentError,
    SubmissionResult,
    TaskResult,
    Visibility,
)

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
TASK_IDS = ["T1", "T2", "T3", "T4", "T5", "T6"]
TITLES = {
    "T1": "Softmax",
    "T2": "Cross-entropy gradient",
    "T3": "Backprop",
    "T4": "Convexity proof",
    "T5": "Training loop",
    "T6": "Bonus",
}
PUBLIC, HIDDEN = Visibility.PUBLIC, Visibility.HIDDEN


def alice() -> SubmissionResult:
    return SubmissionResult(
        submission="alice",
        rubric="hw4",
        rubric_version="1.2",
        grader_version="0.9.0",
        graded_at="2024-11-22T10:00:00Z",
        duration_s=12.3,
        sandbox="none (no isolation)",
        content_hash="sha256:abc123",
        notes=("moved hw4.py out of a nested folder", "ignored __MACOSX/"),
        tasks=(
            TaskResult(
                "T1",
                TITLES["T1"],
                Status.PASS,
                1.0,
                1.0,
                "all good",
                checks=(
                    CheckResult("sums to one", PUBLIC, True, 1.0, 0.1 + 0.2 + 0.7),
                ),
            ),
            TaskResult(
                "T2",
                TITLES["T2"],
                Status.FAIL,
                0.75,
                1.0,
                "gradient wrong on hidden case",
                checks=(
                    CheckResult("shape", PUBLIC, True, [2, 2], [2, 2]),
                    CheckResult(
                        "grad_matrix",
                        HIDDEN,
                        False,
                        [[0.1, 0.2], [0.3, 0.4]],
                        [[0.1, 0.2], [0.3, 0.4002]],
                        "max abs diff 0.0002",
                    ),
                    CheckResult(
                        "speed_hint", PUBLIC, None, "< 1 s", "3.2 s", "only informative"
                    ),
                ),
            ),
            TaskResult(
                "T3",
                TITLES["T3"],
                Status.ERROR,
                0.0,
                2.0,
                f"crashed: {SCRIPT}",
                error=StudentError(
                    "ValueError",
                    f"bad input {SCRIPT}",
                    (
                        'File "hw4.py", line 3, in backprop',
                        f"    raise ValueError('{SCRIPT}')",
                    ),
                ),
                cause=Cause.SUBMISSION,
                output=f"epoch 1\n{SCRIPT}\n",
            ),
            TaskResult(
                "T4",
                TITLES["T4"],
                Status.MANUAL,
                None,
                2.0,
                "proof awaits a TA",
                submitted_text=f"By Jensen... {IMG}",
            ),
            TaskResult(
                "T5",
                TITLES["T5"],
                Status.ERROR,
                None,
                3.0,
                "grader crashed loading reference",
                cause=Cause.GRADER,
            ),
            TaskResult("T6", TITLES["T6"], Status.PENDING, None, 1.0),
        ),
    )


def bob() -> SubmissionResult:
    return SubmissionResult(
        submission="bob",
        rubric="hw4",
        rubric_version="1.2",
        grader_version="0.9.0",
        sandbox="bwrap",
        tasks=(
            TaskResult(
                "T1", TITLES["T1"], Status.FAIL, 0.0, 1.0, "does not sum to one"
            ),
            TaskResult("T2", TITLES["T2"], Status.PASS, 1.0, 1.0),
            TaskResult(
                "T3", TITLES["T3"], Status.TIMEOUT, 0.0, 2.0, cause=Cause.SUBMISSION
            ),
            TaskResult(
                "T4", TITLES["T4"], Status.MANUAL, None, 2.0, submitted_text="QED"
            ),
            TaskResult("T5", TITLES["T5"], Status.MISSING, 0.0, 3.0),
            TaskResult("T6", TITLES["T6"], Status.PENDING, None, 1.0),
        ),
    )


def _text(page: str) -> str:
    """Visible text of a page, roughly: tags dropped, entities decoded, whitespace collapsed."""
    page = re.sub(r"<(style|title)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _task_rows(page: str) -> dict[str, str]:
    # the task table ends before the next heading (the notebook section or the legend)
    tbody = re.split(r"<h2[ >]", page.split('<table class="tasks">', 1)[1], maxsplit=1)[0]
    chunks = re.split(r'<tr id="task-', tbody)[1:]
    return {c.split('"', 1)[0]: c for c in chunks}


def _assert_no_raw_markup(page: str) -> None:
    assert SCRIPT not in page
    assert "<script" not in page.lower()
    assert IMG not in page
    assert "<img" not in page.lower()


def _assert_offline(page: str) -> None:
    assert "http://" not in page and "https://" not in page
    assert not re.search(
        r"""(?:src|href)\s*=\s*["']?\s*(?:[a-z]+:)?//""", page, re.IGNORECASE
    )
    assert "@import" not in page and "url(" not in page


# --- report -----------------------------------------------------------------------------------


def test_report_escapes_student_data() -> None:
    page = render_report(alice())
    _assert_no_raw_markup(page)
    escaped_script = htmllib.escape(SCRIPT, quote=False)
    # message, error message, traceback and captured output each carry it, escaped
    assert page.count(escaped_script) >= 4
    assert htmllib.escape(IMG, quote=False) in page


def test_report_escapes_submission_id() -> None:
    evil = SubmissionResult(
        "<b>eve</b>", "hw4", "1", (TaskResult("T1", "x", Status.PASS, 1.0, 1.0),)
    )
    page = render_report(evil)
    assert "<b>eve</b>" not in page
    assert "&lt;b&gt;eve&lt;/b&gt;" in page


def test_report_is_self_contained() -> None:
    page = render_report(alice())
    _assert_offline(page)
    assert "<style>" in page


def test_report_rows_show_task_and_status() -> None:
    page = render_report(alice())
    rows = _task_rows(page)
    assert list(rows) == TASK_IDS
    for task in alice().tasks:
        row = rows[task.id]
        assert f">{task.id}<" in row
        assert f'class="badge s-{task.status.value}">{task.status.value}</span>' in row
        assert task.title in row


def test_report_header() -> None:
    page = render_report(alice())
    text = _text(page)
    assert "alice" in text
    assert "hw4 v1.2" in text
    assert (
        "Score 1.75 / 10" in text
    )  # 1 + 0.75 + 0 (T3) ; manual/pending/grader add nothing
    assert "2024-11-22T10:00:00Z" in text and "0.9.0" in text
    assert "moved hw4.py out of a nested folder" in text and "ignored __MACOSX/" in text
    assert "weak or no isolation" in text  # sandbox "none" warns


def test_report_points_column() -> None:
    rows = {k: _text(v) for k, v in _task_rows(render_report(alice())).items()}
    assert "0.75 / 1" in rows["T2"]
    assert "1 / 1" in rows["T1"]
    for tid in ("T4", "T5", "T6"):
        assert "— / " in rows[tid]
        assert "0 /" not in rows[tid]


def test_report_grader_failure_is_loud_and_not_a_zero() -> None:
    page = render_report(alice())
    text = _text(page)
    assert 'class="banner banner-grader"' in page
    assert "the GRADER failed on T5" in text
    assert "not zeros" in text
    assert "grader failure — not the student's fault" in _text(_task_rows(page)["T5"])
    assert "not the student's fault" not in _text(_task_rows(page)["T3"])


def test_report_without_grader_failure_has_no_banner() -> None:
    page = render_report(bob())
    assert 'class="banner banner-grader"' not in page
    assert "weak or no isolation" not in page  # bwrap is a real sandbox


def test_report_checks() -> None:
    rows = _task_rows(render_report(alice()))
    t2 = rows["T2"]
    assert '<span class="vis hidden">hidden</span>' in t2
    assert '<span class="vis public">public</span>' in t2
    assert "✓ pass" in t2 and "✗ fail" in t2
    assert "not counted" in t2 and "only informative" in t2
    # nested lists go in a <pre>, one matrix row per line
    assert re.search(r'<pre class="val">\[\[0\.1, 0\.2\],\n \[0\.3, 0\.4\]\]</pre>', t2)
    assert re.search(
        r'<pre class="val">\[\[0\.1, 0\.2\],\n \[0\.3, 0\.4002\]\]</pre>', t2
    )
    assert "<code>[2, 2]</code>" in t2  # flat short lists stay inline
    assert "max abs diff 0.0002" in t2


def test_report_shows_each_checks_rule_and_result_json_keeps_it() -> None:
    ruled = CheckResult("toy loss", PUBLIC, False, 1.3, 1.34, "off", rule=f"0.5·reg·ΣW², not reg·ΣW² {SCRIPT}")
    same = CheckResult("hidden loss", HIDDEN, True, 2.0, 2.0, rule=ruled.rule)  # a run of one rule: shown once
    other = CheckResult("finite", HIDDEN, True, rule="stays finite")
    result = alice()
    task = result.tasks[0]
    result = SubmissionResult(**{**result.__dict__, "tasks": (TaskResult(
        task.id, task.title, Status.FAIL, 0.0, 1.0, "x", checks=(ruled, same, other)), *result.tasks[1:])})
    t1 = _task_rows(render_report(result))["T1"]
    assert t1.count('<div class="rule">0.5·reg·ΣW², not reg·ΣW² &lt;script&gt;') == 1
    assert '<div class="rule">stays finite</div>' in t1
    assert "<script>alert" not in t1
    assert CheckResult.from_json(ruled.to_json()) == ruled
    old_file = ruled.to_json()
    del old_file["rule"]  # a result.json written before checks had rules
    assert CheckResult.from_json(old_file).rule == ""
    assert "rule" not in CheckResult("plain", PUBLIC, True).to_json()
    assert 'class="rule"' not in _task_rows(render_report(alice()))["T2"]  # no rule, no line


def test_result_json_holds_the_result_one_check_per_line_with_deep_data_on_one_line() -> None:
    plot = Plot("images", "weights <ü>", {"images": [[0, 255] * 392] * 3, "shape": [28, 28]})
    result = alice()
    result = SubmissionResult(**{**result.__dict__, "tasks": (
        TaskResult(**{**result.tasks[0].__dict__, "plots": (plot,)}), *result.tasks[1:])})
    text = result_json_text(result)
    assert json.loads(text) == result.to_json()  # nothing lost or changed: only the layout differs
    assert SubmissionResult.from_json(json.loads(text)) == result
    lines = text.splitlines()
    assert '  "submission": "alice",' in lines and '      "id": "T1",' in lines  # indented like indent=2
    check_lines = [line for line in lines if '"name": "grad_matrix"' in line]
    assert len(check_lines) == 1 and '"expected": [[0.1, 0.2], [0.3, 0.4]]' in check_lines[0]  # a check a line
    assert len(lines) < 200  # the plot's 2,352 numbers do not get a line each
    assert "weights <ü>" in text  # readable, not \\u-escaped


def test_report_numbers_compact_but_never_misleading() -> None:
    t1 = _task_rows(render_report(alice()))["T1"]
    assert "<code>1</code>" in t1 and "0.9999999999999999" not in t1  # got 0.1+0.2+0.7
    close = CheckResult("tol", PUBLIC, False, 0.1, 0.1000000001)
    sub = SubmissionResult(
        "s",
        "hw4",
        "1",
        (TaskResult("T1", "x", Status.FAIL, 0.0, 1.0, checks=(close,)),),
    )
    row = _task_rows(render_report(sub))["T1"]
    # 6 significant digits would show 0.1 vs 0.1 on a failed check: more digits are used
    assert "<code>0.1</code>" in row and "<code>0.1000000001</code>" in row


def test_report_error_traceback_submitted_text_and_output() -> None:
    rows = _task_rows(render_report(alice()))
    t3 = rows["T3"]
    assert "ValueError: bad input &lt;script&gt;" in t3
    assert re.search(
        r'<pre class="tb">File &#34;hw4.py&#34;, line 3, in backprop\n    raise', t3
    )
    assert '<details class="output">' in t3  # collapsed
    assert "epoch 1" in t3
    t4 = rows["T4"]
    assert '<details class="submitted" open>' in t4
    assert "By Jensen..." in t4
    assert "<details" not in rows["T1"]  # no empty output box when nothing was printed


def test_report_has_legend() -> None:
    text = _text(render_report(bob()))
    legend = text.split("Legend", 1)[1]
    for word in ("pass", "fail", "error", "timeout", "missing", "manual", "pending"):
        assert word in legend


# --- index ------------------------------------------------------------------------------------


def _tfoot_cells(page: str) -> list[str]:
    foot = page.split("<tfoot>", 1)[1].split("</tfoot>", 1)[0]
    return [htmllib.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", foot)]


def test_index_rows_links_and_order() -> None:
    page = render_index([bob(), alice()], TASK_IDS, TITLES)
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr>") == 2
    links = re.findall(r'<a href="([^"]*)">', body)
    assert links == ["alice/report.html", "bob/report.html"]
    for tid, title in TITLES.items():
        assert f'<th title="{title}">{tid}</th>' in page


def test_index_escapes_and_quotes_ids() -> None:
    odd = SubmissionResult(
        "carol <b>x</b>/../",
        "hw4",
        "1",
        (TaskResult("T1", "x", Status.PASS, 1.0, 1.0, SCRIPT),),
    )
    page = render_index([alice(), odd], TASK_IDS, TITLES)
    _assert_no_raw_markup(page)
    _assert_offline(page)
    assert 'href="carol%20%3Cb%3Ex%3C%2Fb%3E%2F..%2F/report.html"' in page
    assert "carol &lt;b&gt;x&lt;/b&gt;/../" in page
    assert htmllib.escape(SCRIPT) in page  # task message in a cell's title attribute


def test_index_pass_rate() -> None:
    page = render_index([alice(), bob()], TASK_IDS, TITLES)
    rates = dict(zip(TASK_IDS, _tfoot_cells(page), strict=True))
    assert rates["T1"] == "50%"  # alice pass, bob fail
    assert rates["T2"] == "50%"
    assert rates["T3"] == "0%"  # error + timeout are auto-graded non-passes
    assert rates["T4"] == "—"  # manual everywhere
    assert rates["T6"] == "—"  # pending everywhere
    assert (
        rates["T5"] == "0%"
    )  # bob missing; alice's grader failure is not counted against anyone


def test_index_summary_and_cells() -> None:
    page = render_index([alice(), bob()], TASK_IDS, TITLES)
    text = _text(page)
    assert "2 submissions" in text
    assert "mean score 1.38 / 10" in text  # (1.75 + 1) / 2, to 2 decimals
    assert "1 with grader errors" in text
    assert "grader-error: T5" in text
    assert re.search(
        r'<td class="cell s-fail" title="T2: fail — 0.75 / 1 — gradient wrong[^"]*">0.75</td>',
        page,
    )
    assert re.search(
        r'<td class="cell s-error gf" title="T5: error \(grader failure, not a zero\)[^"]*">grader</td>',
        page,
    )


def test_index_truncates_long_messages_in_titles() -> None:
    long = SubmissionResult(
        "d", "hw4", "1", (TaskResult("T1", "x", Status.FAIL, 0.0, 1.0, "y" * 1000),)
    )
    page = render_index([long], ["T1"], {"T1": "x"})
    assert "y" * 1000 not in page
    assert re.search(r'title="T1: fail — 0 / 1 — y{100,200}…"', page)


# --- CSV --------------------------------------------------------------------------------------


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_csv_blank_not_zero(tmp_path: Path) -> None:
    out = tmp_path / "grades.csv"
    write_grades_csv(out, [bob(), alice()], TASK_IDS)
    rows = _read_csv(out)
    assert [r["submission"] for r in rows] == ["alice", "bob"]
    a, b = rows
    assert list(a) == ["submission", "grading_status", "score", "max_score", *TASK_IDS]
    assert a["grading_status"] == "grader-error: T5"
    assert a["T5"] == ""  # grader failure
    assert a["T4"] == "" and a["T6"] == ""  # manual, pending
    assert (a["T1"], a["T2"], a["T3"]) == ("1", "0.75", "0")
    assert (a["score"], a["max_score"]) == ("1.75", "10")
    assert b["grading_status"] == "complete"
    assert b["T5"] == "0"  # missing is a real zero


def test_csv_grader_failure_blank_even_with_points() -> None:
    weird = SubmissionResult(
        "z",
        "hw4",
        "1",
        (TaskResult("T1", "x", Status.ERROR, 0.0, 1.0, cause=Cause.GRADER),),
    )
    rows = list(csv.DictReader(grades_csv_text([weird], ["T1"]).splitlines()))
    assert rows[0]["T1"] == ""
    assert rows[0]["grading_status"] == "grader-error: T1"


@pytest.mark.parametrize(
    "evil", ['=HYPERLINK("x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"]
)
def test_csv_formula_injection(tmp_path: Path, evil: str) -> None:
    out = tmp_path / "grades.csv"
    sub = SubmissionResult(
        evil, "hw4", "1", (TaskResult("T1", "x", Status.PASS, 1.0, 1.0),)
    )
    write_grades_csv(out, [sub], ["T1"])
    assert _read_csv(out)[0]["submission"] == "'" + evil


def test_csv_plain_id_untouched() -> None:
    rows = list(csv.DictReader(grades_csv_text([bob()], TASK_IDS).splitlines()))
    assert rows[0]["submission"] == "bob"


# --- atomic writes ----------------------------------------------------------------------------


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "report.html"
    write_text_atomic(out, render_report(alice()))
    write_text_atomic(out, render_report(bob()))
    assert "bob" in out.read_text(encoding="utf-8")
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]
    assert out.stat().st_mode & 0o644 == 0o644  # readable, unlike mkstemp's 0600


def test_atomic_write_failure_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "grades.csv"
    write_text_atomic(out, "old\r\n")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_text_atomic(out, "new")
    assert out.read_bytes() == b"old\r\n"  # and newlines were not translated
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]


def test_a_submissions_files_are_each_replaced_whole_and_their_folders_synced_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "alice"
    atomic.write_files_atomic(folder, {"result.json": b"old", "report.html": b"old"})
    synced: list[Path] = []
    monkeypatch.setattr(atomic, "sync_dir", synced.append)
    atomic.write_files_atomic(folder, {"result.json": b"{}", "report.html": b"<p>", "figs/a.png": b"png"})
    assert (folder / "result.json").read_bytes() == b"{}" and (folder / "figs/a.png").read_bytes() == b"png"
    assert sorted(p.name for p in folder.iterdir()) == ["figs", "report.html", "result.json"]  # no temp file
    assert sorted(synced) == [folder, folder / "figs"]  # each folder once, not once per file


# --- misc -------------------------------------------------------------------------------------


def test_format_number() -> None:
    assert format_number(1.0) == "1"
    assert format_number(0.75) == "0.75"
    assert format_number(2 / 3) == "0.6667"
    assert format_number(None) == "—"


def test_presentation_imports_only_results() -> None:
    """Reporters consume result records only (grader.results; grader.lateness, a submission's lateness;
    grader.similarity_results, similarity's TA-only records: data that no layer owns; grader.cache_dir,
    where drawn plots are kept). The CLI is exempt:
    it is the composition root that wires execution, judgement and presentation together."""
    package = Path(__file__).resolve().parents[1] / "grader" / "presentation"
    sources = [s for s in package.glob("*.py") if s.name != "cli.py"]
    assert {s.name for s in sources} >= {"html.py", "gradebook.py", "atomic.py"}
    for source in sources:
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                if name.startswith("grader"):
                    shared = ("grader.results", "grader.lateness", "grader.similarity_results", "grader.cache_dir")
                    assert name in shared or name.startswith("grader.presentation"), f"{source.name} imports {name}"


def test_templates_never_mark_data_safe() -> None:
    templates = (
        Path(__file__).resolve().parents[1] / "grader" / "presentation" / "templates"
    )
    for t in templates.glob("*.j2"):
        body = t.read_text(encoding="utf-8")
        assert "|safe" not in body.replace(" ", ""), t.name
        assert "autoescape false" not in body, t.name


def test_templates_found_from_any_working_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the CLI is run from course folders, not from the repository
    monkeypatch.chdir("/")
    assert "alice" in render_report(alice())


# --- plots ------------------------------------------------------------------------------------

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LINE = Plot("line", "Training loss", {"series": {"loss": [2.3 / (1 + i) for i in range(500)], "val": [1.0, 0.5]},
                                      "xlabel": "iteration", "ylabel": "loss"})
MATRIX = Plot("matrix", "Confusion matrix",
              {"values": [[90 if i == j else i + j for j in range(10)] for i in range(10)],
               "xlabel": "predicted", "ylabel": "true"})
IMAGES = Plot("images", "Weights", {"images": [[(k * 7 + p) % 256 for p in range(28 * 28)] for k in range(64)],
                                    "shape": [28, 28]})


def _png_b64(rgb: tuple[int, int, int] = (255, 0, 0)) -> str:
    buf = io.BytesIO()
    mpimg.imsave(buf, np.full((4, 6, 3), np.array(rgb, dtype=np.uint8)), format="png")
    return base64.b64encode(buf.getvalue()).decode()


def _with(task_plots: tuple[Plot, ...] = (), checks: tuple[CheckResult, ...] = (),
          notebook: NotebookReport | None = None) -> SubmissionResult:
    task = TaskResult("T12", "Tuned model", Status.PASS, 1.0, 1.0, "ok", checks=checks, plots=task_plots)
    return SubmissionResult("s", "hw4", "1", (task,), notebook=notebook)


@pytest.mark.parametrize("plot", [LINE, MATRIX, IMAGES], ids=lambda p: p.kind)
def test_plots_render_to_valid_pngs(plot: Plot) -> None:
    b64 = render_plot(plot)
    assert b64 is not None
    raw = base64.b64decode(b64, validate=True)
    assert raw.startswith(PNG_MAGIC)
    pixels = mpimg.imread(io.BytesIO(raw), format="png")
    assert pixels.ndim == 3 and min(pixels.shape[:2]) > 100
    assert pixels[..., :3].std() > 0.05  # something was drawn
    assert valid_png(b64) == b64


def test_plot_labels_are_plain_text() -> None:
    # `$...$` would be mathtext (and a parse error at draw time); labels are drawn as given
    odd = Plot("line", "x", {"series": {"$\\frac{": [1.0, float("nan"), float("inf"), 2.0]},
                             "xlabel": "$\\sqrt{", "ylabel": "a\x00b" * 100})
    assert render_plot(odd) is not None


MALFORMED: list[Any] = [
    Plot("pie", "x", {"values": [1, 2]}),
    Plot("line", "x", None),  # type: ignore[arg-type]
    Plot("line", "x", {"series": []}),
    Plot("line", "x", {"series": {}}),
    Plot("line", "x", {"series": {"a": ["1", "2"]}}),
    Plot("line", "x", {"series": {"a": [True, False]}}),
    Plot("line", "x", {"series": {"a": [float("nan")] * 3}}),
    Plot("line", "x", {"series": {"a": [1.0] * 20_001}}),
    Plot("line", "x", {"series": {"a": [1.0, 2.0]}, "xlabel": {"evil": 1}}),
    Plot("matrix", "x", {"values": [[1, 2], [3]]}),
    Plot("matrix", "x", {"values": [[1] * 51]}),
    Plot("matrix", "x", {"values": [[1, float("inf")]]}),
    Plot("matrix", "x", {"values": "[[1]]"}),
    Plot("images", "x", {"images": [[0] * 6], "shape": [2, 2]}),
    Plot("images", "x", {"images": [[0] * 4] * 65, "shape": [2, 2]}),
    Plot("images", "x", {"images": [[0] * 4], "shape": [2, 2.0]}),
    Plot("images", "x", {"images": [[0] * 65 * 65], "shape": [65, 65]}),
    Plot("images", "x", {"images": [[256, 0, 0, 0]], "shape": [2, 2]}),
    Plot("images", "x", {"images": [[-1, 0, 0, 0]], "shape": [2, 2]}),
    Plot("images", "x", {"shape": [2, 2]}),
    "not a plot",
]


@pytest.mark.parametrize("plot", MALFORMED)
def test_malformed_plot_is_unavailable_not_an_exception(plot: Any) -> None:
    assert render_plot(plot) is None


def test_report_shows_plots_under_their_task() -> None:
    page = render_report(_with((LINE, MATRIX, Plot("images", "Weights <b>w</b>", IMAGES.data))))
    row = _task_rows(page)["T12"]
    assert row.count('<img src="data:image/png;base64,') == 3
    assert [htmllib.unescape(c) for c in re.findall(r"<figcaption>(.*?)</figcaption>", row)] == [
        "Training loss", "Confusion matrix", "Weights <b>w</b>"]
    assert "<b>w</b>" not in page  # the title is escaped (caption and alt)
    assert "plot unavailable" not in page
    _assert_offline(page)


def test_report_malformed_plot_says_unavailable() -> None:
    page = render_report(_with((Plot("matrix", "Confusion", {"values": [[1, 2], [3]]}), LINE)))
    row = _task_rows(page)["T12"]
    assert "plot unavailable" in row and "Confusion" in row
    assert row.count("<img") == 1  # the good plot is still drawn


def test_csp_allows_data_images_only() -> None:
    page = render_report(_with((LINE,)))
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert csp is not None
    assert "img-src data:;" in csp.group(1) and "default-src 'none'" in csp.group(1)
    assert "script-src" not in csp.group(1)


# --- notebook ---------------------------------------------------------------------------------


def _notebook(*cells: CellReport, status: str = "ok", executed_file: str | None = "executed.ipynb") -> NotebookReport:
    return NotebookReport(status, f"message for {status}", 3.25, cells, ("note one",), executed_file)


def test_report_without_notebook_has_no_notebook_section() -> None:
    page = render_report(bob())
    assert 'id="notebook"' not in page and "In [" not in page


def test_notebook_section() -> None:
    nb = _notebook(
        CellReport(1, "import numpy as np", "ok"),
        CellReport(2, "x = 1\nprint(x)", "ok", (CellOutput("text", "1\n"), CellOutput("text", "2\n"))),
        CellReport(3, "raise ValueError", "error", (CellOutput("error", "ValueError: boom"),)),
        CellReport(4, "while True: pass", "timeout"),
        CellReport(5, "print('late')", "not run"),
        status="error",
    )
    page = render_report(_with(notebook=nb))
    section = page.split('<h2 id="notebook">', 1)[1].split("<h2>Legend</h2>", 1)[0]
    text = _text(section)
    assert '<span class="badge tone-bad">error</span>' in section
    assert "message for error" in text and "ran 3.2 s" in text and "note one" in text
    assert '<a class="small" href="executed.ipynb">' in section
    for i in range(1, 6):
        assert f"In [{i}]" in text
    cells = re.split(r'<div class="cell ', section)[1:]
    assert len(cells) == 5
    assert "<details class=\"src\">" in cells[0] and "<details class=\"src\" open>" in cells[2]
    assert "<details class=\"src\" open>" in cells[3]  # the cell that ran out of time
    assert cells[1].count('<pre class="wrap out">1\n2\n</pre>') == 1  # stream chunks joined
    assert '<pre class="wrap cell-err">ValueError: boom</pre>' in cells[2]
    assert cells[2].startswith("tone-bad") and cells[3].startswith("tone-timeout") and "st-not-run" in cells[4]
    assert "error" in _text(page.split("<h2>Tasks</h2>", 1)[0])  # the header names the notebook's status


@pytest.mark.parametrize("status,tone", [("ok", "ok"), ("error", "bad"), ("dead", "bad"), ("timeout", "timeout"),
                                         ("invalid", "grey"), ("missing", "grey"), ("<b>x</b>", "grey")])
def test_notebook_status_badge(status: str, tone: str) -> None:
    page = render_report(_with(notebook=_notebook(status=status)))
    assert f'<span class="badge tone-{tone}">{htmllib.escape(status, quote=False)}</span>' in page
    assert "<b>x</b>" not in page


def test_notebook_cell_outputs_are_escaped() -> None:
    nb = _notebook(CellReport(1, f"print('{SCRIPT}')  # {IMG}", "error",
                              (CellOutput("text", SCRIPT), CellOutput("error", f"Error: {IMG}"))),
                   CellReport(f"2{SCRIPT}", "x", SCRIPT))  # type: ignore[arg-type]
    page = render_report(SubmissionResult("s", "hw4", "1", (TaskResult("T1", "x", Status.PASS, 1.0, 1.0),),
                                          notebook=NotebookReport(SCRIPT, SCRIPT, 0.0, nb.cells, (SCRIPT,), None)))
    _assert_no_raw_markup(page)
    assert page.count(htmllib.escape(SCRIPT, quote=False)) >= 5
    assert htmllib.escape(IMG, quote=False) in page


@pytest.mark.parametrize("bad", [
    base64.b64encode(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>").decode(),
    base64.b64encode(b"GIF89a....").decode(),
    "not base64 at all!",
    _png_b64() + '"><script>alert(1)</script>',
    "",
    None,
])
def test_notebook_image_must_be_a_png(bad: Any) -> None:
    nb = _notebook(CellReport(1, "show()", "ok", (CellOutput("image", png=bad), CellOutput("image", png=_png_b64()))))
    page = render_report(_with(notebook=nb))
    imgs = re.findall(r'<img [^>]*src="data:image/png;base64,([^"]*)"', page)
    assert imgs == [_png_b64()]  # only the real PNG is embedded
    assert "<svg" not in page and "onload" not in page and "<script" not in page
    assert "1 image output not shown" in _text(page)


def test_notebook_image_accepts_wrapped_base64() -> None:
    wrapped = "\n".join(re.findall(".{1,76}", _png_b64((0, 0, 255))))
    page = render_report(_with(notebook=_notebook(CellReport(1, "show()", "ok", (CellOutput("image", png=wrapped),)))))
    assert f'src="data:image/png;base64,{_png_b64((0, 0, 255))}"' in page


@pytest.mark.parametrize("name", ["javascript:alert(1)", "../../etc/passwd", "//evil.example/x.ipynb",
                                  "http://evil.example/x", ".hidden", "a b.ipynb"])
def test_notebook_link_only_to_a_plain_file_name(name: str) -> None:
    page = render_report(_with(notebook=_notebook(executed_file=name)))
    section = page.split('<h2 id="notebook">', 1)[1]
    assert "executed notebook" in section
    assert '<a class="small"' not in section
    assert 'href="' + name not in page


def test_valid_png() -> None:
    png = _png_b64()
    assert valid_png(png) == png
    assert valid_png(png, max_bytes=10) is None
    assert valid_png(base64.b64encode(b"\x89PNX\r\n\x1a\n....").decode()) is None
    assert valid_png(123) is None


# --- notebook claims --------------------------------------------------------------------------


def test_mismatch_claim_is_marked() -> None:
    checks = (
        CheckResult("printed Test accuracy", PUBLIC, None, 0.97, 0.99,
                    "not counted (a claim). MISMATCH: the notebook printed a figure the grader does not measure"),
        CheckResult("printed Validation accuracy", PUBLIC, None, 0.98, 0.98,
                    "not counted (a claim). printed and measured agree"),
        CheckResult("accuracy", PUBLIC, True, "> 0.96", 0.97, "MISMATCH in a counted check is just a message"),
    )
    page = render_report(_with(checks=checks))
    row = _task_rows(page)["T12"]
    rows = re.findall(r'<tr class="(c-[a-z]+)">.*?<td class="res">(.*?)</td>', row, flags=re.DOTALL)
    assert [(cls, _text(res)) for cls, res in rows] == [
        ("c-mismatch", "⚠ mismatch"), ("c-nc", "not counted"), ("c-pass", "✓ pass")]
    assert "Notebook output contradicts the grader's own measurement (T12)" in _text(page)
    assert "contradicts the grader" not in render_report(_with(checks=checks[1:]))


def test_notebook_that_never_ran_shows_no_duration() -> None:
    nb = NotebookReport("missing", "Lab.ipynb was not found in the submission", 0.0)
    page = render_report(_with(notebook=nb))
    text = _text(page)
    assert "Lab.ipynb was not found in the submission" in text and "No code cells to show." in text
    section = _text(page.split('<h2 id="notebook">', 1)[1].split("<h2>Legend</h2>", 1)[0])
    assert "0.0 s" not in section and "ran " not in section
    assert "(0.0 s)" not in text  # nor in the header's notebook line
    assert '<span class="badge tone-grey">missing</span>' in page
