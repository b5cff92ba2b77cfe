"""The report in a real browser: headless Chromium renders the pages, and the screenshots are checked.

String tests cannot tell whether an embedded image actually displays (a corrupt base64 string, a
wrong MIME type or a CSP that forbids `data:` images all still "contain an <img>"). So each page is
also rendered with its images deliberately corrupted, and the colours that only the real images
produce must be on the first screenshot and missing from the second.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg

from grader.presentation.html import render_index, render_report
from grader.results import (
    CellOutput,
    CellReport,
    CheckResult,
    NotebookReport,
    Plot,
    Status,
    SubmissionResult,
    TaskResult,
    Visibility,
)

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless-browser tests need Debian's `chromium` on PATH (apt-get install chromium)"
)

WIDTH, HEIGHT = 1300, 4000
SCRIPT = "<script>document.title='pwned'</script>"
MAGENTA = (255, 0, 255)  # the notebook's image output: a solid block nothing else on the page uses
LINE_BLUE = (31, 119, 180)  # matplotlib's first line colour (C0)
HEATMAP_DARK = (8, 48, 107)  # the dark end of the "Blues" colormap: the confusion matrix's diagonal
GRAY = (128, 128, 128)  # the weight images' fill
PASS_GREEN = (26, 127, 55)  # the page's own pass/fail badges (CSS, no image)
FAIL_RED = (207, 34, 46)
_DATA_URL = re.compile(r"(data:image/png;base64,)([A-Za-z0-9+/=]+)")


def _solid_png(rgb: tuple[int, int, int], height: int, width: int) -> str:
    buf = io.BytesIO()
    mpimg.imsave(buf, np.full((height, width, 3), np.array(rgb, dtype=np.uint8)), format="png")
    return base64.b64encode(buf.getvalue()).decode()


def _result(submission: str = "alice") -> SubmissionResult:
    rng = np.random.default_rng(4)
    confusion = (rng.integers(0, 20, (10, 10)) + np.diag(rng.integers(900, 1100, 10))).tolist()
    loss = [float(2.3 * np.exp(-i / 150) + 0.05) for i in range(600)]
    weights = [[128] * (28 * 28) for _ in range(16)]
    public = Visibility.PUBLIC
    tasks = (
        TaskResult("T1", "Softmax", Status.PASS, 1.0, 1.0, "all good",
                   checks=(CheckResult("sums to one", public, True, 1.0, 1.0),)),
        TaskResult("T2", "Gradient", Status.FAIL, 0.0, 1.0, "gradient wrong",
                   checks=(CheckResult("grad", public, False, [0.1, 0.2], [0.1, 0.3]),)),
        TaskResult(
            "T12", "Tuned model", Status.PASS, 2.0, 2.0, "all counted checks passed",
            checks=(
                CheckResult("test accuracy > 0.96", public, True, "> 0.96", 0.977),
                CheckResult("printed Test accuracy", public, None, 0.977, 0.99,
                            "not counted (a claim). MISMATCH: the notebook printed a figure the grader does not "
                            "measure"),
            ),
            plots=(
                Plot("line", "Training loss history",
                     {"series": {"loss": loss}, "xlabel": "iteration", "ylabel": "loss"}),
                Plot("matrix", "Confusion matrix (rows: true digit)",
                     {"values": confusion, "xlabel": "predicted", "ylabel": "true"}),
                Plot("images", "First-layer weights", {"images": weights, "shape": [28, 28]}),
            ),
        ),
    )
    notebook = NotebookReport(
        "error", "cell 3 raised ValueError", 12.5,
        cells=(
            CellReport(1, "import numpy as np", "ok"),
            CellReport(2, "plt.imshow(x)", "ok", (CellOutput("text", f"shape (5, 4) {SCRIPT}"),
                                                  CellOutput("image", png=_solid_png(MAGENTA, 80, 120)))),
            CellReport(3, "raise ValueError('bad')", "error", (CellOutput("error", "ValueError: bad"),)),
        ),
        notes=("the notebook was run top to bottom by the grader",),
        executed_file="executed.ipynb",
    )
    return SubmissionResult(submission, "hw4", "1.0", tasks, grader_version="0.1.0", sandbox="bwrap",
                            notebook=notebook)


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
        f"--user-data-dir={profile}", *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def _screenshot(page: Path, tmp_path: Path) -> np.ndarray:
    png = page.with_suffix(".png")
    proc = _chromium(f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={png}", page.as_uri(),
                     profile=tmp_path / f"profile-{page.stem}")
    assert png.exists(), f"chromium made no screenshot (rc {proc.returncode}): {proc.stderr[-2000:]}"
    pixels = mpimg.imread(png)
    rgb = pixels[..., :3]
    return np.round(rgb * 255).astype(np.int16) if rgb.dtype != np.uint8 else rgb.astype(np.int16)


def _dom(page: Path, tmp_path: Path) -> str:
    proc = _chromium("--dump-dom", page.as_uri(), profile=tmp_path / f"profile-dom-{page.stem}")
    assert "<html" in proc.stdout, f"chromium printed no DOM (rc {proc.returncode}): {proc.stderr[-2000:]}"
    return proc.stdout


def _count(shot: np.ndarray, rgb: tuple[int, int, int], tol: int = 6) -> int:
    return int((np.abs(shot - np.array(rgb)) <= tol).all(axis=-1).sum())


def _corrupt_images(page: str) -> str:
    """The same page with every embedded PNG's bytes damaged (same layout, broken images)."""
    return _DATA_URL.sub(lambda m: m.group(1) + "AAAA" + m.group(2)[4:], page)


@pytest.fixture
def pages(tmp_path: Path) -> dict[str, Path]:
    result = _result()
    report = render_report(result)
    assert _corrupt_images(report) != report
    out = {"report": tmp_path / "alice" / "report.html", "broken": tmp_path / "alice" / "broken.html",
           "index": tmp_path / "index.html"}
    out["report"].parent.mkdir()
    out["report"].write_text(report, encoding="utf-8")
    out["broken"].write_text(_corrupt_images(report), encoding="utf-8")
    index = render_index([result, _result("bob")], ["T1", "T2", "T12"], {"T1": "Softmax", "T2": "Gradient"})
    out["index"].write_text(index, encoding="utf-8")
    return out


def test_report_dom_has_task_rows_and_images(pages: dict[str, Path], tmp_path: Path) -> None:
    dom = _dom(pages["report"], tmp_path)
    for tid in ("T1", "T2", "T12"):
        assert f'<tr id="task-{tid}"' in dom
    images = re.findall(r'<img [^>]*src="data:image/png;base64,', dom)
    assert len(images) == 4  # three plots and the notebook's image output
    assert "plot unavailable" not in dom
    assert "⚠ mismatch" in dom
    assert 'id="notebook"' in dom and "In [3]" in dom
    # the student's <script> stayed text: the browser built no element from it
    assert "<script" not in dom.lower()
    assert "&lt;script&gt;document.title" in dom
    assert "<title>alice — hw4 report</title>" in dom


def test_report_images_really_display(pages: dict[str, Path], tmp_path: Path) -> None:
    good = _screenshot(pages["report"], tmp_path)
    broken = _screenshot(pages["broken"], tmp_path)
    assert good.shape == broken.shape == (HEIGHT, WIDTH, 3)

    # not a blank page: text, tables and the CSS badges of the task table are drawn
    assert (good < 240).any(axis=-1).mean() > 0.02
    assert _count(good, PASS_GREEN) > 100 and _count(good, FAIL_RED) > 100

    # each image's own colours are on the page with real images, and gone when they are broken
    expected = {
        "notebook image output": (MAGENTA, 80 * 120 * 0.9),
        "line plot": (LINE_BLUE, 300),
        "confusion matrix": (HEATMAP_DARK, 1000),
        "weight images": (GRAY, 16 * 28 * 28),
    }
    for what, (colour, minimum) in expected.items():
        shown, missing = _count(good, colour), _count(broken, colour)
        assert shown >= minimum, f"{what}: only {shown} pixels of {colour} in the screenshot"
        assert missing < shown / 10, f"{what}: {missing} pixels of {colour} even with the image broken"


def test_index_in_browser(pages: dict[str, Path], tmp_path: Path) -> None:
    dom = _dom(pages["index"], tmp_path)
    body = dom.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert re.findall(r'<a href="([^"]*)">', body) == ["alice/report.html", "bob/report.html"]
    assert body.count("<tr>") == 2
    shot = _screenshot(pages["index"], tmp_path)
    assert (shot < 240).any(axis=-1).mean() > 0.005
    assert _count(shot, PASS_GREEN, tol=10) > 20  # the pass-coloured score cells
