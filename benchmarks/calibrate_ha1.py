"""Calibrate Hand-in 1's script budgets: how long each script of a submission trains, and how well.

Runs each of the submission's three scripts to completion (or to `--cpu-budget`) exactly as the
grader does (`grader.execution.scripts.run_script`: the sandbox, single-threaded BLAS, headless
matplotlib), then measures the model each one saved on MNIST's 10,000 test images, the way the
ha1 rubric does. Prints, per script: how it ended, CPU and wall seconds, what it printed as its
final test accuracy, and the accuracy the grader measures.

    python benchmarks/calibrate_ha1.py submissions-ha1/reference-solution
    nice -n 10 python benchmarks/calibrate_ha1.py submissions-ha1/seed004-student --cpu-budget 3600

The machine is shared: CPU seconds are what to compare; wall seconds depend on the load.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from grader.execution.sandbox import detect  # noqa: E402
from grader.execution.scripts import ScriptSpec, run_script  # noqa: E402
from grader.execution.session import GRADER_SRC  # noqa: E402

MNIST = PROJECT / "reference/hw4/starter/mnist_data"
SCRIPTS = {"softmax_regression": "softmax_regression.npz", "softmax_minibatch": "softmax_minibatch.npz",
           "neural_network": "neural_network.npz"}
PRINTED = re.compile(r"Final test accuracy:\s*([0-9.]+)\s*%")


def test_set() -> tuple[np.ndarray, np.ndarray]:
    def read(name: str, offset: int) -> np.ndarray:
        with gzip.open(MNIST / name, "rb") as f:
            return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)

    return read("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784) / 255.0, read("t10k-labels-idx1-ubyte.gz", 8)


def accuracy(model: bytes, X: np.ndarray, y: np.ndarray) -> float:
    with np.load(io.BytesIO(model), allow_pickle=False) as data:
        layers = sum(1 for k in data.files if re.fullmatch(r"W\d+", k))
        acts = [str(a) for a in data["activations"]] if "activations" in data.files else []
        A = X
        for i in range(layers):
            Z = A @ data[f"W{i + 1}"].T + data[f"b{i + 1}"].reshape(-1)
            A = Z if i == layers - 1 else (np.maximum(Z, 0) if acts[i] == "relu" else 1 / (1 + np.exp(-Z)))
    return float(np.mean(np.argmax(A, axis=1) == y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submission", type=Path)
    parser.add_argument("--cpu-budget", type=float, default=3600.0, help="CPU seconds per script (default 3600)")
    parser.add_argument("--scripts", default=",".join(SCRIPTS), help="which scripts, comma-separated")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--figures", type=Path, help="keep the PNGs each script showed or saved in this folder")
    args = parser.parse_args()
    sandbox = detect(sys.executable)[0]
    X, y = test_set()
    print(f"submission {args.submission}, sandbox {sandbox.level.name}, load average "
          f"{os.getloadavg()[0]:.1f} at the start (figures mean most on an idle machine)")
    rows = []
    for name in args.scripts.split(","):
        model = SCRIPTS[name]
        spec = ScriptSpec(name, f"{name}.py", cpu_s=args.cpu_budget, wall_s=10 * args.cpu_budget, memory_mb=4096,
                          outputs=(model,))
        with tempfile.TemporaryDirectory() as tmp:
            run = run_script(spec, args.submission.resolve(), sandbox=sandbox, python=sys.executable,
                             grader_src=GRADER_SRC, workdir=Path(tmp),
                             data={"mnist_data": MNIST})
        if args.figures:
            args.figures.mkdir(parents=True, exist_ok=True)
            for fig in run.figures:
                (args.figures / f"{name}-{fig.name}.png").write_bytes(fig.png)
        printed = PRINTED.findall(run.output)
        measured = accuracy(run.files[model], X, y) if model in run.files else None
        row = {"script": name, "status": run.status.value, "cpu_s": run.cpu_s, "wall_s": run.wall_s,
               "printed_test_accuracy": float(printed[-1]) / 100 if printed else None,
               "measured_test_accuracy": measured, "message": run.message}
        rows.append(row)
        print(f"{name:20s} {row['status']:8s} {run.cpu_s:8.1f} CPU-s {run.wall_s:8.1f} s wall  printed "
              f"{row['printed_test_accuracy']}  measured {measured}  ({run.message})", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
