"""Build the sample hand-ins' written reports (report.pdf) from plain text, reproducibly, with matplotlib only.

Each `report_sources/<sample>.md` is a small subset of Markdown: `# `/`## ` headings, paragraphs,
`$$ ... $$ (n)` display equations (matplotlib mathtext, numbered), indented code lines and
`![caption](assets/<file>.png)` figures. The figures in `report_sources/assets/` are the PNGs the
sample's own scripts drew when they ran (captured by the grader's script mode, saved by
`benchmarks/calibrate_ha1.py --figures`), so a report shows its scripts' plots. The output has
no creation date, so the same sources give the same bytes.

    python reference/ha1/make_reports.py            # writes submissions-ha1/<sample>/report.pdf
    python reference/ha1/make_reports.py --check    # fails if a committed PDF is stale
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[1]
REPORTS = HERE / "report_sources"
SAMPLES = PROJECT / "submissions-ha1"

A4 = (8.27, 11.69)
LEFT, RIGHT, TOP, BOTTOM = 0.09, 0.91, 0.94, 0.06
LINE = 0.0155  # one text line, as a fraction of the page height
WRAP = 100
_EQUATION = re.compile(r"^\$\$(.+)\$\$\s*(\([\d, ]+\))?\s*$")
_FIGURE = re.compile(r"^!\[(.*)\]\((.+)\)\s*$")


class Page:
    """A flowing layout over A4 pages: each block asks for its height and starts a new page if needed."""

    def __init__(self, pdf: PdfPages, title: str) -> None:
        self.pdf = pdf
        self.title = title
        self.fig = None
        self.y = TOP
        self.number = 0

    def need(self, height: float) -> None:
        if self.fig is None or self.y - height < BOTTOM:
            self.flush()
            self.fig = plt.figure(figsize=A4)
            self.number += 1
            self.fig.text(0.5, 0.025, f"{self.title} — page {self.number}", ha="center", fontsize=7, color="0.4")
            self.y = TOP

    def flush(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            plt.close(self.fig)
            self.fig = None

    def heading(self, text: str, level: int) -> None:
        size = 15 if level == 1 else 12
        self.need(3 * LINE)
        self.y -= LINE * (1.6 if level == 1 else 1.2)
        self.fig.text(LEFT, self.y, text, fontsize=size, weight="bold", va="top")
        self.y -= LINE * (1.6 if level == 1 else 1.3)

    def paragraph(self, text: str, mono: bool = False) -> None:
        lines = text.splitlines() if mono else textwrap.wrap(text, WRAP)
        for line in lines:
            self.need(LINE)
            self.fig.text(LEFT, self.y, line, fontsize=8 if mono else 9, va="top",
                          family="monospace" if mono else "sans-serif")
            self.y -= LINE
        self.y -= LINE * 0.5

    def equation(self, tex: str, number: str | None) -> None:
        self.need(3.8 * LINE)
        middle = self.y - 1.9 * LINE
        self.fig.text(0.5, middle, f"${tex.strip()}$", fontsize=11, ha="center", va="center")
        if number:
            self.fig.text(RIGHT, middle, number, fontsize=9, ha="right", va="center")
        self.y -= 3.8 * LINE

    def figure(self, caption: str, path: Path) -> None:
        image = mpimg.imread(path)
        height_px, width_px = image.shape[:2]
        width = min(RIGHT - LEFT, 0.62 * width_px / 500)
        height = width * (height_px / width_px) * (A4[0] / A4[1])
        self.need(height + 3 * LINE)
        ax = self.fig.add_axes([(1 - width) / 2, self.y - height, width, height])
        ax.imshow(image)
        ax.axis("off")
        self.y -= height + 0.4 * LINE
        for line in textwrap.wrap(caption, WRAP + 10):
            self.fig.text(0.5, self.y, line, fontsize=8, ha="center", va="top", style="italic")
            self.y -= LINE
        self.y -= 0.6 * LINE


def build(source: Path) -> bytes:
    """The PDF for one report source, as bytes."""
    text = source.read_text()
    title = text.splitlines()[0].lstrip("# ").strip()
    out = io.BytesIO()
    with PdfPages(out, metadata={"Creator": "reference/ha1/make_reports.py", "Producer": None,
                                 "CreationDate": None}) as pdf:
        page = Page(pdf, title)
        for block in re.split(r"\n\s*\n", text.strip()):
            first = block.splitlines()[0]
            if block.startswith("## "):
                page.heading(block[3:].strip(), 2)
            elif block.startswith("# "):
                page.heading(block[2:].strip(), 1)
            elif _EQUATION.match(block.strip()):
                match = _EQUATION.match(block.strip())
                page.equation(match.group(1), match.group(2))
            elif _FIGURE.match(first):
                match = _FIGURE.match(first)
                page.figure(match.group(1), REPORTS / match.group(2))
            elif all(line.startswith("    ") for line in block.splitlines()):
                page.paragraph("\n".join(line[4:] for line in block.splitlines()), mono=True)
            else:
                page.paragraph(" ".join(block.split()))
        page.flush()
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a committed report.pdf differs")
    args = parser.parse_args()
    stale = []
    for source in sorted(REPORTS.glob("*.md")):
        target = SAMPLES / source.stem / "report.pdf"
        data = build(source)
        if args.check:
            if not target.is_file() or target.read_bytes() != data:
                stale.append(str(target))
        else:
            target.write_bytes(data)
            print(f"wrote {target.relative_to(PROJECT)} ({len(data) // 1024} KB)")
    if stale:
        print("stale: " + ", ".join(stale) + f"; run python {Path(__file__).relative_to(PROJECT)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
