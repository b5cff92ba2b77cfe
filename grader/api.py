"""The one module rubric authors import: everything a checks module (and, documented here, a
probes module) may use. Names not listed in `__all__` are the grader's own and may change.

A rubric is a folder: `rubric.toml` (data: tasks, points, tolerances), a checks module run by
the grader, and a probes module run next to the student's code. See docs/authoring.md.

Judge side (checks.py, runs in the grader):

- `TaskContext` — what a checks function `def name(ctx: TaskContext) -> Iterator[CheckResult]`
  gets: `ctx.call(probe, **inputs)`, `ctx.outcome(...)`, `ctx.prefetch(...)`,
  `ctx.long_outcome(probe, limits, ...)`, `ctx.rng(label)` (hidden inputs), `ctx.reference`
  (the reference solution), `ctx.params` (the task's `params` in rubric.toml), `ctx.hidden`,
  `ctx.full_run`, `ctx.notebook()`, `ctx.submitted_file(path)`, `ctx.data_dir(name)`,
  `ctx.add_plot(...)` and `ctx.after_submission(name)`.
- `TaskEnded(status, message)` — end the task early with a status (`Status.MISSING`...).
- A task's verdict is kept with the recordings and read back on a regrade while its own
  `[[tasks]]` entry, the rest of the rubric, the checks and probes modules and the submission are
  unchanged (docs/recordings.md): read your own `ctx.params`, not another task's entry.
- Results: `CheckResult`, `Visibility` (`PUBLIC`, `HIDDEN`), `Status`, `ProbeOutcome`, `Limits`.
- Comparators, which decide a check and explain it: `compare_arrays`, `verdict`, `rel_error`,
  `summarize`, `as_float_array`, `shape_problem`.
- Script mode (`[scripts]`, `ctx.script(name)`): `printed_numbers` and `claim_check` show what a
  script or notebook printed next to the grader's own figure, never counted; `read_npz` reads
  the arrays a script saved without unpickling, or says what is wrong with the file.

Probe side (probes.py, runs in the student process inside the sandbox): `Student`,
`ContractError`, `as_numbers`, `expect_tuple`, `notebook_function`, `notebook_value`. The
sandbox shows only `grader.execution` of the grader, so a probes module imports these from
`grader.execution.probe_api`, never from here (`grader rubric check` says so at load time).
"""

from __future__ import annotations

from grader.execution.probe_api import (
    ContractError,
    Student,
    as_numbers,
    expect_tuple,
    notebook_function,
    notebook_value,
)
from grader.execution.session import Limits, ProbeOutcome
from grader.judgement.claims import claim_check, printed_numbers
from grader.judgement.compare import as_float_array, compare_arrays, rel_error, shape_problem, summarize, verdict
from grader.judgement.context import TaskContext, TaskEnded
from grader.judgement.saved_arrays import read_npz
from grader.results import CheckResult, Status, Visibility

PUBLIC = Visibility.PUBLIC
HIDDEN = Visibility.HIDDEN

__all__ = [
    # judge side
    "TaskContext", "TaskEnded", "CheckResult", "Visibility", "PUBLIC", "HIDDEN", "Status", "ProbeOutcome",
    "Limits", "compare_arrays", "verdict", "rel_error", "summarize", "as_float_array", "shape_problem",
    # script mode: what a script printed, as claims; the arrays it saved, read without unpickling
    "printed_numbers", "claim_check", "read_npz",
    # probe side (import these from grader.execution.probe_api in a probes module)
    "Student", "ContractError", "as_numbers", "expect_tuple", "notebook_function", "notebook_value",
]
