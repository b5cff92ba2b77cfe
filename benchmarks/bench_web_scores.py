"""The web app's time per manual score on a 300-submission HW4 gradebook (`grader serve`).

Run: python benchmarks/bench_web_scores.py [--from reports] [--n 300] [--waited 30]

The gradebook is built from real results: those of a graded output folder (`--from`, default
`reports/` when it holds a gradebook, else `submissions/` is graded first, about four minutes),
copied round-robin under new ids until there are N submissions, with their files drawn as the
batch draws them. Then a server is started on 127.0.0.1 and scored over HTTP like a TA's browser
(token cookie, CSRF header, JSON) with one rubric item applied:

1. N scores back to back (each submission's T4 once): the round trip of each request, which
   commits the score (version-checked) before answering; that submission's result.json,
   report.html and gradescope.json are redrawn in the background with the class exports;
2. `--waited` scores that each also wait until the background redraw (the submission's files and
   the class exports: index.html, grades.csv, junit.xml) includes them: the round trip and the lag;
3. editing the item's points, which re-scores every submission that has it (all N): the answer
   comes after the commit; the N submissions' files are redrawn by the server's helper process.

Every figure is printed; the machine's load average is printed beside them (on a shared machine
they vary: compare within one run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.judgement import rubric as rubric_mod  # noqa: E402
from grader.pipeline import refresh_pages  # noqa: E402
from grader.presentation.outputs import render_files, write_files  # noqa: E402
from grader.results import SubmissionResult  # noqa: E402
from grader.store import GRADEBOOK_FILE, Gradebook  # noqa: E402
from grader.web.book import WebBook  # noqa: E402
from grader.web.pages import PlotCache  # noqa: E402
from grader.web.serve import running  # noqa: E402


def real_results(source: Path | None, work: Path) -> tuple[Path, list[SubmissionResult]]:
    if source is None:
        default = ROOT / "reports"
        if (default / GRADEBOOK_FILE).is_file():
            source = default
        else:
            source = work / "graded"
            print(f"grading {ROOT / 'submissions'} into {source} first (a few minutes)", flush=True)
            subprocess.run([sys.executable, "-m", "grader.cli", "grade", str(ROOT / "submissions"),
                            "--out", str(source)], check=True, cwd=ROOT)
    with Gradebook(source / GRADEBOOK_FILE) as book:
        results = [book.latest_result(s, "hw4") for s in book.submissions("hw4")]
    return source, [r for r in results if r is not None]


def build(out: Path, source: Path, bases: list[SubmissionResult], n: int, rubric: rubric_mod.Rubric) -> float:
    """N submissions from the real results, files drawn as the batch draws them (plots reused by content)."""
    started = time.perf_counter()
    plots = PlotCache(source)
    with Gradebook(out / GRADEBOOK_FILE) as book:
        for i in range(n):
            base = bases[i % len(bases)]
            result = replace(base, submission=f"student-{i:03d}")
            book.record(result, f"/nowhere/student-{i:03d}")
            write_files(out / result.submission, render_files(result, gradescope=True, plot_png=plots.drawer(base)))
        refresh_pages(out, rubric, book)
    return time.perf_counter() - started


def summary(label: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(f"| {label} | {len(ms)} | {statistics.median(ms):.1f} | {p95:.1f} | {ms[-1]:.1f} | "
          f"{statistics.fmean(ms):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="source", type=Path, default=None, help="a graded output folder")
    parser.add_argument("--n", type=int, default=300, help="submissions in the gradebook")
    parser.add_argument("--waited", type=int, default=30, help="scores that wait for the class exports")
    args = parser.parse_args()
    rubric = rubric_mod.load("hw4")
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        work = Path(tmp)
        source, bases = real_results(args.source, work)
        out = work / "reports"
        print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores; above ~0.5 the figures are a busy "
              f"machine's)")
        seconds = build(out, source, bases, args.n, rubric)
        with_notebook = sum(1 for i in range(args.n) if (nb := bases[i % len(bases)].notebook) and nb.cells)
        print(f"built {args.n} submissions from {len(bases)} real results in {seconds:.1f} s "
              f"({with_notebook} carry an executed notebook)")
        with Gradebook(out / GRADEBOOK_FILE) as book:
            item = WebBook(book, rubric).add_item("T4", "the j ≠ i term is missing", -0.5, "bench")
        ids = [f"student-{i:03d}" for i in range(args.n)]
        with running(out, rubric, by="bench") as served, httpx.Client(base_url=served.base) as client:
            client.get(served.url.replace(served.base, ""))  # the token cookie, as a browser gets it
            csrf = {"X-CSRF-Token": served.app.keys.csrf}
            client.get(f"/grade/T4/{ids[0]}")  # warm: templates compiled, connections open

            def score(sub: str, items: list[int], base: int) -> tuple[float, int]:
                started = time.perf_counter()
                response = client.post(f"/api/grade/T4/{sub}", headers=csrf,
                                       json={"items": items, "adjustment": 0, "note": "", "base_version": base})
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.text
                return elapsed, response.json()["grade"]["version"]

            back_to_back, versions = [], {}
            cpu_before = time.process_time()
            for sub in ids:
                elapsed, versions[sub] = score(sub, [item.id], 0)
                back_to_back.append(elapsed)
            cpu_per_score = (time.process_time() - cpu_before) / len(ids)
            served.app.exporter.wait()
            rebuilds = served.app.exporter.rebuilds

            waited, lag = [], []
            for sub in ids[: args.waited]:
                elapsed, versions[sub] = score(sub, [item.id], versions[sub])
                started = time.perf_counter()
                served.app.exporter.wait()
                lag.append(time.perf_counter() - started)
                waited.append(elapsed)

            started = time.perf_counter()
            edited = client.post(f"/api/items/T4/{item.id}", headers=csrf, timeout=None,
                                 json={"description": item.description, "points": -0.25, "version": 1})
            edit_seconds = time.perf_counter() - started
            assert edited.status_code == 200 and len(edited.json()["rescored"]) == args.n, edited.text
            served.app.exporter.wait()
            edit_files_seconds = time.perf_counter() - started
        with (out / "grades.csv").open() as fh:
            assert all(line.split(",")[7] == "0.75" for line in list(fh)[1:]), "exports missed a score"
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        print()
        print("| what (HTTP round trip unless said) | count | median ms | p95 ms | max ms | mean ms |")
        print("|---|---|---|---|---|---|")
        summary("score, back to back (committed; files redrawn after the answer)", back_to_back)
        summary("score, then waiting for the exports", waited)
        summary("export lag after a score (index.html, grades.csv, junit.xml)", lag)
        print(f"\nCPU time of this process (server and client; the helper not included) per back-to-back score: "
              f"{cpu_per_score * 1000:.1f} ms (less sensitive to a busy machine than the wall-clock times)")
        print(f"export rebuilds during the {args.n} back-to-back scores: {rebuilds} "
              f"(a burst coalesces); last rebuild {served.app.exporter.last_seconds * 1000:.0f} ms")
        print(f"item edit re-scoring all {args.n} submissions: {edit_seconds * 1000:.0f} ms to answer (committed); "
              f"{edit_files_seconds:.1f} s until their files and the exports are redrawn (helper process)")


if __name__ == "__main__":
    main()
