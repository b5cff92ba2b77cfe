"""What the tasks of one submission share: the student process, and the notebook run (at most once).

The notebook runs on a thread of its own while the module checks use the other core. With
`[notebook] probes` in the rubric, its kernel stays up after the student's cells and serves
probes against its globals until `finish`. Why the notebook cannot serve is kept as a
`Problem` with a typed cause, so a grader failure is never mistaken for the student's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from grader.execution.notebook import NotebookLimits, NotebookRun, ProbeServing, run_notebook
from grader.execution.sandbox import Sandbox
from grader.execution.session import GRADER_SRC, NamespaceSession, SandboxError
from grader.execution.workspace import Workspace
from grader.judgement.probe_cache import ProbeCache
from grader.judgement.recordings import Recordings
from grader.judgement.rubric import Rubric
from grader.judgement.script_runs import ScriptRuns
from grader.judgement.verdict import GRADER_FAILURE
from grader.results import Cause


@dataclass(frozen=True)
class Problem:
    """Why something a task needs is not there; `cause` says whose fault that is."""

    message: str
    cause: Cause

    @property
    def grader_failed(self) -> bool:
        return self.cause is Cause.GRADER


def missing_file_message(workspace: Workspace, relpath: str) -> str:
    elsewhere = workspace.locate_elsewhere(relpath)
    message = f"{relpath} was not found in the submission"
    if elsewhere:
        message += f"; found {', '.join(elsewhere)} instead: move it to {relpath}"
    return message


class SubmissionRun:
    """The notebook of one submission, run once in the background, and the probes it serves."""

    def __init__(self, rubric: Rubric, workspace: Workspace, sandbox: Sandbox, tmp: Path, python: str,
                 runner: ProbeCache | None) -> None:
        self.rubric = rubric
        self.workspace = workspace
        self.sandbox = sandbox
        self.tmp = tmp
        self.python = python
        self.runner = runner
        self._notebook: NotebookRun | None = None
        self._notebook_cause = Cause.SUBMISSION  # GRADER when the grader could not run the notebook
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()  # the student's cells are done (or the notebook ended)
        self._socket: Path | None = None
        self._namespace: NamespaceSession | None = None
        self._namespace_runner: ProbeCache | None = None
        self._namespace_problem: Problem | None = None
        self._lock = threading.Lock()
        self.scripts: ScriptRuns | None = None  # the rubric's [scripts] and [documents], when it has any
        self.recorded: tuple[Recordings, str] | None = None  # the store and this notebook run's key

    def start_notebook(self) -> None:
        """Run the notebook in the background while the module checks use the other core."""
        if self.rubric.notebook is not None and self._thread is None:
            self._thread = threading.Thread(target=self._run_notebook, name="notebook", daemon=True)
            self._thread.start()

    def notebook(self) -> NotebookRun | None:
        """The submitted notebook's run, executed once (None when the rubric has no notebook)."""
        if self.rubric.notebook is None:
            return None
        self.start_notebook()
        self._ready.wait()
        return self._notebook

    def notebook_done(self) -> bool:
        """Whether the notebook's run has ended (or there is none), without waiting for it."""
        return self.rubric.notebook is None or self._ready.is_set()

    def notebook_runner(self) -> tuple[ProbeCache | None, Problem | None]:
        """Probes against the executed notebook's globals, or None and why they cannot run."""
        run = self.notebook()
        with self._lock:
            if self._namespace_runner is None and self._namespace_problem is None:
                if run is None or self._socket is None:
                    if run is None:
                        self._namespace_problem = Problem("the rubric runs no notebook", Cause.GRADER)
                    elif self._notebook_cause is Cause.GRADER:
                        self._namespace_problem = Problem(run.message, Cause.GRADER)
                    else:
                        self._namespace_problem = Problem(
                            f"the notebook's functions could not be called: {run.message}", Cause.SUBMISSION)
                else:
                    session = NamespaceSession(self._socket)
                    try:
                        session.connect()
                    except SandboxError as exc:
                        self._namespace_problem = Problem(f"{GRADER_FAILURE}: {exc}", Cause.GRADER)
                    else:
                        self._namespace = session
                        self._namespace_runner = ProbeCache(session)
            return self._namespace_runner, self._namespace_problem

    def finish(self) -> NotebookRun | None:
        """Hang up on the kernel and wait for the notebook to end: it never outlives its submission."""
        if self._thread is None:
            return self._notebook
        self._ready.wait()
        with self._lock:
            if self._namespace is not None:
                self._namespace.close()
            elif self._socket is not None:  # nobody connected: connect and hang up so the serving cell ends
                session = NamespaceSession(self._socket)
                try:
                    session.connect(timeout_s=5)
                except SandboxError:
                    pass
                finally:
                    session.close()
        self._thread.join()
        return self._notebook

    def _on_ready(self, run: NotebookRun, socket_path: Path | None) -> None:
        self._notebook = run
        self._socket = socket_path
        self._ready.set()

    def _run_notebook(self) -> None:
        try:
            self._run_notebook_once()
        finally:
            self._ready.set()

    def _run_notebook_once(self) -> None:
        if self.recorded is not None:
            store, key = self.recorded
            replayed = store.notebook_run(key)
            if replayed is not None:
                store.replayed["<notebook>"] += 1
                self._notebook = replayed
                return
        self._execute_notebook()
        if self.recorded is not None and self._notebook is not None and self._notebook_cause is Cause.SUBMISSION:
            store, key = self.recorded
            store.ran["<notebook>"] += 1
            store.save_notebook_run(key, self._notebook)

    def _execute_notebook(self) -> None:
        config = self.rubric.notebook
        assert config is not None
        relpath = self.rubric.files.get("notebook", "")
        path = self.workspace.find(relpath)
        if path is None:
            self._notebook = NotebookRun("missing", missing_file_message(self.workspace, relpath))
            return
        limits = NotebookLimits(cell_timeout_s=config.cell_timeout_s, budget_s=config.budget_s,
                                memory_mb=config.memory_mb)
        serve = ProbeServing(config.probes, self._on_ready) if config.probes else None
        try:
            final = run_notebook(path, self.workspace.root, sandbox=self.sandbox, python=self.python,
                                 grader_src=GRADER_SRC, workdir=self.tmp / "notebook",
                                 data=self.rubric.data, limits=limits,
                                 final_cell=config.final_cell_source(), serve=serve)
        except Exception as exc:  # noqa: BLE001 - a grader failure, reported as such, never a lost submission
            self._notebook_cause = Cause.GRADER
            final = NotebookRun("dead", f"{GRADER_FAILURE}: could not run the notebook: {type(exc).__name__}: {exc}")
        self._notebook = final
