"""Judged tasks kept with the recordings: a regrade re-judges only the tasks whose judging changed.

Recordings (recordings.py) spare a regrade the student's code; judging every check again from
them was then most of what a regrade cost (the reference's computations for the hidden cases, a
tuned model evaluated on 15,000 images). A task's verdict is a deterministic function of:

- everything the recordings are keyed on (the submission's files, the data, the reference, the
  grader's execution layer), with the whole probes module rather than one probe's code;
- the checks module, and the grader's judgement layer and result types (their source);
- the task's own entry in rubric.toml (params, points, limits, needs...) and every part of the
  rubric outside `[[tasks]]` (files, notebook, module, data, sections);
- the secret and the submission's id (they draw the hidden inputs), and the grading mode.

So a verdict is stored under the hash of those, and reused when they are unchanged: after a
tolerance change in T5, T5 is judged again and the other tasks are read back. Any edit to the
checks module or the probes module judges every task again. A checks function may read its own
`ctx.params` and anything of the rubric outside `[[tasks]]`; one that read another task's entry
would be reused across an edit of that entry (docs/recordings.md says so).

Only verdicts that do not depend on the machine are stored: none is stored once a probe call of
the submission timed out or crashed (those are never recorded, and run again), for a task that
reads a notebook run that timed out or died, for a task that needs a script or the notebook's own
probes (those runs are not replayed per task), or for a grader failure or a timeout.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from grader import __version__
from grader.judgement.context import GradingMode
from grader.judgement.probe_cache import ProbeCache
from grader.judgement.recordings import Recordings, SubmissionKeys, file_digest, notebook_recordable
from grader.judgement.rubric import Rubric, TaskSpec
from grader.judgement.submission_run import SubmissionRun
from grader.results import Cause, Status, TaskResult

_JUDGEMENT_SOURCES = (Path(__file__).resolve().parent, Path(__file__).resolve().parents[1] / "results.py",
                      Path(__file__).resolve().parents[1] / "api.py")
_judgement_digest: str | None = None


def judgement_digest() -> str:
    """The grader's version and the source of its judgement layer and result types."""
    global _judgement_digest
    if _judgement_digest is None:
        h = hashlib.sha256(__version__.encode())
        for source in _JUDGEMENT_SOURCES:
            for path in sorted(source.rglob("*.py")) if source.is_dir() else [source]:
                h.update(str(path.relative_to(source.parent)).encode() + b"\0" + path.read_bytes())
        _judgement_digest = h.hexdigest()
    return _judgement_digest


def rubric_digest(rubric: Rubric) -> str | None:
    """Everything of the rubric but its tasks; None when a part has no stable description."""
    described = repr([(name, getattr(rubric, name)) for name in sorted(vars(rubric))
                      if name not in ("tasks", "fingerprint", "_checks", "_reference")])
    if " at 0x" in described:  # an object without a value repr: no stable key, never reused
        return None
    h = hashlib.sha256(described.encode())
    h.update(file_digest(rubric.checks_path).encode() + file_digest(rubric.probes).encode())
    return h.hexdigest()


class JudgedTasks:
    """One submission's stored verdicts: `load` before judging a task, `save` after."""

    def __init__(self, store: Recordings, keys: SubmissionKeys, rubric: Rubric, secret: bytes, sub_id: str,
                 mode: GradingMode) -> None:
        self.store = store
        self.rubric = rubric
        described = rubric_digest(rubric)
        self._base = None if described is None else hashlib.sha256(
            "\0".join([keys.base, judgement_digest(), described, hashlib.sha256(secret).hexdigest(), sub_id,
                       repr(mode)]).encode()).hexdigest()

    def key(self, task: TaskSpec) -> str | None:
        if self._base is None or task.grader != "checks" or self._needs_unreplayed_run(task):
            return None
        return hashlib.sha256(f"task\0{self._base}\0{task!r}".encode()).hexdigest()

    def _needs_unreplayed_run(self, task: TaskSpec) -> bool:
        if any(need in self.rubric.scripts for need in task.needs):
            return True
        notebook = self.rubric.notebook
        return "notebook" in task.needs and notebook is not None and notebook.probes is not None

    def load(self, task: TaskSpec) -> TaskResult | None:
        key = self.key(task)
        return None if key is None else self.store.task_result(key)

    def save(self, task: TaskSpec, result: TaskResult, runner: ProbeCache | None, run: SubmissionRun) -> None:
        """Keep `result` unless something it rests on may come out differently next time. A task that
        needs the notebook is kept only once the notebook's run has ended (never waited for here)."""
        key = self.key(task)
        if key is None or result.status is Status.TIMEOUT or result.cause is Cause.GRADER:
            return
        if runner is not None and runner.unreplayable:
            return
        if "notebook" in task.needs:
            if not run.notebook_done():
                return
            notebook = run.notebook()
            if notebook is not None and not notebook_recordable(notebook):
                return
        self.store.save_task_result(key, result)
