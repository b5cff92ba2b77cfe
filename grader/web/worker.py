"""A helper process for `grader serve`: the work that must not run in the server's process.

Two kinds of work leave the server: regrading a submission (grading code, and the sandboxes that
run student code, belong in a worker, as in a batch) and rebuilding the class exports (O(class)
rendering that would hold the server's GIL while TAs wait for their saves).

The helper is `python -m grader.web.worker`, a fresh single-threaded interpreter, rather than a
multiprocessing child: forking the threaded server can leave a lock held forever in the child,
and a spawned multiprocessing child re-imports the parent's `__main__`, which re-runs any script
that started the server without an `if __name__ == "__main__":` guard (it did, and graded twice).
Jobs and answers travel as pickles over two pipes between the server and its own helper; student
code never writes to them (it runs in sandboxes that return raw arrays to the helper), and a
grading answer is the executor's plain data: JSON-able dicts and file bytes.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _rebuild_exports(out: Path, rubric: Any, subs: list[str]) -> None:
    from grader.web.pages import rebuild_exports

    rebuild_exports(out, rubric, subs)


def _grade(job: Any) -> Any:
    from grader.executors import run_job  # what every executor's worker runs for one submission

    return run_job(job)


HANDLERS: dict[str, Callable[..., Any]] = {"exports": _rebuild_exports, "grade": _grade}


class WorkerError(RuntimeError):
    """The helper process failed the job, or died."""


class Worker:
    """One helper process, started on first use, one job at a time; restarted if it died."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._proc: subprocess.Popen[bytes] | None = None
        self._answers: Any = None
        self._lock = threading.Lock()

    def _start(self) -> None:
        read, write = os.pipe()
        try:
            self._proc = subprocess.Popen([sys.executable, "-m", "grader.web.worker", str(write)],
                                          stdin=subprocess.PIPE, pass_fds=(write,), close_fds=True)
        finally:
            os.close(write)
        self._answers = os.fdopen(read, "rb")

    def call(self, kind: str, *args: Any) -> Any:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start()
            assert self._proc is not None and self._proc.stdin is not None
            try:
                pickle.dump((kind, args), self._proc.stdin)
                self._proc.stdin.flush()
                status, value = pickle.load(self._answers)
            except (OSError, EOFError, pickle.UnpicklingError) as exc:
                self._stop()
                raise WorkerError(f"the {self.name} helper process died ({type(exc).__name__})") from None
        if status != "ok":
            raise WorkerError(value)
        return value

    def _stop(self) -> None:
        if self._proc is not None:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            try:
                self._proc.wait(60)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._answers is not None:
            self._answers.close()
            self._answers = None

    def close(self) -> None:
        with self._lock:
            self._stop()


def main() -> None:
    answers = os.fdopen(int(sys.argv[1]), "wb")
    sys.stdout = sys.stderr  # whatever the work prints must not corrupt the answers
    jobs = sys.stdin.buffer
    while True:
        try:
            kind, args = pickle.load(jobs)
        except EOFError:
            return
        try:
            answer = ("ok", HANDLERS[kind](*args))
        except Exception as exc:  # noqa: BLE001 - the server shows it; the helper goes on
            answer = ("error", f"{type(exc).__name__}: {exc}")
        pickle.dump(answer, answers)
        answers.flush()


if __name__ == "__main__":
    main()
