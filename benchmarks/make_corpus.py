"""A deterministic benchmark corpus of HW4 submissions, built from the repository's samples.

Run: python benchmarks/make_corpus.py --count 120 --out /tmp/corpus [--notebooks 12]

Module submissions cycle through a fixed mix that looks like a class: mostly correct code, each
typical mistake of `submissions/mistake-*` (one bug each), and broken inputs (syntax error,
missing module, missing class, Python 2 code, module in the wrong folder, a zip with a wrapping
folder). `--notebooks K` of them also carry the lab notebook, made LIGHT so a 100+ corpus grades
in minutes: the toy checks as published, MNIST loaded, and T12's sweep replaced by one short
training run (seconds, not an hour). Notebook submissions alternate between correct code and a
mistake. Every copy differs by a comment holding its index, so content hashes differ and no copy
is skipped as already graded. `hang-in-train` is left out on purpose: a hang spends its time
waiting on a timeout, which would flatter a parallel speed-up.
"""

from __future__ import annotations

import argparse
import json
import shutil
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "submissions"
NOTEBOOK = "Simple_Neural_Network_Lab.ipynb"
MODULE = Path("cattern") / "neural_net.py"

MISTAKES = sorted(p.name for p in SAMPLES.glob("mistake-*"))
BROKEN = ["syntax-error", "missing-module", "missing-class", "python2-code", "misplaced-module", "zipped"]
# one cycle of module submissions: a class where about a third is right, every mistake and broken input once
MIX = ["correct"] * 7 + MISTAKES + BROKEN
NOTEBOOK_MIX = ["correct", "correct", "mistake-forward-no-bias", "mistake-naive-softmax"]

# T12's sweep (an hour for seed 001) becomes one short run: the notebook still trains on MNIST,
# hands its best_net to the grader and saves best_net.npz, in seconds
SHORT_T12 = """best_net = TwoLayerNet(input_size, 50, num_classes)
best_stats = best_net.train(X_train, y_train, X_val, y_val, num_iters=300, batch_size=200,
                            learning_rate=1e-3, learning_rate_decay=0.95, reg=0.0, verbose=False)
print("Validation accuracy: ", (best_net.predict(X_val) == y_val).mean())"""
# cells dropped from the light notebook: the two 2000-iteration runs and the plots of their nets
HEAVY_MARKERS = ("num_iters=2000", "stats_LRDecay[", "show_net_weights")


def light_notebook(source: Path) -> dict:
    """The reference lab notebook with its long training replaced; the published checks stay."""
    nb = json.loads(source.read_text())
    cells = []
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
            if any(marker in text for marker in HEAVY_MARKERS):
                continue
            if "T12: Tune hyperparameters" in text:
                cell["source"] = SHORT_T12
        cells.append(cell)
    # the dropped 2000-iteration cell defined the MNIST sizes the short T12 run needs
    sizes = {"cell_type": "code", "id": "benchmark-mnist-sizes", "metadata": {}, "outputs": [],
             "execution_count": None, "source": "input_size = 28 * 28 * 1\nnum_classes = 10"}
    index = next(i for i, c in enumerate(cells) if c["source"] == SHORT_T12)
    cells.insert(index, sizes)
    nb["cells"] = cells
    return nb


def _mark(path: Path, index: int) -> None:
    """A trailing comment, so each copy has its own content hash."""
    with path.open("a") as handle:
        handle.write(f"\n# benchmark corpus copy {index}\n")


def _module_submission(kind: str, dest: Path, index: int) -> Path:
    """One submission folder (or zip) of the given kind at `dest`; returns what was written."""
    correct = SAMPLES / "reference-solution"
    ignore = shutil.ignore_patterns(NOTEBOOK, "__pycache__", "*.pyc")
    if kind == "correct" or kind in ("syntax-error", "missing-module", "zipped"):
        shutil.copytree(correct, dest, ignore=ignore)
    else:
        shutil.copytree(SAMPLES / kind, dest, ignore=ignore)
    module = dest / MODULE
    if kind == "syntax-error":
        text = module.read_text().replace("def predict(self, X):", "def predict(self, X)", 1)
        module.write_text(text)
    if kind == "missing-module":
        shutil.rmtree(dest / "cattern")
        _mark(dest / "answers.md", index)
        return dest
    _mark(module if module.is_file() else dest / "neural_net.py", index)
    if kind == "zipped":  # a zip with a wrapping folder, as students often hand in
        archive = dest.with_suffix(".zip")
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for file in sorted(dest.rglob("*")):
                if file.is_file():
                    zf.write(file, Path("hw4") / file.relative_to(dest))
        shutil.rmtree(dest)
        return archive
    return dest


def make_corpus(out: Path, count: int, notebooks: int) -> list[tuple[str, str]]:
    """Write `count` submissions into `out` (replacing it); returns (submission id, kind) pairs."""
    if notebooks > count:
        raise SystemExit(f"--notebooks {notebooks} is more than --count {count}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    lab = light_notebook(SAMPLES / "reference-solution" / NOTEBOOK)
    # notebooks spread evenly through the corpus, so any prefix of it has its share
    with_notebook = {round(i * count / notebooks) for i in range(notebooks)} if notebooks else set()
    made = []
    module_index = 0
    for index in range(count):
        if index in with_notebook:
            kind = NOTEBOOK_MIX[len([i for i in with_notebook if i < index]) % len(NOTEBOOK_MIX)]
            name = f"s{index:04d}-notebook-{kind}"
            dest = _module_submission("correct" if kind == "correct" else kind, out / name, index)
            (dest / NOTEBOOK).write_text(json.dumps(lab, indent=1))
            made.append((name, f"notebook-{kind}"))
            continue
        kind = MIX[module_index % len(MIX)]
        module_index += 1
        written = _module_submission(kind, out / f"s{index:04d}-{kind}", index)
        made.append((written.stem if written.suffix == ".zip" else written.name, kind))
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=120, help="submissions to write (default 120)")
    parser.add_argument("--out", type=Path, required=True, help="folder to (re)create")
    parser.add_argument("--notebooks", type=int, default=None,
                        help="how many carry the light lab notebook (default: one in ten)")
    args = parser.parse_args()
    notebooks = args.count // 10 if args.notebooks is None else args.notebooks
    made = make_corpus(args.out, args.count, notebooks)
    kinds: dict[str, int] = {}
    for _, kind in made:
        kinds[kind] = kinds.get(kind, 0) + 1
    print(f"{len(made)} submissions in {args.out}:")
    for kind, n in sorted(kinds.items()):
        print(f"  {n:4d}  {kind}")


if __name__ == "__main__":
    main()
