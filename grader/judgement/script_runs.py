"""A submission's scripts: each run once, in the background.

The rubric's `[scripts]` run one after the other on a thread of their own while the function
checks use the other core, as a notebook does; a task that reads a script's results waits for
that script only, and the wait is not charged to the task. What ran becomes `ScriptReport`s for
the report page.
"""

from __future__ import annotations

import base64
import threading
from pathlib import Path

from grader.execution.sandbox import Sandbox
from grader.execution.scripts import ScriptRun, ScriptStatus, run_script
from grader.execution.session import GRADER_SRC
from grader.execution.workspace import Workspace
from grader.judgement.rubric import Rubric
from grader.results import FigureReport, ScriptReport

GRADER_FAILURE = "GRADER FAILURE (not the student's fault)"


class ScriptRuns:
    """Runs the rubric's scripts for one submission, at most once each."""

    def __init__(self, rubric: Rubric, workspace: Workspace, sandbox: Sandbox, tmp: Path, python: str, *,
                 run_scripts: bool) -> None:
        self.rubric = rubric
        self.workspace = workspace
        self.sandbox = sandbox
        self.tmp = tmp
        self.python = python
        self.run_scripts = run_scripts
        self._scripts: dict[str, ScriptRun] = {}
        self._script_done = {name: threading.Event() for name in rubric.scripts}
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return bool(self.run_scripts and self.rubric.scripts)

    def start(self) -> None:
        if self.active and self._thread is None:
            self._thread = threading.Thread(target=self._run_all, name="scripts", daemon=True)
            self._thread.start()

    def script(self, name: str) -> ScriptRun | None:
        """The run of script `name` (waiting for it), or None when scripts are not run (a quick check)."""
        if name not in self.rubric.scripts:
            raise KeyError(f"the rubric has no [scripts.{name}]")
        if not self.run_scripts:
            return None
        self.start()
        self._script_done[name].wait()
        return self._scripts[name]

    def finish(self) -> tuple[ScriptReport, ...]:
        """Wait for everything started, and what the report shows of it."""
        if self._thread is not None:
            self._thread.join()
        return tuple(script_report(run) for run in self._scripts.values())

    def _run_all(self) -> None:
        for name, spec in self.rubric.scripts.items():
            try:
                self._scripts[name] = run_script(spec, self.workspace.root, sandbox=self.sandbox, python=self.python,
                                                 grader_src=GRADER_SRC, workdir=self.tmp / "scripts" / name,
                                                 data=self.rubric.data)
            except Exception as exc:  # noqa: BLE001 - a grader failure is reported as such, never lost
                self._scripts[name] = ScriptRun(spec, ScriptStatus.FAILED, f"{GRADER_FAILURE}: {exc}")
            self._script_done[name].set()


def script_report(run: ScriptRun) -> ScriptReport:
    return ScriptReport(run.spec.name, run.spec.path, run.status.value, run.message, run.exit_code, run.wall_s,
                        run.cpu_s, run.spec.cpu_s, run.output,
                        tuple(FigureReport(f.name, f.how, base64.b64encode(f.png).decode()) for f in run.figures),
                        tuple(sorted(run.files)))
