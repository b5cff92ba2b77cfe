"""Is HW4's short MNIST run enough? It must catch what the notebook's full run catches, at a fraction of the cost.

The rubric's check (rubrics/hw4/checks.py, MNIST_RUN) trains the student's TwoLayerNet for 300
iterations of 200 on 10,000 images; the notebook's run is 2,000 iterations on 55,000. This script
trains every sample both ways and compares the verdicts:

- the reference over several seeds, for the bar: its lowest accuracy minus a margin must stay
  above `val_min` (the calibration);
- the mistake samples in `submissions/` (their `cattern/neural_net.py`), the real-world patterns
  of `tests/hw4_corpus.py`, the toy-only `train()` of `tests/test_mnist_training.py`, and the
  solution's mutants in `train()` made by the mutation self-test (`grader.authoring.mutation`).

Each run happens in a forked child with a time limit (samples are our own code, never a student's).
A sample "fails" a run when it raises, hangs, or validates below the run's bar (the notebook's 0.93,
the rubric's `val_min`). Prints every figure docs/hw4.md and docs/benchmarks.md quote.

Run: python benchmarks/size_mnist_check.py [--seeds 10] [--mutants 30] [--quick]
(`--quick`: the reference and the submissions only.)
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as in the sandbox: one core per student process
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.judgement import rubric as rubric_mod  # noqa: E402

DATA = ROOT / "reference/hw4/starter/mnist_data"
SOLUTION = (ROOT / "reference/hw4/solution/cattern/neural_net.py").read_text()
STARTER = (ROOT / "reference/hw4/starter/cattern/neural_net.py").read_text()
FULL = dict(rows=55_000, num_iters=2000, batch_size=200, learning_rate=5e-4, learning_rate_decay=0.95, val_rows=5000)
FULL_BAR = 0.93


def _idx(name: str, offset: int) -> np.ndarray:
    with gzip.open(DATA / name, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load_mnist() -> dict[str, np.ndarray]:
    images = _idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    labels = _idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    mean = images[5000:].mean(axis=0)
    return {"X_train": images[5000:] - mean, "y_train": labels[5000:], "X_val": images[:5000] - mean,
            "y_val": labels[:5000]}


def _train(code: str, data: dict[str, np.ndarray], run: dict, seed: int, conn) -> None:
    np.seterr(all="ignore")  # a diverging mutant's overflow warnings are not news
    try:
        module = types.ModuleType("neural_net")
        exec(compile(code, "neural_net.py", "exec"), module.__dict__)  # noqa: S102 - our own samples
        np.random.seed(seed)
        net = module.TwoLayerNet(784, run.get("hidden_size", 50), 10)
        rows = run["rows"]
        started = time.process_time()
        net.train(data["X_train"][:rows], data["y_train"][:rows], data["X_val"][:run["val_rows"]],
                  data["y_val"][:run["val_rows"]], run["learning_rate"], run["learning_rate_decay"], 0.0,
                  run["num_iters"], run["batch_size"])
        cpu = time.process_time() - started
        accuracy = float(np.mean(np.asarray(net.predict(data["X_val"])).ravel() == data["y_val"]))
        conn.send(("ok", accuracy, cpu))
    except BaseException as exc:  # noqa: BLE001 - a sample's failure is its result
        conn.send(("error", f"{type(exc).__name__}: {str(exc)[:60]}", 0.0))


def train(code: str, data: dict[str, np.ndarray], run: dict, seed: int, timeout: float) -> tuple[str, object, float]:
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_train, args=(code, data, run, seed, child))
    proc.start()
    child.close()
    result = parent.recv() if parent.poll(timeout) else ("timeout", f"over {timeout:.0f} s", timeout)
    proc.kill()
    proc.join()
    return result


def samples(args: argparse.Namespace) -> list[tuple[str, str]]:
    found = [("reference solution", SOLUTION)]
    for sub in sorted((ROOT / "submissions").iterdir()):
        module = sub / "cattern/neural_net.py"
        if module.is_file() and sub.name != "reference-solution":
            found.append((f"submissions/{sub.name}", module.read_text()))
    if args.quick:
        return found
    from tests.conftest import mutate
    from tests.hw4_corpus import PATTERNS

    found.append(("tests/test_mnist_training toy-only train()",
                  mutate("        for it in range(num_iters):\n", "        for it in range(min(num_iters, 100)):\n")))
    found += [(f"corpus {p.name}", p.code()) for p in PATTERNS]
    from grader.authoring.mutation import changed_lines, mutate_source

    mutants = [(f"mutant line {edit.line} ({edit.kind}): {edit.description[:50]}", code)
               for edit, code, owners in mutate_source(SOLUTION, changed_lines(STARTER, SOLUTION))
               if "train" in owners]
    step = max(1, len(mutants) // max(1, args.mutants))
    return found + mutants[::step][:args.mutants]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10, help="seeds of the reference's calibration")
    parser.add_argument("--mutants", type=int, default=30, help="mutants of train() compared (spread over the file)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--timeout", type=float, default=120.0, help="per full run (s); a fourth of it per short run")
    args = parser.parse_args()

    rubric = rubric_mod.load("hw4")
    checks = rubric.checks()
    config = next(t.params["mnist_training"] for t in rubric.tasks if t.params.get("mnist_training"))
    short = {**checks.MNIST_RUN, "rows": checks.MNIST_TRAIN_ROWS, "val_rows": 1000}
    bar = float(config["val_min"])
    data = load_mnist()

    print(f"## The reference over {args.seeds} seeds (short run: {short})")
    accs, cpus = [], []
    for seed in range(args.seeds):
        status, acc, cpu = train(SOLUTION, data, short, seed, args.timeout / 4)
        assert status == "ok", acc
        accs.append(acc)
        cpus.append(cpu)
    full_status, full_acc, full_cpu = train(SOLUTION, data, FULL, 0, args.timeout)
    print(f"short run: min {min(accs):.4f}, mean {statistics.mean(accs):.4f}, max {max(accs):.4f}; "
          f"bar {bar} (margin {min(accs) - bar:.4f} below the lowest seed)")
    print(f"full run (seed 0): {full_acc:.4f}; bar {FULL_BAR}")
    print(f"training CPU s, reference: short {statistics.median(cpus):.2f}, full {full_cpu:.2f} "
          f"(ratio {full_cpu / statistics.median(cpus):.1f}×)")

    rows, agree, caught_full, caught_short = [], 0, 0, 0
    for name, code in samples(args):
        f = train(code, data, FULL, 0, args.timeout)
        s = train(code, data, short, 0, args.timeout / 4)
        fail_full = f[0] != "ok" or f[1] < FULL_BAR
        fail_short = s[0] != "ok" or s[1] < bar
        agree += fail_full == fail_short
        caught_full += fail_full
        caught_short += fail_short
        show = lambda r: f"{r[1]:.4f}" if r[0] == "ok" else f"{r[0]} ({r[1]})"  # noqa: E731
        rows.append(f"| {name} | {show(f)} | {show(s)} | {'fail' if fail_full else 'pass'} | "
                    f"{'fail' if fail_short else 'pass'} | {'' if fail_full == fail_short else 'DIFFERENT'} |")
        print(rows[-1], flush=True)
    print()
    print(f"| sample | full run (2,000 it., 55,000 images) | short run | full verdict (≥ {FULL_BAR}) | "
          f"short verdict (≥ {bar}) | |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nsamples: {len(rows)}; same verdict: {agree}; failed by the full run: {caught_full}; "
          f"by the short run: {caught_short}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        main()
