"""Where a batch of module-only HW4 submissions spends its wall time, phase by phase.

Run: python benchmarks/profile_batch.py [--batch 20] [--workers 2] [--no-mnist]

Grades `--batch` copies of the solution's module (each differs by a comment, so nothing is replayed)
with `grade_batch`, and prints: each job's start and duration in its worker (a worker's first job
shows what it builds for itself after the fork), the parent's phases (writing each submission's files
and committing it, similarity and the class pages at the end), and the wall time per submission.
It is the profile behind the module-only row of docs/benchmarks.md; bench_module_grading.py gives the
figure itself.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import grader.executors as executors  # noqa: E402
import grader.pipeline as pipeline  # noqa: E402
from grader.judgement import rubric as rubric_mod  # noqa: E402
from grader.judgement.prepared import prepared_data  # noqa: E402

T0 = time.perf_counter()
PHASES: dict[str, list[float]] = defaultdict(list)


def timed(module: object, name: str) -> None:
    """Replace module.name by a wrapper that adds its duration to PHASES[name]."""
    original = getattr(module, name)

    def wrapper(*args: object, **kwargs: object) -> object:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            PHASES[name].append(time.perf_counter() - start)

    setattr(module, name, wrapper)


def traced_run_job(job: executors.GradeJob) -> executors.GradedPayload:
    """run_job in a worker, printing when it started (seconds into the batch) and how long it took."""
    start = time.perf_counter()
    payload = ORIGINAL_RUN_JOB(job)
    print(f"  job {job.sub_id}: worker {os.getpid()}, started at {start - T0:6.2f} s, "
          f"took {time.perf_counter() - start:5.2f} s", file=sys.stderr, flush=True)
    return payload


ORIGINAL_RUN_JOB = executors.run_job


def main() -> None:
    global T0
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-mnist", action="store_true", help="without the MNIST training check")
    args = parser.parse_args()

    rubric = rubric_mod.load("hw4")
    if args.no_mnist:
        rubric = rubric.without_param("mnist_training")
    rubric.load_judges()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        os.environ["GRADER_CACHE_DIR"] = str(tmp_path / "cache")  # a cold plot cache, as a first batch has
        prepared_data(rubric)  # built beforehand, as on a TA's machine after its first batch
        batch = tmp_path / "batch"
        for i in range(args.batch):
            sub = batch / f"s{i:03d}"
            (sub / "cattern").mkdir(parents=True)
            shutil.copy(ROOT / "reference/hw4/solution/answers.md", sub / "answers.md")
            source = (ROOT / "reference/hw4/solution/cattern/neural_net.py").read_text()
            (sub / "cattern/neural_net.py").write_text(f"{source}\n# student {i}\n")
        for name in ("warm_up", "write_files", "similarity_after_batch", "refresh_pages"):
            timed(pipeline, name)
        executors.run_job = traced_run_job  # workers are forked: they call the traced one
        results: list[float] = []
        T0 = time.perf_counter()
        pipeline.grade_batch(batch, tmp_path / "out", rubric, workers=args.workers, force=True,
                             secret_file=tmp_path / "secret", on_result=lambda *_: results.append(time.perf_counter()))
        total = time.perf_counter() - T0
    print(f"\n{args.batch} submissions, {args.workers} worker(s), "
          f"{'MNIST run off' if args.no_mnist else 'default checks'}")
    print(f"first result after {results[0] - T0:.2f} s, last after {results[-1] - T0:.2f} s")
    print("| parent phase | calls | seconds |")
    print("|---|---|---|")
    for name, times in PHASES.items():
        print(f"| {name} | {len(times)} | {sum(times):.3f} |")
    print(f"| **whole batch** | | {total:.2f} ({total / args.batch:.3f} per submission) |")


if __name__ == "__main__":
    main()
