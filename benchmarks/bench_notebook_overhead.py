"""Grading the reference submission in notebook mode vs running the same notebook with nbclient alone.

Run: python benchmarks/bench_notebook_overhead.py [--runs 3]
The grader's time covers everything: the sandboxed kernel, the module checks (which run alongside
the notebook), the MNIST training check and T12's measurement. The baseline executes the same
notebook with nbclient in a plain kernel, in a copy of the submission with mnist_data beside it.
Prints a Markdown table for docs/benchmarks.md; the target ratio is <= 1.10.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.execution.sandbox import SINGLE_THREAD_BLAS  # noqa: E402
from grader.judgement import rubric as rubric_mod  # noqa: E402
from grader.judgement.submission import grade_submission  # noqa: E402

SUBMISSION = ROOT / "submissions" / "reference-solution"
NOTEBOOK = "Simple_Neural_Network_Lab.ipynb"


def nbclient_alone(tmp: Path) -> float:
    work = tmp / "plain"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(SUBMISSION, work)
    (work / "mnist_data").symlink_to(ROOT / "reference/hw4/starter/mnist_data")
    nb = nbformat.read(work / NOTEBOOK, as_version=4)
    # the same single-threaded BLAS the grader gives every kernel, so both sides do the same work
    env = {**os.environ, **SINGLE_THREAD_BLAS}
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(work)}}).execute(env=env)
    return time.perf_counter() - start


def grader(rubric: rubric_mod.Rubric) -> tuple[float, str]:
    start = time.perf_counter()
    result = grade_submission(SUBMISSION, rubric, b"benchmark-secret-0123456789abcdef")
    elapsed = time.perf_counter() - start
    assert result.notebook is not None and result.notebook.status == "ok", result.notebook
    assert result.task("T12").status.value == "pass"
    return elapsed, result.sandbox.split(":")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rubric = rubric_mod.load("hw4")
    rubric.load_judges()
    with tempfile.TemporaryDirectory() as tmp:
        plain, graded, level = [], [], ""
        for _ in range(args.runs):  # interleaved, so drift in machine load hits both alike
            plain.append(nbclient_alone(Path(tmp)))
            seconds, level = grader(rubric)
            graded.append(seconds)
    base, full = statistics.median(plain), statistics.median(graded)
    print(f"| reference submission, median of {args.runs} runs | seconds |")
    print("|---|---|")
    print(f"| nbclient alone (plain kernel, single-threaded BLAS, notebook only) | {base:.1f} |")
    print(f"| `grader` in notebook mode (sandbox level {level}; notebook + T1–T12 checks) | {full:.1f} |")
    print(f"| overhead ratio | {full / base:.2f} |")


if __name__ == "__main__":
    main()
