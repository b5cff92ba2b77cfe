"""Where the time goes when `grader` grades one HW4 notebook submission.

Run: python benchmarks/profile_notebook.py [--submission DIR] [--no-mnist]

Default submission: the light lab notebook of make_corpus.py with correct code (what bench_peers.py
compares with nbgrader). The submission is graded once in this process (student code still runs in
the sandbox), with timers wrapped around the grader's own functions:

- the notebook thread: reading it, kernel start (the sandboxed kernel until it answers), each cell
  (from nbclient's timing record), and the kernel's shutdown;
- the student process for the module checks (the sandbox's fork server start, each probe call);
- each task's checks (T5–T11 beside the notebook; T12's evaluation, its wait for the notebook apart);
- the pages (report.html and the other files of one submission).

Prints a table in seconds, wall clock. The notebook runs on its own thread while the module checks
use the other core, so the rows overlap; "submission graded" is the whole.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_corpus import make_corpus  # noqa: E402

from grader.execution import notebook as notebook_mod  # noqa: E402
from grader.execution import session as session_mod  # noqa: E402
from grader.judgement import submission as submission_mod  # noqa: E402
from grader.judgement import submission_run as run_mod  # noqa: E402
from grader.judgement.rubric import load  # noqa: E402
from grader.presentation.outputs import render_files  # noqa: E402

TIMES: dict[str, list[float]] = defaultdict(list)
_lock = threading.Lock()


@contextmanager
def timer(label: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        with _lock:
            TIMES[label].append(time.perf_counter() - start)


def wrap(owner, name: str, label: str | None = None, key=None) -> None:
    original = getattr(owner, name)

    if inspect.iscoroutinefunction(original):
        async def timed(*args, **kwargs):
            with timer(key(*args, **kwargs) if key else label):
                return await original(*args, **kwargs)
    else:
        def timed(*args, **kwargs):
            with timer(key(*args, **kwargs) if key else label):
                return original(*args, **kwargs)

    setattr(owner, name, timed)


def _cell_seconds(cell) -> float | None:
    timing = cell.get("metadata", {}).get("execution", {})
    try:
        start = datetime.fromisoformat(timing["iopub.status.busy"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return (end - start).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submission", type=Path, help="a submission folder (default: a light notebook, correct)")
    parser.add_argument("--no-mnist", action="store_true", help="leave out the MNIST training check")
    args = parser.parse_args()

    rubric = load("hw4")
    if args.no_mnist:
        rubric = rubric.without_param("mnist_training")
    rubric.load_judges()
    from grader.judgement.prepared import prepared_data

    prepared_data(rubric)  # built once per machine; not part of a submission's time

    # kernel start: from launching the sandboxed kernel until its client answers
    import nbclient

    wrap(nbclient.NotebookClient, "async_start_new_kernel", "notebook: kernel launched (sandbox + interpreter)")
    wrap(nbclient.NotebookClient, "async_start_new_kernel_client", "notebook: kernel ready (client connected)")
    wrap(notebook_mod, "_kill_kernel", "notebook: kernel shut down")
    wrap(notebook_mod, "read_notebook", "notebook: read and validated")
    runs = []
    real_run = run_mod.run_notebook

    def run_notebook(*a, **k):
        with timer("notebook: whole run (thread)"):
            runs.append(real_run(*a, **k))
            return runs[-1]

    run_mod.run_notebook = run_notebook
    wrap(session_mod.ModuleSession, "_start", "module: student process started (sandbox + fork server)")
    wrap(session_mod.ModuleSession, "_request", key=lambda self, request, *a, **k:
         f"module: probe calls ({request.get('probe', 'batch')})")
    wrap(run_mod.SubmissionRun, "notebook", "tasks: waiting for the notebook")
    wrap(submission_mod, "_grade_task", key=lambda task, *a, **k: f"task {task.id}")

    with tempfile.TemporaryDirectory() as tmp:
        sub = args.submission
        if sub is None:
            make_corpus(Path(tmp) / "corpus", 1, 1)
            sub = next((Path(tmp) / "corpus").iterdir())
        with timer("submission graded (all of the above)"):
            result = submission_mod.grade_submission(sub, rubric, b"profile-secret-0123456789abcdef")
        with timer("pages: report.html and the submission's files"):
            render_files(result, gradescope=True)

    print(f"| one notebook submission ({sub.name}), {'no MNIST check' if args.no_mnist else 'default checks'} "
          "| calls | seconds |")
    print("|---|---|---|")
    for label in sorted(TIMES, key=lambda k: (not k.startswith("submission"), k)):
        values = TIMES[label]
        print(f"| {label} | {len(values)} | {sum(values):.2f} |")
    print(f"\nscore {result.score}/{result.max_score}")
    if runs and runs[0].executed is not None:
        cells = [(i + 1, _cell_seconds(c), "".join(c.source).strip().splitlines()[:1])
                 for i, c in enumerate(runs[0].executed.cells) if c.cell_type == "code"]
        timed = [c for c in cells if c[1] is not None]
        print(f"notebook {runs[0].status}: {len(timed)} code cells ran, {sum(c[1] for c in timed):.2f} s in cells; "
              "slowest:")
        for number, seconds, first in sorted(timed, key=lambda c: -c[1])[:6]:
            print(f"  cell {number}: {seconds:.2f} s  {first[0][:70] if first else ''}")


if __name__ == "__main__":
    main()
