"""How long `grader similarity` takes on a class of 1,000 HW4 submissions, cold and warm.

Run: python benchmarks/bench_similarity.py [--count 1000] [--copies 20] [--keep DIR]

The class is synthetic, built from benchmarks/similarity_corpus.py: each student takes the loss
function (with its helpers) of one of the 8 fill-in solutions and T8, T9, T10 and T11 each from
a random one, or (1 in 9) the rewrite from scratch; then local rewrites that keep the meaning are
applied at random sites (`a.dot(b)` -> `a @ (b)`, `np.sum(x, axis=0)` -> `x.sum(axis=0)`,
`x /= n` -> `x = x / n`, `x -= d` -> `x = x - (d)`), so students who chose the same parts still
differ in detail, and one random disguise of the corpus's. `--copies` students are planted
copies: a full disguise (renamed, reordered, comments, dead code, layout) of another student.
It is a harsh class for an index: everyone draws on 9 solutions, so posting lists are long.

The output folder holds a gradebook with one recorded run per submission (grading itself is
measured by bench_throughput.py), and the script times, each in a fresh process:

- worker: fingerprinting every submission as the batch's workers do (`worker_fingerprints`),
  what grading adds per submission;
- cold: the whole `grader similarity OUT` with an empty cache: fingerprints computed from the
  sources (in parallel), the index, similarity.csv, the pair pages and index.html;
- warm: the same command again, fingerprints read from the gradebook (after `grader grade`,
  the workers have cached them, so this is what a TA waits for at the end of a batch).

Every figure README and docs/similarity.md quote is printed here.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import similarity_corpus as corpus  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
THRESHOLD = 0.6  # hw4's
LOSS_PARTS = ("T5", "T6", "T7", "module", "class")
SINGLE_PARTS = ("T8", "T9", "T10", "T11")

REWRITES = (
    (re.compile(r"([\w\.\]\[\"']+)\.dot\(([^()]+)\)"), r"\1 @ (\2)"),
    (re.compile(r"np\.sum\(([\w\.]+), axis=(\d)\)"), r"\1.sum(axis=\2)"),
    (re.compile(r"^(\s*)([\w\.]+) /= (\w+)$", re.M), r"\1\2 = \2 / \3"),
    (re.compile(r"^(\s*)([\w\.\[\]\"']+) -= (.+)$", re.M), r"\1\2 = \2 - (\3)"),
)


def rewrite(code: str, rng: random.Random) -> str:
    """Apply each meaning-keeping rewrite at about half of its sites."""
    for pattern, replacement in REWRITES:
        def maybe(match: re.Match[str], replacement: str = replacement) -> str:
            return match.expand(replacement) if rng.random() < 0.5 else match.group(0)

        candidate = pattern.sub(maybe, code)
        try:
            compile(candidate, "candidate", "exec")
            code = candidate
        except SyntaxError:
            pass
    return code


def student(rng: random.Random, starter: str) -> str:
    names = corpus.solution_names()
    if rng.random() < 1 / 9:
        code = corpus.build("s06_rewrite")
    else:
        fills = [n for n in names if n != "s06_rewrite"]
        parts = {k: v for k, v in corpus.sections((corpus.SOLUTIONS / f"{rng.choice(fills)}.txt").read_text()).items()
                 if k in LOSS_PARTS}
        for slot in SINGLE_PARTS:
            parts[slot] = corpus.sections((corpus.SOLUTIONS / f"{rng.choice(fills)}.txt").read_text())[slot]
        code = build_from_parts(parts, starter)
    code = rewrite(code, rng)
    kind = rng.choice(("renamed", "reordered", "comments", "deadcode", "none"))
    return code if kind == "none" else corpus.disguise(code, kind, seed=rng.randrange(10**9))


def build_from_parts(parts: dict[str, str], starter: str) -> str:
    slots = iter(corpus.SLOTS)
    out: list[str] = []
    for line in starter.splitlines():
        if line.strip() == "# your code here":
            slot = next(slots)
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(corpus._indent(parts[slot], indent) if slot in parts else [line])
        else:
            out.append(line)
            if line == "import numpy as np" and "module" in parts:
                out += ["", "", *parts["module"].splitlines()]
    if "class" in parts:
        out += ["", *corpus._indent(parts["class"], "    ")]
    return "\n".join(out) + "\n"


def make_class(root: Path, count: int, copies: int, seed: int = 16) -> list[tuple[str, str]]:
    """Write `count` submissions; returns the planted (original, copy) pairs."""
    rng = random.Random(seed)
    starter = (corpus.STARTER / corpus.MODULE).read_text()
    codes: dict[str, str] = {}
    for i in range(count - copies):
        codes[f"student{i:04d}"] = student(rng, starter)
    planted = []
    originals = rng.sample(sorted(codes), copies)
    for j, original in enumerate(originals):
        copy_id = f"copier{j:03d}"
        codes[copy_id] = corpus.disguise(codes[original], "all", seed=j)
        planted.append(tuple(sorted((original, copy_id))))
    for sub, code in codes.items():
        corpus.write_submission(root / sub, code)
    return planted


RECORD = """
import sys
from pathlib import Path
from grader.execution.workspace import content_hash
from grader.results import Status, SubmissionResult, TaskResult
from grader.store import Gradebook
subs, out = Path(sys.argv[1]), Path(sys.argv[2])
with Gradebook(out / "gradebook.sqlite") as book:
    for source in sorted(subs.iterdir()):
        task = TaskResult("T5", "Forward pass", Status.PASS, 1.0, 1.0, "recorded by the benchmark")
        book.record(SubmissionResult(source.name, "hw4", "1", (task,), content_hash=content_hash(source)),
                    str(source))
"""

WORKER = """
import statistics, sys, time
from pathlib import Path
from grader.judgement import rubric
from grader.similarity import worker_fingerprints
hw4 = rubric.load("hw4")
times = []
for source in sorted(Path(sys.argv[1]).iterdir()):
    start = time.perf_counter()
    assert worker_fingerprints(source, hw4) is not None
    times.append(time.perf_counter() - start)
print(f"{sum(times):.2f} {statistics.median(times) * 1000:.1f}")
"""

CLI = "from grader.cli import main; main()"


def timed(args: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{args} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--keep", type=Path, default=None, help="write the class and the output here and keep them")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-similarity-"))
    subs, out = base / "subs", base / "out"
    shutil.rmtree(subs, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    try:
        planted = make_class(subs, args.count, args.copies)
        timed([sys.executable, "-c", RECORD, str(subs), str(out)])
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start "
              "(busy machine unless this is near 0)")
        print(f"class: {args.count} submissions, {args.copies} planted copies")
        worker_total, worker_out = timed([sys.executable, "-c", WORKER, str(subs)])
        total, median_ms = worker_out.split()
        print(f"worker: fingerprinting all {args.count} one after another took {total} s "
              f"(median {median_ms} ms per submission; the batch spreads this over its workers)")
        cold, cold_out = timed([sys.executable, "-c", CLI, "similarity", str(out)])
        print(f"cold: grader similarity with an empty cache took {cold:.1f} s wall ({cold_out.strip()})")
        warm, _ = timed([sys.executable, "-c", CLI, "similarity", str(out)])
        print(f"warm: grader similarity with every fingerprint cached took {warm:.1f} s wall")
        rows = (out / "similarity.csv").read_text().splitlines()[1:]
        scores = {tuple(sorted(r.rsplit(",", 2)[:2])): float(r.rsplit(",", 1)[1]) for r in rows}
        found = sum(1 for p in planted if scores.get(p, 0.0) >= THRESHOLD)
        print(f"pairs listed in similarity.csv: {len(rows)} of {args.count * (args.count - 1) // 2} possible; "
              f"flagged (>= {THRESHOLD}): {sum(1 for s in scores.values() if s >= THRESHOLD)}; planted copies flagged: "
              f"{found} of {len(planted)}; pair pages: {len(list((out / 'similarity').glob('pair-*.html')))}")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
