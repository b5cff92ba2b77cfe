"""Regrading after a rubric edit, from recorded executions, as a share of the first run's wall time.

Run: python benchmarks/bench_regrade.py [--count 100] [--notebooks 10] [--workers 2]
     python benchmarks/bench_regrade.py --count 8 --notebooks 1      # a smoke run

On a mixed corpus from make_corpus.py (module-only submissions of every kind, some with the light
lab notebook), with the default HW4 checks (the MNIST run included):

1. the first run grades everything and records every probe call and notebook run in OUT/.recordings;
2. a tolerance change (T5's rtol) regrades every submission: nothing of the students' runs again,
   only T5 is judged again (the other verdicts are read back, judged_tasks.py), and the wall time is
   printed as a percentage of the first run's (issue 17: at most 5 %);
3. a change to one task's probe (`probe_predict`, T11's) regrades every submission again: the probe
   calls that ran are counted by probe from the records written (only `predict` should appear), and
   every task is judged again (the probes module changed);
4. `--no-cache` (the same as `grader grade --no-cache`) runs everything again, for comparison, and
   every submission's verdicts are compared with the first run's.

Each step calls `grade_batch` in this process (forked workers), as `grader grade` does. Figures on a
shared machine are noisy: compare them within one run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_corpus import make_corpus  # noqa: E402

from grader.judgement import rubric as rubric_mod  # noqa: E402
from grader.judgement.recordings import RECORDINGS_DIR, read_record  # noqa: E402
from grader.pipeline import grade_batch  # noqa: E402


def probes_recorded_since(store: Path, since: float) -> Counter[str]:
    """Probe calls that ran (were recorded) after `since`, by probe name; and the tasks judged again
    (their verdicts stored), as "task T5"."""
    counts: Counter[str] = Counter()
    for path in store.rglob("*.rec"):
        if path.stat().st_mtime >= since:
            meta = read_record(path.read_bytes())["__meta__"]
            counts[meta.get("probe") or (f"task {meta['task']['id']}" if "task" in meta else "<notebook>")] += 1
    return counts


def verdicts(out: Path) -> dict[str, list[tuple[str, str, float | None]]]:
    found = {}
    for path in sorted(out.glob("*/result.json")):
        data = json.loads(path.read_text())
        found[data["submission"]] = [(t["id"], t["status"], t["points"]) for t in data["tasks"]]
    return found


def edited(rubric: rubric_mod.Rubric, tag: str, **changes) -> rubric_mod.Rubric:
    """The rubric as if its files had been edited: a new fingerprint, so every submission regrades."""
    return dataclasses.replace(rubric, fingerprint=f"{rubric.fingerprint}-{tag}", **changes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--notebooks", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    rubric = rubric_mod.load("hw4")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        corpus = tmp_path / "corpus"
        make_corpus(corpus, args.count, args.notebooks)
        out = tmp_path / "out"
        secret = tmp_path / "secret"
        store = out / RECORDINGS_DIR

        def timed(graded: rubric_mod.Rubric, **kw) -> float:
            start = time.perf_counter()
            grade_batch(corpus, out, graded, workers=args.workers, secret_file=secret, **kw)
            return time.perf_counter() - start

        first = timed(rubric)
        first_verdicts = verdicts(out)

        tasks = tuple(dataclasses.replace(t, params={**t.params, "rtol": 1e-8}) if t.id == "T5" else t
                      for t in rubric.tasks)
        since = time.time()
        tolerance = timed(edited(rubric, "rtol", tasks=tasks))
        after_tolerance = probes_recorded_since(store, since)
        replayed_same = verdicts(out) == first_verdicts

        probes = tmp_path / "probes.py"
        text = rubric.probes.read_text()
        marker = "def probe_predict(student: Student, W1, b1, W2, b2, X) -> dict[str, Any]:\n"
        assert marker in text
        probes.write_text(text.replace(marker, marker + "    X = np.asarray(X)\n"))
        since = time.time()
        probe_change = timed(edited(rubric, "probe", probes=probes))
        after_probe = probes_recorded_since(store, since)

        forced = timed(edited(rubric, "forced"), no_cache=True)
        same = verdicts(out) == first_verdicts

    print(f"| regrade, {args.count} submissions ({args.notebooks} with the light notebook), "
          f"{args.workers} workers, default checks | wall s | % of first run |")
    print("|---|---|---|")
    print(f"| first run (records every probe call and notebook run) | {first:.1f} | 100 % |")
    print(f"| after a tolerance change (T5's rtol) | {tolerance:.1f} | {100 * tolerance / first:.1f} % |")
    print(f"| after a change to T11's probe (`probe_predict`) | {probe_change:.1f} | "
          f"{100 * probe_change / first:.1f} % |")
    print(f"| `--no-cache` (everything runs again) | {forced:.1f} | {100 * forced / first:.1f} % |")
    print()
    print(f"probe calls run (and tasks judged) after the tolerance change: {dict(after_tolerance) or 'none'}")
    print(f"probe calls run (and tasks judged) after the probe change: {dict(after_probe) or 'none'}")
    print(f"verdicts replayed after the tolerance change (rtol 1e-9 -> 1e-8) identical to the first run's: "
          f"{replayed_same}")
    print(f"verdicts with --no-cache identical to the first run's: {same}")


if __name__ == "__main__":
    main()
