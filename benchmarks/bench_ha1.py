"""Grading time per Hand-in 1 submission, and the share of it spent in the student's own training.

Grades each sample in submissions-ha1/ (or the folders given) one after the other, as a TA's
`grader grade` does (TA mode: public and hidden checks, every script run on its budget, the
report's pages rendered), and prints per submission: the wall time of the whole grading, the
wall and CPU seconds its scripts ran (the student's own training, plotting and printing), and the
share of the grading's wall time that was the scripts'.

    python benchmarks/bench_ha1.py                       # the samples in submissions-ha1/
    python benchmarks/bench_ha1.py path/to/sub1 path/to/sub2
    python benchmarks/bench_ha1.py --results reports-ha1  # the same table from a finished `grader grade`

The scripts' CPU seconds are the best figure to compare across machines; the wall times depend
on how busy the machine is (the load average at the start is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from grader.execution.workspace import discover  # noqa: E402
from grader.judgement import rubric as rubric_mod  # noqa: E402
from grader.judgement.grading import grade_submission  # noqa: E402
from grader.results import SubmissionResult  # noqa: E402

SECRET = b"bench-ha1-fixed-secret-0123456789abcdef"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", nargs="*", type=Path)
    parser.add_argument("--results", type=Path, help="summarise the result.json files of a finished batch instead")
    args = parser.parse_args()
    if not args.results:
        print(f"load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
              f"({'idle' if os.getloadavg()[0] < 0.5 else 'busy machine: the wall times are inflated'})")
    print(f"{'submission':24s} {'grading wall s':>14s} {'scripts wall s':>14s} {'scripts CPU-s':>13s} "
          f"{'share in scripts':>16s}  score")
    if args.results:
        for path in sorted(args.results.glob("*/result.json")):
            result = SubmissionResult.from_json(json.loads(path.read_text()))
            show(result, result.duration_s)
        return
    subs = args.submissions or discover(PROJECT / "submissions-ha1")
    rubric = rubric_mod.load("ha1")
    rubric.load_judges()
    for sub in subs:
        started = time.monotonic()
        result = grade_submission(sub, rubric, SECRET)
        show(result, time.monotonic() - started)


def show(result: SubmissionResult, wall: float) -> None:
    """One submission's line: the grading's wall time, and how much of it its scripts took."""
    scripts_wall = sum(s.wall_s for s in result.scripts)
    scripts_cpu = sum(s.cpu_s for s in result.scripts)
    print(f"{result.submission:24s} {wall:14.1f} {scripts_wall:14.1f} {scripts_cpu:13.1f} "
          f"{scripts_wall / wall:16.0%}  {result.score:g}/{result.max_score:g}", flush=True)
    for s in result.scripts:
        print(f"    {s.path:24s} {s.status:8s} {s.wall_s:8.1f} s wall {s.cpu_s:8.1f} CPU-s of {s.cpu_budget_s:g}")


if __name__ == "__main__":
    main()
