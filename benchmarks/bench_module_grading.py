"""How long grading one module-only HW4 submission (T1–T11) takes, next to `python -c "import numpy"`.

Run: python benchmarks/bench_module_grading.py [--runs 7] [--batch 20]

The batch rows are `--runs` interleaved rounds (each round starts with a different row), each
round with its own `import numpy` time, so that the ratio is taken within one round.

The batch rows grade `--batch` copies with 1 and 2 workers without the MNIST training check, and
with 2 workers with the default checks (the MNIST run included, its data prepared once beforehand
as `grader grade` does); the issue-17 target is at most 0.5 s per submission for that row. The copies
share one MNIST loss curve, so its plot is drawn once and then found in the plot cache; a last row
draws every plot, as a class of different submissions (different curves) makes the grader do.
Prints a Markdown table for docs/benchmarks.md. Wall-clock figures on a shared machine vary; the
median of several runs is reported, and the import-numpy baseline is measured in the same run
so the two can be compared on the same machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.judgement import rubric as rubric_mod  # noqa: E402
from grader.judgement.prepared import prepared_data  # noqa: E402
from grader.judgement.submission import grade_submission  # noqa: E402
from grader.pipeline import grade_batch  # noqa: E402
from grader.presentation import plots  # noqa: E402

CACHED_PNG = plots.cached_png


def _draw(plot, draw):
    """The plot cache bypassed: each copy's plots drawn, as if every submission's curve were its own."""
    return draw(plot)


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def module_only_submission(into: Path) -> Path:
    sub = into / "module-only"
    (sub / "cattern").mkdir(parents=True)
    shutil.copy(ROOT / "reference/hw4/solution/cattern/neural_net.py", sub / "cattern/neural_net.py")
    shutil.copy(ROOT / "reference/hw4/solution/answers.md", sub / "answers.md")
    return sub


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--batch", type=int, default=20, help="copies graded in the batch throughput runs")
    args = parser.parse_args()

    default = rubric_mod.load("hw4")
    default.load_judges()
    rubric = default.without_param("mnist_training")  # module checks only
    rubric.load_judges()
    secret = b"benchmark-secret-0123456789abcdef"
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        sub = module_only_submission(tmp_path)
        result = grade_submission(sub, rubric, secret)  # warm the file cache once
        assert result.score == 10, [(t.id, t.status) for t in result.tasks]

        numpy_s = median_time(lambda: subprocess.run([sys.executable, "-c", "import numpy"], check=True), args.runs)
        one_s = median_time(lambda: grade_submission(sub, rubric, secret), args.runs)

        batch_dir = tmp_path / "batch"
        batch_dir.mkdir()
        for i in range(args.batch):
            shutil.copytree(sub, batch_dir / f"student{i:03d}")
            # each copy differs (as students' files do): nothing is replayed from another's recordings
            with open(batch_dir / f"student{i:03d}" / "cattern/neural_net.py", "a") as f:
                f.write(f"\n# student {i}\n")
        configs = (("no MNIST run", 1, rubric), ("no MNIST run", 2, rubric), ("default checks", 2, default),
                   ("default checks, every plot drawn", 2, default))
        per_sub: dict[tuple[str, int], list[float]] = {(label, workers): [] for label, workers, _ in configs}
        ratios: list[float] = []
        for round_no in range(args.runs):  # interleaved rounds: a noisy moment hits every row alike
            numpy_now = median_time(lambda: subprocess.run([sys.executable, "-c", "import numpy"], check=True), 3)
            for label, workers, graded in configs[round_no % len(configs):] + configs[:round_no % len(configs)]:
                plots.cached_png = _draw if "every plot" in label else CACHED_PNG  # workers are forked: they see it
                out = tmp_path / f"out{round_no}-{workers}{label}"
                # a cold plot cache for every batch (the copies' loss curves are identical), the prepared
                # MNIST built beforehand, as on a TA's machine after its first batch
                os.environ["GRADER_CACHE_DIR"] = str(tmp_path / f"cache{round_no}-{workers}{label}")
                prepared_data(graded)
                start = time.perf_counter()
                grade_batch(batch_dir, out, graded, workers=workers, force=True, secret_file=tmp_path / "secret")
                per_sub[(label, workers)].append((time.perf_counter() - start) / args.batch)
                if (label, workers) == ("default checks", 2):
                    ratios.append(per_sub[(label, workers)][-1] / numpy_now)

    print(f"| measurement (median of {args.runs} runs, {sys.platform}, python {sys.version.split()[0]}) | seconds |")
    print("|---|---|")
    print(f"| `python -c \"import numpy\"` | {numpy_s:.3f} |")
    print(f"| grade one module-only submission (T1–T11, MNIST run off) | {one_s:.3f} |")
    print(f"| ratio grading / import numpy | {one_s / numpy_s:.1f}× |")
    for (label, workers), seconds in per_sub.items():
        each = ", ".join(f"{x:.3f}" for x in seconds)
        print(f"| batch of {args.batch}, {workers} worker(s), {label}: wall time per submission "
              f"(rounds: {each}) | {statistics.median(seconds):.3f} |")
    print(f"| ratio: default checks, 2 workers, per submission / import numpy (each round's own, median) | "
          f"{statistics.median(ratios):.1f}× |")


if __name__ == "__main__":
    main()
