"""`TaskContext`: what a rubric's checks function may use while it judges one task.

Probes in the student process, hidden inputs, the reference solution, the task's parameters,
the submitted files and the executed notebook. Rubric authors get it (and everything else they
need) from `grader.api`; this module is where it lives.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from grader.execution.notebook import NotebookRun
from grader.execution.sandbox import DATA_MOUNT
from grader.execution.scripts import ScriptRun
from grader.execution.session import Limits, ProbeOutcome
from grader.execution.workspace import Workspace
from grader.judgement.hidden import HiddenInputs
from grader.judgement.prepared import prepared_arrays, sandbox_data
from grader.judgement.probe_cache import ProbeCache
from grader.judgement.rubric import Rubric, TaskSpec
from grader.judgement.submission_run import SubmissionRun
from grader.results import AFTER_SUBMISSION, CheckResult, Plot, Status, Visibility


@dataclass(frozen=True)
class GradingMode:
    """What one grading run may do.

    TA grading runs everything. A student's own pre-check (`grader check`) runs the public checks
    only: hidden checks are not run at all, so nothing about their inputs or expected values can
    reach a student, and it is faster; without `notebook` it also leaves out the notebook, the
    tasks that need it and checks a rubric marks as slow (`ctx.full_run`).
    """

    name: str
    hidden: bool = True
    notebook: bool = True

    @property
    def is_student(self) -> bool:
        return not self.hidden


TA_MODE = GradingMode("ta")
STUDENT_QUICK = GradingMode("student", hidden=False, notebook=False)
STUDENT_FULL = GradingMode("student", hidden=False, notebook=True)


class TaskEnded(Exception):
    """Raised by a checks function to end its task with a given status (e.g. `missing`, `timeout`)."""

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ProbeFailure(Exception):
    """Raised into a checks function when the student's code did not return a value."""

    def __init__(self, probe: str, outcome: ProbeOutcome) -> None:
        super().__init__(f"{probe}: {outcome.status}")
        self.probe = probe
        self.outcome = outcome


class GraderFailure(Exception):
    """The grader (or the rubric) cannot judge this task: the task ends with `cause=grader`, never a 0."""


class ProbeData(dict):
    """A probe's arrays; a key the student process did not send ends the task as a wrong answer,
    never as a grader failure (the student controls what comes back)."""

    def __init__(self, probe: str, data: dict[str, np.ndarray]) -> None:
        super().__init__(data)
        self.probe = probe

    def __missing__(self, key: str) -> np.ndarray:
        raise ProbeFailure(self.probe, ProbeOutcome("error", error={
            "type": "WrongReturn", "message": f"the student process returned no {key!r} for {self.probe}",
            "traceback": [], "kind": "contract"}))


class TaskContext:
    """What a rubric's checks function may use: probes, hidden inputs, the reference, parameters,
    the submitted files and the executed notebook."""

    def __init__(self, task: TaskSpec, rubric: Rubric, runner: ProbeCache | None, hidden: HiddenInputs,
                 workspace: Workspace, run: SubmissionRun | None = None, mode: GradingMode = TA_MODE) -> None:
        self.task = task
        self.mode = mode
        self.rubric = rubric
        self.params = task.params
        self.workspace = workspace
        self._runner = runner
        self._hidden = hidden
        self._run = run
        self._deadline = time.monotonic() + task.limits.time_s
        self.outputs: list[str] = []
        self.plots: tuple[Plot, ...] = ()

    @property
    def hidden(self) -> bool:
        """Whether hidden checks run. When False (a student's pre-check) a checks function should not
        draw hidden inputs or call probes for them, and yield `ctx.after_submission(...)` instead."""
        return self.mode.hidden

    @property
    def full_run(self) -> bool:
        """Whether slow checks (a training run on real data) run; False in a quick student check."""
        return self.mode.notebook

    def after_submission(self, name: str, visibility: Visibility = Visibility.HIDDEN,
                         why: str = AFTER_SUBMISSION) -> CheckResult:
        """A check that was not run here, listed so the student knows it exists. Not counted."""
        return CheckResult(name, visibility, None, message=why)

    def add_plot(self, kind: str, title: str, data: dict[str, Any]) -> None:
        """Attach figure data to this task's result (the report draws it)."""
        self.plots = (*self.plots, Plot(kind, title, data))

    def notebook(self) -> NotebookRun | None:
        """The submitted notebook, executed in the sandbox (once per submission), or None.

        Waiting for it does not count against the task's time limit."""
        if self._run is None or not self.mode.notebook:
            return None
        waited = time.monotonic()
        run = self._run.notebook()
        self._deadline += time.monotonic() - waited
        return run

    def script(self, name: str) -> ScriptRun | None:
        """The run of the rubric's script `name` (`[scripts.<name>]`): its status, output, figures and the
        files it saved, run once per submission. None in a quick student check, which runs no scripts.

        Waiting for it does not count against the task's time limit."""
        if self._run is None or self._run.scripts is None:
            raise GraderFailure(f"task {self.task.id} asks for script {name!r}, but no scripts run here")
        waited = time.monotonic()
        run = self._run.scripts.script(name)
        self._deadline += time.monotonic() - waited
        return run

    def submitted_file(self, relpath: str) -> Path | None:
        """A file as the student handed it in (a private copy), or None."""
        return self.workspace.find(relpath)

    def data_dir(self, name: str) -> str:
        """Where probes find the rubric's data folder `name` inside the student process."""
        isolated = self._run is not None and self._run.sandbox.isolates
        return f"{DATA_MOUNT}/{name}" if isolated else str(sandbox_data(self.rubric)[name])

    def prepared(self, name: str) -> dict[str, np.ndarray]:
        """The read-only arrays of the rubric's `[prepared.<name>]`, decoded once into the grader's cache."""
        return prepared_arrays(self.rubric, name)

    def long_outcome(self, probe: str, limits: Limits, **inputs: Any) -> ProbeOutcome:
        """A probe with its own limits, outside the task's time budget (a training run on real data)."""
        return self._run_probe(probe, inputs, limits)

    def _probe_runner(self) -> ProbeCache | None:
        """Where this task's probes run: the student's module, or, when the rubric has notebook
        probes (`[notebook] probes`) and the task needs only the notebook, the executed notebook's
        globals. If the notebook cannot serve, the task ends with a status that says why. A task
        that needs the notebook in a rubric without notebook probes (HW4's T12 reads the model the
        notebook saved) keeps the module's probes."""
        notebook_probes = self.rubric.notebook is not None and self.rubric.notebook.probes is not None
        if not notebook_probes or "notebook" not in self.task.needs or "module" in self.task.needs:
            return self._runner
        if self._run is None:
            return None
        waited = time.monotonic()
        runner, problem = self._run.notebook_runner()
        self._deadline += time.monotonic() - waited
        if runner is None:
            assert problem is not None
            if problem.grader_failed:
                raise GraderFailure(problem.message)
            run = self._run.notebook()
            status = {"missing": Status.MISSING, "timeout": Status.TIMEOUT}.get(run.status if run else "",
                                                                                Status.ERROR)
            raise TaskEnded(status, problem.message)
        return runner

    def _no_probes(self) -> GraderFailure:
        return GraderFailure(f"task {self.task.id} calls probes but the rubric has no [module] or notebook probes")

    def _run_probe(self, probe: str, inputs: dict[str, Any], limits: Limits) -> ProbeOutcome:
        """Every probe call: keep its output for the report, and guard what came back (ProbeData)."""
        runner = self._probe_runner()
        if runner is None:
            raise self._no_probes()
        result = runner.run(probe, inputs, limits)
        if result.output and result.output not in self.outputs:
            self.outputs.append(result.output)
        return replace(result, data=ProbeData(probe, result.data))

    @property
    def reference(self) -> Any:
        """The reference solution, imported in the grader: call it on the inputs the probes got."""
        return self.rubric.reference()

    def rng(self, label: str) -> np.random.Generator:
        """A generator for hidden inputs, reproducible for this submission and secret."""
        return self._hidden.rng(self.task.id, label)

    def _limits(self) -> Limits | None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            return None
        return replace(self.task.limits, time_s=max(0.5, min(self.task.limits.time_s, remaining)))

    def prefetch(self, calls: list[tuple[str, dict[str, Any]]]) -> None:
        """Announce the probe calls a check is about to make, so they run in one process.

        Purely an optimisation: results are cached and `call` returns them; a batch that hangs
        or crashes is simply run again call by call, so each failure is still attributed.
        """
        runner = self._probe_runner()
        limits = self._limits()
        if runner is not None and limits is not None:
            runner.prefetch(calls, limits)

    def outcome(self, probe: str, **inputs: Any) -> ProbeOutcome:
        """Run a probe and return its outcome whatever happened (for checks with fallbacks)."""
        if self._probe_runner() is None:
            raise self._no_probes()
        limits = self._limits()
        if limits is None:
            return ProbeOutcome("timeout", detail=f"the task used its whole time budget of {self.task.limits.time_s} s")
        return self._run_probe(probe, inputs, limits)

    def call(self, probe: str, **inputs: Any) -> dict[str, np.ndarray]:
        """Run a probe; if the student's code did not return, the task ends with that failure."""
        result = self.outcome(probe, **inputs)
        if not result.ok:
            raise ProbeFailure(probe, result)
        return result.data
