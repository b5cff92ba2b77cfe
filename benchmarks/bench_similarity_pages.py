"""What the similarity step costs at the end of a small batch where every pair is flagged.

Run: python benchmarks/bench_similarity_pages.py [--copies 20] [--rounds 3] [--baseline-rev REV]

The batch is `--copies` copies of the HW4 reference solution (`cattern/neural_net.py` and
`answers.md`), each with a different trailing comment so every copy has its own content hash:
all 190 pairs are flagged and the 100 highest get a pair page, the worst case for the pages.
The gradebook holds what `grader grade` leaves there for similarity: one recorded run per
submission and the code record its worker computed (`worker_fingerprints`); grading itself is
measured elsewhere (bench_module_grading.py), and is not needed to time this step.

Each figure is `run_similarity` alone, timed inside a fresh process (imports left out, the first
pygments lexer included, as in the parent of a batch):

- first: the first similarity run on this output folder and machine (the gradebook as the workers
  left it, an empty grader cache): every pair page is drawn, and the starter's code is read and
  fingerprinted;
- cold: the pages are absent or stale (a new batch, a changed report), the starter's record in
  the grader's cache (any earlier run on this machine put it there): every page is drawn;
- warm: the pages exist and their keys match (a regrade that changed no code): nothing is drawn.

With `--baseline-rev REV` (a git revision, e.g. `main`), the same measurements are made with the
source of REV (exported with `git archive` to a temporary folder), in interleaved rounds, so the
two trees share the machine's load; the ratio is taken within the run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "reference/hw4/solution"

SETUP = """
import sys
from pathlib import Path
from grader.execution.workspace import content_hash
from grader.judgement import rubric as rubric_mod
from grader.results import Status, SubmissionResult, TaskResult
from grader.similarity import worker_fingerprints
from grader.store import Gradebook
subs, out = Path(sys.argv[1]), Path(sys.argv[2])
hw4 = rubric_mod.load("hw4")
with Gradebook(out / "gradebook.sqlite") as book:
    for source in sorted(subs.iterdir()):
        digest = content_hash(source)
        task = TaskResult("T5", "Forward pass", Status.PASS, 1.0, 1.0, "recorded by the benchmark")
        book.record(SubmissionResult(source.name, "hw4", "1", (task,), content_hash=digest), str(source))
        code = worker_fingerprints(source, hw4, digest)
        assert code is not None
        book.save_fingerprints(*code)
"""

TIME = """
import os, shutil, sys, time
from pathlib import Path
from grader.judgement import rubric as rubric_mod
from grader.similarity import run_similarity
from grader.store import Gradebook
out, kind = Path(sys.argv[1]), sys.argv[2]
hw4 = rubric_mod.load("hw4")
if kind in ("first", "cold"):
    shutil.rmtree(out / "similarity", ignore_errors=True)
if kind == "first":  # the gradebook as the workers left it, before any similarity run; no cache
    shutil.copy(out / "as-graded.sqlite", out / "gradebook.sqlite")
    shutil.rmtree(os.environ["GRADER_CACHE_DIR"], ignore_errors=True)
with Gradebook(out / "gradebook.sqlite") as book:
    start = time.perf_counter()
    report = run_similarity(out, hw4, book)
    elapsed = time.perf_counter() - start
print(f"{elapsed:.4f} {len(report.flagged)} {len(list((out / 'similarity').glob('pair-*.html')))}")
"""


def make_batch(root: Path, copies: int) -> None:
    for i in range(copies):
        sub = root / f"s{i:02d}"
        (sub / "cattern").mkdir(parents=True)
        shutil.copy(SOLUTION / "answers.md", sub / "answers.md")
        code = (SOLUTION / "cattern/neural_net.py").read_text()
        (sub / "cattern/neural_net.py").write_text(code + f"\n# {i}\n")


def run(tree: Path, cache: Path, script: str, *args: str) -> str:
    """`script` in a fresh process, with `tree`'s grader and its own grader cache."""
    env = {**os.environ, "PYTHONPATH": str(tree), "GRADER_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=tree, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{tree}: failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


def export(rev: str, into: Path) -> Path:
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-rev", default=None, help="also time this git revision's source, interleaved")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-similarity-pages-"))
    try:
        trees = {"this tree": ROOT}
        if args.baseline_rev:
            trees[args.baseline_rev] = export(args.baseline_rev, base / "baseline")
        subs = base / "subs"
        make_batch(subs, args.copies)
        outs = {}
        for n, (name, tree) in enumerate(trees.items()):
            outs[name] = base / f"out{n}"
            run(tree, outs[name] / "cache", SETUP, str(subs), str(outs[name]))
            shutil.copy(outs[name] / "gradebook.sqlite", outs[name] / "as-graded.sqlite")
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start "
              "(busy machine unless this is near 0)")
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for name, tree in trees.items():
                for kind in ("first", "cold", "warm"):
                    seconds, flagged, pages = run(tree, outs[name] / "cache", TIME, str(outs[name]), kind).split()
                    times.setdefault((name, kind), []).append(float(seconds))
        print(f"batch: {args.copies} copies of the HW4 solution, {flagged} pairs flagged, {pages} pair pages")
        for (name, kind), values in times.items():
            print(f"{name:>12} {kind}: run_similarity median {statistics.median(values):.3f} s "
                  f"(rounds: {', '.join(f'{v:.3f}' for v in values)})")
        if args.baseline_rev:
            for kind in ("first", "cold", "warm"):
                ours, theirs = (statistics.median(times[(name, kind)]) for name in trees)
                ratio = ours / theirs
                print(f"{kind}: this tree takes {ratio:.2f} x the time of {args.baseline_rev}")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
