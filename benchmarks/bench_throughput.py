"""Throughput of `grader grade` with 1 and 2 workers (and a local Dask cluster), and the grader
process's peak memory as the corpus grows.

Run: python benchmarks/bench_throughput.py [--count 120] [--sizes 25,50,100,200] [--json out.json]
     python benchmarks/bench_throughput.py --quick          # a small smoke run (a few minutes)

Each measurement runs the CLI as a subprocess on a corpus from make_corpus.py, exactly as a TA
would: `grader grade CORPUS --out TMP --force --workers N --secret-file FIXED`. Wall time covers
everything (start-up, every submission, index.html and grades.csv). While it runs, /proc is
sampled every 0.5 s: the CLI process's VmHWM (its peak resident memory, what "the grader's own
memory" means here), the peak summed RSS of the grader's own processes (the CLI plus any worker
processes it starts, i.e. the process tree minus bubblewrap and everything inside a sandbox's pid
namespace), and the peak RSS of the whole tree, student processes included, for context.
At sandbox level `process` student processes share the grader's pid namespace and count as the
grader's own. `--dask local` is measured only when `grader grade --help` offers `--dask`.
Prints Markdown tables for docs/benchmarks.md. Figures are only meaningful on an otherwise idle machine:
the load average at the start is printed with them.

A virtual machine's host can take CPU away (steal time), and here it does so in bursts: two
copies of one numpy loop ran anywhere from 1.71x to 2.00x faster than one, from one round to the
next (docs/benchmarks.md). So `--rounds N` grades the corpus
N times with every worker count, alternating their order from round to round, records each run's
steal share from /proc/stat, and computes the speed-up within a round (runs minutes apart, on
the same host weather) before taking the median over the rounds. Each round also measures what
the machine itself allows: a numpy loop shaped like the MNIST training check (the bulk of the
corpus's CPU time), timed alone and as N copies at once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_corpus import make_corpus  # noqa: E402

from grader.execution.sandbox import SINGLE_THREAD_BLAS  # noqa: E402

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Run:
    label: str
    workers: int
    submissions: int
    wall_s: float
    per_minute: float
    grader_hwm_mb: float  # VmHWM of the CLI process
    grader_side_peak_mb: float  # peak summed RSS of the grader's own processes
    tree_peak_mb: float  # peak summed RSS of everything it started, student processes included
    graded: int  # result.json files written
    grader_failures: int  # submissions whose grading_status reports a grader error
    exit_code: int
    steal_pct: float = 0.0  # share of the machine's CPU time the hypervisor took during the run
    busy_pct: float = 0.0  # share of the machine's CPU time spent running anything (user + system)
    round_no: int = 1
    cpu_s: float = 0.0  # CPU seconds the whole machine spent busy during the run


# forward and backward matmuls of the two-layer net on one minibatch, as train() does 2000 times
CALIBRATION_LOOP = """
import time, numpy as np
rng = np.random.default_rng(0)
X, W1, W2 = rng.standard_normal((200, 784)), rng.standard_normal((784, 50)), rng.standard_normal((50, 10))
start = time.perf_counter()
for _ in range(3000):
    h = np.maximum(X @ W1, 0); d = h @ W2; dh = d @ W2.T; g1 = X.T @ dh; g2 = h.T @ d
print(time.perf_counter() - start)
"""


@dataclass
class Calibration:
    round_no: int
    copies: int
    alone_s: float  # one copy of the loop on an otherwise idle machine
    together_s: float  # wall time of `copies` copies started at once
    speedup: float  # copies * alone_s / together_s: the most any N-worker grader could gain here


def machine_scaling(copies: int, round_no: int) -> Calibration:
    """How much faster N copies of a CPU-bound numpy loop get done than one, right now."""
    env = {**os.environ, **SINGLE_THREAD_BLAS}

    def batch(n: int) -> float:
        start = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", CALIBRATION_LOOP], env=env, stdout=subprocess.DEVNULL)
                 for _ in range(n)]
        for proc in procs:
            proc.wait()
        return time.perf_counter() - start

    return calibration(round_no, copies, batch(1), batch(copies))


def calibration(round_no: int, copies: int, alone: float, together: float) -> Calibration:
    return Calibration(round_no, copies, round(alone, 2), round(together, 2), round(copies * alone / together, 2))


def cpu_times() -> list[int]:
    """The machine-wide CPU counters (user nice system idle iowait irq softirq steal) from /proc/stat."""
    try:
        return [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return [0] * 8


def shares(before: list[int], after: list[int]) -> tuple[float, float]:
    """(steal %, busy %) of the CPU time that passed between two `cpu_times()` readings."""
    delta = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(delta)
    if total <= 0:
        return 0.0, 0.0
    return round(100 * delta[7] / total, 1), round(100 * busy_ticks(before, after) / total, 1)


def busy_ticks(before: list[int], after: list[int]) -> int:
    """Clock ticks spent running anything (user, nice, system, irq, softirq) between two readings."""
    return sum(after[i] - before[i] for i in (0, 1, 2, 5, 6))


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _tree(root: int) -> list[int]:
    """`root` and its descendants, from one pass over /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _rss_kb(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
    except (OSError, ValueError, IndexError):
        return 0


def _grader_side(pid: int, grader_ns: str) -> bool:
    """The grader's own processes: same pid namespace as the CLI, and not bubblewrap itself."""
    try:
        return (os.readlink(f"/proc/{pid}/ns/pid") == grader_ns
                and Path(f"/proc/{pid}/comm").read_text().strip() != "bwrap")
    except OSError:
        return False


class Sampler(threading.Thread):
    # every sample reads /proc for each process on the machine; at 0.2 s that cost 2.7% of a core,
    # which a 1-worker run gets free on the idle core and a 2-worker run pays out of its own time
    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.hwm_kb = self.grader_kb = self.tree_kb = 0
        self.done = threading.Event()
        self.ns = os.readlink(f"/proc/{pid}/ns/pid")

    def run(self) -> None:
        while not self.done.is_set():
            self.hwm_kb = max(self.hwm_kb, _status_kb(self.pid, "VmHWM"))
            pids = _tree(self.pid)
            rss = {p: _rss_kb(p) for p in pids}
            self.tree_kb = max(self.tree_kb, sum(rss.values()))
            self.grader_kb = max(self.grader_kb, sum(v for p, v in rss.items() if _grader_side(p, self.ns)))
            self.done.wait(self.interval)


def grade(grader: str, corpus: Path, out: Path, secret: Path, label: str, workers: int,
          extra: list[str], round_no: int = 1) -> Run:
    shutil.rmtree(out, ignore_errors=True)
    argv = [grader, "grade", str(corpus), "--out", str(out), "--force", "--secret-file", str(secret),
            "--workers", str(workers), *extra]
    count = sum(1 for p in corpus.iterdir() if p.is_dir() or p.suffix == ".zip")
    log = out.with_suffix(".log")
    counters = cpu_times()
    start = time.perf_counter()
    with log.open("wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        sampler = Sampler(proc.pid)
        sampler.start()
        code = proc.wait()
    wall = time.perf_counter() - start
    finished = cpu_times()
    steal, busy = shares(counters, finished)
    cpu_s = busy_ticks(counters, finished) / os.sysconf("SC_CLK_TCK")
    sampler.done.set()
    sampler.join()
    results = [json.loads(p.read_text()) for p in out.glob("*/result.json")]
    failures = sum(1 for r in results if str(r.get("grading_status", "")).startswith("grader-error"))
    if code != 0 or len(results) != count:
        tail = log.read_text(errors="replace")[-2000:]
        print(f"WARNING: {label}: exit {code}, {len(results)} of {count} results\n{tail}", file=sys.stderr)
    mb = 1 / 1024
    return Run(label, workers, count, round(wall, 1), round(count / wall * 60, 1), round(sampler.hwm_kb * mb, 1),
               round(sampler.grader_kb * mb, 1), round(sampler.tree_kb * mb, 1), len(results), failures, code,
               steal, busy, round_no, round(cpu_s, 1))


def one_worker_walls(runs: list[Run]) -> dict[int, float]:
    """The baseline of each round: its 1-worker run's wall time, by round number."""
    return {r.round_no: r.wall_s for r in runs if r.label == "--workers N" and r.workers == 1}


def speedups(runs: list[Run]) -> dict[int, list[float]]:
    """Per worker count, its speed-up over the 1-worker run of the same round, round by round."""
    base = one_worker_walls(runs)
    found: dict[int, list[float]] = {}
    for r in runs:
        if r.label == "--workers N" and r.round_no in base:
            found.setdefault(r.workers, []).append(round(base[r.round_no] / r.wall_s, 2))
    return found


def throughput_table(runs: list[Run]) -> str:
    """One row per run; a run's speed-up is against the 1-worker run of its own round (for a run
    outside the rounds, such as Dask, against the median 1-worker wall time)."""
    base = one_worker_walls(runs)
    singles = list(base.values())
    lines = ["| round | run | workers | submissions | wall s | submissions/min | speed-up vs 1 worker | "
             "machine CPU s (busy) | CPU steal % | grader peak MB |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        reference = base.get(r.round_no) if r.label == "--workers N" else (median(singles) if singles else None)
        speedup = f"{reference / r.wall_s:.2f}×" if reference else "—"
        lines.append(f"| {r.round_no} | `{r.label}` | {r.workers} | {r.submissions} | {r.wall_s} | {r.per_minute} | "
                     f"{speedup} | {r.cpu_s} | {r.steal_pct} | {r.grader_hwm_mb} |")
    for workers, ratios in sorted(speedups(runs).items()):
        if workers != 1:
            lines.append(f"\n{workers} workers: speed-up per round {', '.join(f'{x:.2f}×' for x in ratios)}; "
                         f"median **{median(ratios):.2f}×**")
    return "\n".join(lines)


def memory_table(runs: list[Run]) -> str:
    lines = ["| submissions | grader process peak (VmHWM) MB | grader's processes peak MB | "
             "whole tree peak MB (incl. student code) | wall s |", "|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r.submissions} | {r.grader_hwm_mb} | {r.grader_side_peak_mb} | {r.tree_peak_mb} | "
                     f"{r.wall_s} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="an existing corpus for the throughput runs (else one is built)")
    parser.add_argument("--count", type=int, default=120, help="submissions in the built corpus (default 120)")
    parser.add_argument("--notebooks", type=int, default=None, help="of which carry the light notebook (1 in 10)")
    parser.add_argument("--sizes", default="25,50,100,200", help="corpus sizes for the memory series")
    parser.add_argument("--workers", default="1,2", help="worker counts for the throughput runs")
    parser.add_argument("--rounds", type=int, default=1,
                        help="grade the corpus this many times per worker count, interleaved (default 1)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 8 submissions, sizes 4,8")
    parser.add_argument("--grader", default=str(Path(sys.executable).with_name("grader")),
                        help="the grader executable (default: the one beside this Python)")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--workdir", type=Path, help="where corpora and outputs go (default: a temp folder)")
    args = parser.parse_args()
    if args.quick:
        args.count, args.sizes, args.notebooks = 8, "4,8", 1
    sizes = [int(s) for s in args.sizes.split(",") if s]
    worker_counts = [int(w) for w in args.workers.split(",") if w]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="grader-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    secret = work / "secret"
    secret.write_bytes(hashlib.sha256(b"grader throughput benchmark").digest())
    secret.chmod(0o600)

    help_text = subprocess.run([args.grader, "grade", "--help"], capture_output=True, text=True).stdout
    doctor = subprocess.run([args.grader, "doctor"], capture_output=True, text=True).stdout
    level = next((line.split(":", 1)[1].split("—")[0].strip() for line in doctor.splitlines()
                  if line.startswith("sandbox level")), "unknown")
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start; "
          f"Python {platform.python_version()}; sandbox level {level}", flush=True)

    corpus = args.corpus
    if corpus is None:
        corpus = work / f"corpus-{args.count}"
        notebooks = args.count // 10 if args.notebooks is None else args.notebooks
        make_corpus(corpus, args.count, max(notebooks, 0))
    runs: list[Run] = []
    calibrations: list[Calibration] = []
    for round_no in range(1, args.rounds + 1):
        # alternate the order, so a host that slows down (or speeds up) over the session favours no one
        order = worker_counts if round_no % 2 else worker_counts[::-1]
        for workers in order:
            runs.append(grade(args.grader, corpus, work / f"out-w{workers}", secret, "--workers N", workers, [],
                              round_no))
            print(f"  {runs[-1]}", flush=True)
        if max(worker_counts) > 1:
            calibrations.append(machine_scaling(max(worker_counts), round_no))
            print(f"  {calibrations[-1]}", flush=True)
    if "--dask" in help_text:
        dask_workers = max(worker_counts)
        runs.append(grade(args.grader, corpus, work / "out-dask", secret, "--dask local", dask_workers,
                          ["--dask", "local"], args.rounds))
        print(f"  {runs[-1]}", flush=True)
    else:
        print("  (grader grade has no --dask option here: Dask not measured)", flush=True)

    memory = []
    for size in sizes:
        sized = work / f"corpus-mem-{size}"
        make_corpus(sized, size, size // 10)
        memory.append(grade(args.grader, sized, work / f"out-mem-{size}", secret, "--workers N",
                            max(worker_counts), []))
        print(f"  {memory[-1]}", flush=True)

    print("\n### Throughput\n")
    print(throughput_table(runs))
    if calibrations:
        print("\nThe machine itself, each round (a numpy loop like the training check, 1 copy vs "
              f"{calibrations[0].copies} at once): "
              + ", ".join(f"{c.speedup:.2f}× ({c.alone_s} s alone, {c.together_s} s together)" for c in calibrations))
    print(f"\n### Memory as the corpus grows ({max(worker_counts)} workers)\n")
    print(memory_table(memory))
    if args.json:
        args.json.write_text(json.dumps({"load_average": load, "cores": os.cpu_count(), "sandbox": level,
                                         "throughput": [asdict(r) for r in runs],
                                         "speedups": speedups(runs),
                                         "machine_scaling": [asdict(c) for c in calibrations],
                                         "memory": [asdict(r) for r in memory]}, indent=2))
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
