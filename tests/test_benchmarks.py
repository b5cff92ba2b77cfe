"""The benchmark tools measure what they say: the corpus is deterministic, varied and light, and
the memory sampler reads a process's real peak."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))  # bench_throughput imports make_corpus as a sibling
    try:
        spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, Path, list[tuple[str, str]]]:
    make_corpus = _load("make_corpus")
    out = tmp_path_factory.mktemp("corpus") / "c"
    return make_corpus, out, make_corpus.make_corpus(out, 40, 4)


def _digest(path: Path) -> str:
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return hashlib.sha256(b"".join(str(p.relative_to(path)).encode() + p.read_bytes() for p in files)).hexdigest()


def test_corpus_mixes_every_kind_and_no_two_copies_hash_alike(corpus, tmp_path: Path) -> None:
    make_corpus, out, made = corpus
    kinds = {kind for _, kind in made}
    assert len(made) == 40
    assert set(make_corpus.MISTAKES) <= kinds and make_corpus.MISTAKES  # every typical mistake
    assert {"correct", "syntax-error", "missing-module", "zipped"} <= kinds
    assert sum(kind.startswith("notebook-") for kind in kinds) >= 2
    entries = sorted(out.iterdir())
    assert len(entries) == 40 and len({_digest(e) for e in entries}) == 40
    # deterministic: the same arguments give byte-identical submissions
    again = tmp_path / "again"
    make_corpus.make_corpus(again, 40, 4)
    assert [_digest(e) for e in sorted(again.iterdir())] == [_digest(e) for e in entries]


def test_corpus_notebooks_are_light_and_keep_the_published_checks(corpus) -> None:
    make_corpus, out, made = corpus
    notebooks = [out / name / make_corpus.NOTEBOOK for name, kind in made if kind.startswith("notebook-")]
    assert len(notebooks) == 4
    cells = json.loads(notebooks[0].read_text())["cells"]
    source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "num_iters=2000" not in source and "T12: Tune" not in source  # the long runs are gone
    assert "correct_loss = 1.30378789133" in source and "best_net = TwoLayerNet" in source
    compile(source.replace("%matplotlib inline", "").replace("%load_ext autoreload", "")
            .replace("%autoreload 2", ""), "notebook", "exec")
    broken = next(out.glob("*-syntax-error")) / "cattern" / "neural_net.py"
    with pytest.raises(SyntaxError):
        compile(broken.read_text(), str(broken), "exec")


def test_sampler_reads_the_peak_memory_of_the_process_it_watches() -> None:
    bench = _load("bench_throughput")
    code = ("import sys, time; x = bytearray(300 * 2**20); x[::4096] = b'1' * len(x[::4096]); del x; "
            "print('freed', flush=True); time.sleep(1)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "freed"
    sampler = bench.Sampler(proc.pid, interval=0.05)  # started only after the memory was freed
    sampler.start()
    time.sleep(0.5)
    sampler.done.set()
    sampler.join()
    proc.wait()
    assert 300 * 1024 <= sampler.hwm_kb < 600 * 1024
    assert sampler.grader_kb > 0 and sampler.tree_kb >= sampler.grader_kb


def test_cpu_shares_split_steal_from_busy_time() -> None:
    bench = _load("bench_throughput")
    #            user nice system idle iowait irq softirq steal
    before = [100, 0, 50, 800, 0, 0, 0, 50]
    after = [160, 0, 70, 880, 0, 0, 0, 90]  # 200 ticks: 80 busy, 80 idle, 40 stolen
    assert bench.shares(before, after) == (20.0, 40.0)
    assert bench.shares(after, after) == (0.0, 0.0)  # no time passed: no division by zero
    assert bench.busy_ticks(before, after) == 80
    counters = bench.cpu_times()
    assert len(counters) == 8 and sum(counters) > 0  # the real /proc/stat is read


def test_speedups_compare_each_run_with_the_one_worker_run_of_its_own_round() -> None:
    bench = _load("bench_throughput")

    def run(workers: int, wall: float, round_no: int, label: str = "--workers N"):
        return bench.Run(label, workers, 100, wall, 0.0, 0, 0, 0, 100, 0, 0, 0.0, 0.0, round_no)

    # the host is slow in round 2: comparing across rounds (400 / 150) would report 2.67×
    runs = [run(1, 400.0, 1), run(2, 250.0, 1), run(2, 300.0, 2), run(1, 540.0, 2), run(1, 420.0, 3),
            run(2, 220.0, 3), run(2, 150.0, 3, "--dask local")]
    assert bench.speedups(runs) == {1: [1.0, 1.0, 1.0], 2: [1.6, 1.8, 1.91]}
    table = bench.throughput_table(runs)
    assert "median **1.80×**" in table
    assert "| 3 | `--dask local` | 2 | 100 | 150.0 | 0.0 | 2.80× |" in table  # median 1-worker wall 420 / 150


def test_machine_scaling_times_one_copy_then_n_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    bench = _load("bench_throughput")
    compile(bench.CALIBRATION_LOOP, "calibration", "exec")  # the real loop is valid Python
    monkeypatch.setattr(bench, "CALIBRATION_LOOP", "import os; print(os.getpid())")  # a trivial stand-in
    c = bench.machine_scaling(3, round_no=2)
    assert (c.round_no, c.copies) == (2, 3) and c.alone_s > 0 and c.together_s > 0 and c.speedup > 0
    # the arithmetic, on exact times: 2 copies in 5 s where one takes 4 s is 1.6x, not 2x
    assert bench.calibration(1, 2, 4.0, 5.0) == bench.Calibration(1, 2, 4.0, 5.0, 1.6)
    assert bench.calibration(1, 2, 4.0, 4.0).speedup == 2.0
