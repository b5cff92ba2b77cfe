"""`grader grade` vs nbgrader's `autograde` and otter-grader's `otter run` on the same notebooks.

Run: python benchmarks/bench_peers.py [--count 8] [--rounds 3] [--json out.json]
     python benchmarks/bench_peers.py --count 2 --rounds 2 --only grader,nbgrader   # a smoke run

Interleaved rounds, as in bench_throughput.py: each round runs every tool once, in an order that
alternates from round to round, and the ratios grader / nbgrader are taken within a round (runs
minutes apart share the host's weather) before the median over rounds is printed. Every grader run
starts from an empty plot cache and empty recordings (`--no-cache`, a fresh OUT), with MNIST's
prepared arrays built once beforehand, as a TA's machine has them after its first batch.

nbgrader and otter-grader are installed from PyPI into a virtualenv of their own
(~/.cache/grader-bench/peers-venv, or --venv), never into the project's. The submissions are the
light lab notebooks of make_corpus.py (correct code and two typical mistakes, each with its
cattern/ module). Each tool gets equivalent public tests, written once below: toy scores vs the
published matrix, toy loss at reg 0.1, the numeric gradient check, the toy training's final loss,
predict() = argmax of scores, and T12's accuracy thresholds. nbgrader gets them as locked grade
cells of a source notebook (course folder, generate_assignment, submitted/<student>/ps1,
autograde); otter as OK-format tests in an autograder zip (`otter generate`, mnist_data as a
support file) and one `otter run` per submission zip (sequentially, then two at a time).

What each does is not the same work: the peers run the notebook and the tests in the student's
kernel, as the grader's OS user, with no sandbox; `grader` runs the notebook in its sandbox and,
alongside, every module check (public and hidden), the MNIST training check and T12's
measurement on its own split. A third grader run leaves out the MNIST training check, the
one check with no counterpart in the peers' tests. Every tool's kernel gets single-threaded BLAS,
as grader's do.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_corpus import NOTEBOOK, ROOT, make_corpus  # noqa: E402

from grader.execution.sandbox import SINGLE_THREAD_BLAS  # noqa: E402

DEFAULT_VENV = Path.home() / ".cache" / "grader-bench" / "peers-venv"
PEER_PACKAGES = ["nbgrader", "otter-grader[grading]", "matplotlib"]
MNIST = ROOT / "reference" / "hw4" / "starter" / "mnist_data"
# the toy problem built explicitly, as init_toy_data()/init_toy_model() do: by the end of the
# notebook the size globals those functions read hold MNIST's sizes
TOY = ["np.random.seed(1)", "_X = 10 * np.random.randn(5, 4)", "_y = np.array([0, 1, 2, 2, 1])",
       "np.random.seed(0)", "_net = TwoLayerNet(4, 10, 3, std=1e-1)"]
# (test id, setup statements, a boolean expression): the notebook's own published checks
TESTS = [
    ("T5", TOY, "np.sum(np.abs(_net.loss(_X) - correct_scores)) < 1e-7"),
    ("T6", TOY, "abs(_net.loss(_X, _y, reg=0.1)[0] - 1.30378789133) < 1e-10"),
    ("T7", [*TOY, "from cattern.gradient_check import eval_numerical_gradient",
            "_loss, _grads = _net.loss(_X, _y, reg=0.05)"],
     "all(rel_error(eval_numerical_gradient(lambda W: _net.loss(_X, _y, reg=0.05)[0], _net.params[_p], "
     "verbose=False), _grads[_p]) < 1e-8 for _p in _grads)"),
    ("T8-T10", [*TOY, "_stats = _net.train(_X, _y, _X, _y, learning_rate=1e-1, reg=5e-6, num_iters=100, "
                "verbose=False)"], "_stats['loss_history'][-1] < 0.05"),
    ("T11", TOY, "(_net.predict(_X) == np.argmax(_net.loss(_X), axis=1)).all()"),
    ("T12", [], "(best_net.predict(X_val) == y_val).mean() >= 0.974 and "
                "(best_net.predict(X_test) == y_test).mean() > 0.963"),
]
SINGLE_THREAD = {**SINGLE_THREAD_BLAS, "MPLBACKEND": "Agg"}


def ensure_venv(venv: Path) -> None:
    if (venv / "bin" / "nbgrader").exists() and (venv / "bin" / "otter").exists():
        return
    print(f"installing {' '.join(PEER_PACKAGES)} into {venv} (a few minutes)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *PEER_PACKAGES], check=True)


def _timed(argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    start = time.perf_counter()
    with log.open("ab") as sink:
        done = subprocess.run(argv, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        print(f"WARNING: {' '.join(argv[:3])}… exited {done.returncode} (see {log})", file=sys.stderr)
    return elapsed


def _peer_env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **SINGLE_THREAD}


def _submissions(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.iterdir() if (p / NOTEBOOK).is_file())


def run_nbgrader(venv: Path, corpus: Path, work: Path) -> tuple[float, dict[str, dict[str, float]]]:
    course = work / "nbgrader-course"
    shutil.rmtree(course, ignore_errors=True)
    (course / "source" / "ps1").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'hw4bench'\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.Execute.timeout = 180\n")
    nb = json.loads((_submissions(corpus)[0] / NOTEBOOK).read_text())
    for test_id, setup, expr in TESTS:
        nb["cells"].append({"cell_type": "code", "id": f"test-{test_id}", "execution_count": None, "outputs": [],
                            "metadata": {"nbgrader": {"grade": True, "grade_id": test_id, "locked": True,
                                                      "points": 1, "schema_version": 3, "solution": False,
                                                      "task": False}},
                            "source": "\n".join([*setup, f"assert {expr}"])})
    (course / "source" / "ps1" / NOTEBOOK).write_text(json.dumps(nb, indent=1))
    shutil.copytree(MNIST, course / "source" / "ps1" / "mnist_data")
    env = _peer_env(venv)
    log = work / "nbgrader.log"
    nbgrader = str(venv / "bin" / "nbgrader")
    _timed([nbgrader, "db", "assignment", "add", "ps1"], course, env, log)
    _timed([nbgrader, "generate_assignment", "ps1", "--force"], course, env, log)
    released = course / "release" / "ps1" / NOTEBOOK
    for sub in _submissions(corpus):
        student = sub.name.replace("-", "_")
        dest = course / "submitted" / student / "ps1"
        dest.mkdir(parents=True)
        shutil.copy(released, dest / NOTEBOOK)  # the student filled in the module, not the notebook
        shutil.copytree(sub / "cattern", dest / "cattern")
        _timed([nbgrader, "db", "student", "add", student], course, env, log)
    elapsed = _timed([nbgrader, "autograde", "ps1"], course, env, log)
    _timed([nbgrader, "export"], course, env, log)
    scores = {}
    with (course / "grades.csv").open() as handle:
        for row in csv.DictReader(handle):
            scores[row["student_id"]] = {"score": float(row["raw_score"] or 0), "max": float(row["max_score"] or 0)}
    return elapsed, scores


def _otter_test(test_id: str, setup: list[str], expr: str) -> str:
    lines = [f">>> {line}" for line in setup] + [f">>> bool({expr})", "True"]
    case = {"code": "\n".join(lines), "hidden": False, "locked": False}
    test = {"name": test_id, "points": 1,
            "suites": [{"cases": [case], "scored": True, "setup": "", "teardown": "", "type": "doctest"}]}
    return f"OK_FORMAT = True\n\ntest = {test!r}\n"


def run_otter(venv: Path, corpus: Path, work: Path, parallel: int) -> tuple[float, dict[str, dict[str, float]]]:
    base = work / "otter"
    shutil.rmtree(base, ignore_errors=True)
    (base / "tests").mkdir(parents=True)
    for test_id, setup, expr in TESTS:
        (base / "tests" / f"{test_id}.py").write_text(_otter_test(test_id, setup, expr))
    shutil.copytree(MNIST, base / "mnist_data")
    env = _peer_env(venv)
    log = work / "otter.log"
    otter = str(venv / "bin" / "otter")
    _timed([otter, "generate", "-t", "tests", "--no-config", "--no-requirements", "--no-environment",
            "mnist_data"], base, env, log)
    zips = []
    for sub in _submissions(corpus):
        archive = base / "submissions" / f"{sub.name}.zip"
        archive.parent.mkdir(exist_ok=True)
        with zipfile.ZipFile(archive, "w") as zf:
            for file in sorted(sub.rglob("*")):
                if file.is_file():
                    zf.write(file, file.relative_to(sub))
        zips.append(archive)

    def one(archive: Path) -> None:
        out = base / f"results-{parallel}" / archive.stem
        out.mkdir(parents=True, exist_ok=True)
        _timed([otter, "run", "--no-logo", "-a", "autograder.zip", "-o", str(out), str(archive)], base, env, log)

    start = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(one, zips))
    elapsed = time.perf_counter() - start
    scores = {}
    for archive in zips:
        result = base / f"results-{parallel}" / archive.stem / "results.json"
        if result.is_file():
            data = json.loads(result.read_text())
            tests = data.get("tests", [])
            scores[archive.stem] = {"score": sum(t.get("score", 0) or 0 for t in tests),
                                    "max": sum(t.get("max_score", 0) or 0 for t in tests)}
    return elapsed, scores


def rubric_without_mnist_training(work: Path) -> Path:
    """hw4 without its MNIST training check (`mnist_training` params), the one check that has
    no counterpart in the peers' tests; reference/ is linked beside it so relative paths hold."""
    tree = work / "rubric-tree"
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(ROOT / "rubrics" / "hw4", tree / "rubrics" / "hw4")
    (tree / "reference").symlink_to(ROOT / "reference")
    toml = tree / "rubrics" / "hw4" / "rubric.toml"
    toml.write_text(re.sub(r", mnist_training = \{[^}]*\}", "", toml.read_text()))
    return toml


def run_grader(grader: str, corpus: Path, work: Path, workers: int,
               rubric: Path | None = None) -> tuple[float, dict[str, dict[str, float]]]:
    out = work / f"grader-w{workers}{'-' + rubric.parent.name if rubric else ''}"
    shutil.rmtree(out, ignore_errors=True)
    secret = work / "secret"
    secret.write_bytes(b"peer-benchmark-secret-0123456789")
    log = work / "grader.log"
    extra = ["--rubric", str(rubric)] if rubric else []
    cache = work / "grader-cache"
    shutil.rmtree(cache / "plots", ignore_errors=True)  # every run draws its pages
    env = {**os.environ, "GRADER_CACHE_DIR": str(cache)}
    elapsed = _timed([grader, "grade", str(corpus), "--out", str(out), "--force", "--no-cache", "--workers",
                      str(workers), "--secret-file", str(secret), *extra], work, env, log)
    scores = {}
    for path in out.glob("*/result.json"):
        result = json.loads(path.read_text())
        scores[result["submission"]] = {"score": result["score"], "max": result["max_score"]}
    return elapsed, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=8, help="notebook submissions (default 8)")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="virtualenv for nbgrader and otter-grader")
    parser.add_argument("--grader", default=str(Path(sys.executable).with_name("grader")))
    parser.add_argument("--workdir", type=Path, help="keep everything here (default: a temp folder, removed)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--only", help="comma-separated tool prefixes to run, e.g. 'grader,nbgrader'")
    args = parser.parse_args()
    if not args.only or any(p in args.only for p in ("nbgrader", "otter")):
        ensure_venv(args.venv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="grader-peers-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus"
    make_corpus(corpus, args.count, args.count)
    n = len(_submissions(corpus))
    load = os.getloadavg()
    pip = args.venv / "bin" / "pip"
    versions = subprocess.run([str(pip), "list", "--format=json"], capture_output=True,
                              text=True).stdout if pip.exists() else "[]"
    peers = {p["name"]: p["version"] for p in json.loads(versions) if p["name"] in ("nbgrader", "otter-grader")}
    print(f"{n} notebook submissions; {os.cpu_count()} cores, load average {load[0]:.2f} at start; {peers}",
          flush=True)

    tools = [
        ("grader grade --workers 1", lambda: run_grader(args.grader, corpus, work, 1)),
        ("grader grade --workers 2", lambda: run_grader(args.grader, corpus, work, 2)),
        ("grader grade --workers 1, no MNIST training check",
         lambda: run_grader(args.grader, corpus, work, 1, rubric_without_mnist_training(work))),
        ("nbgrader autograde (sequential)", lambda: run_nbgrader(args.venv, corpus, work)),
        ("otter run, one after another", lambda: run_otter(args.venv, corpus, work, 1)),
        ("otter run, two at a time", lambda: run_otter(args.venv, corpus, work, 2)),
    ]
    if args.only:
        wanted = [w.strip() for w in args.only.split(",")]
        tools = [(label, run) for label, run in tools if any(label.startswith(w) for w in wanted)]
    # MNIST's prepared arrays, built once into the benchmark's cache
    subprocess.run([sys.executable, "-c", "import sys; from grader.judgement import rubric, prepared; "
                    "prepared.prepared_data(rubric.load('hw4'))"], check=True,
                   env={**os.environ, "GRADER_CACHE_DIR": str(work / "grader-cache")}, cwd=work)
    rows = []
    for round_no in range(args.rounds):
        order = tools if round_no % 2 == 0 else tools[::-1]
        for label, runner in order:
            elapsed, scores = runner()
            rows.append({"round": round_no, "tool": label, "wall_s": round(elapsed, 1),
                         "per_submission_s": round(elapsed / n, 2), "graded": len(scores), "scores": scores})
            print(f"  round {round_no + 1}: {label}: {elapsed:.1f} s, {len(scores)} of {n} graded", flush=True)

    def wall(label: str, round_no: int) -> float | None:
        found = [r["wall_s"] for r in rows if r["tool"] == label and r["round"] == round_no]
        return found[0] if found else None

    print(f"\n| tool ({n} light lab notebooks, median of {args.rounds} round(s)) | wall s | s per submission | "
          f"graded |\n|---|---|---|---|")
    for label, _ in tools:
        walls = [r["wall_s"] for r in rows if r["tool"] == label]
        graded = min(r["graded"] for r in rows if r["tool"] == label)
        print(f"| {label} | {median(walls):.1f} | {median(walls) / n:.2f} | {graded}/{n} |")
    base = "nbgrader autograde (sequential)"
    for label, _ in tools:
        ratios = [wall(label, r) / wall(base, r) for r in range(args.rounds)
                  if label != base and wall(label, r) and wall(base, r)]
        if ratios:
            print(f"ratio {label} / nbgrader, within a round: median {median(ratios):.2f} "
                  f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)})")
    if args.json:
        args.json.write_text(json.dumps({"load_average": load, "peers": peers, "runs": rows}, indent=2))
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
