"""Where submissions are graded: local worker processes, or a Dask cluster.

An executor turns `GradeJob`s into `GradedPayload`s and yields them as they finish; the batch
(grader/pipeline.py) writes each payload and commits it to the gradebook. The job and the payload
are plain data (paths, the secret, JSON, file bytes), so the same `run_job` serves every engine,
in the spirit of papermill's engines: the batch does not know where grading happened.

Every worker grades in its own sandboxes, exactly as a single grader does. Workers also draw the
report pages, so the process that owns the output folder only writes files and commits rows:
its memory and CPU stay flat however many workers there are.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from threadpoolctl import threadpool_limits

from grader.execution.sandbox import SandboxUnavailable, detect
from grader.judgement.context import TA_MODE, GradingMode
from grader.judgement.manual import apply_manual
from grader.judgement.prepared import warm_prepared_data
from grader.judgement.recordings import Recordings
from grader.judgement.rubric import Rubric
from grader.judgement.similarity.fingerprint import prepare_lexer
from grader.judgement.submission import grade_submission, grader_failure_result
from grader.lateness import Lateness
from grader.presentation.html import preload_templates
from grader.presentation.outputs import render_files
from grader.results import ManualScore, SubmissionResult
from grader.similarity import worker_fingerprints


@dataclass(frozen=True)
class GradeJob:
    sub_id: str
    source: str  # path of the submission, as the worker sees it (a shared filesystem for a cluster)
    rubric: Rubric  # as data; its files (checks, reference, probes) must be at the same paths on the worker
    secret: bytes
    manual: tuple[ManualScore, ...] = ()
    render: bool = True  # draw the report pages (a rubric self-test needs only the result)
    lateness: Lateness | None = None  # drawn on the report only; never part of the result
    recordings: str | None = None  # the recorded-executions store (`<out>/.recordings`), None: record nothing
    replay: bool = True  # False (`--no-cache`): run everything again, and record it afresh
    fingerprints: bool = True  # False: the gradebook has this code's similarity fingerprints already


@dataclass
class GradedPayload:
    sub_id: str
    result: dict[str, Any]  # SubmissionResult.to_json() of the autograder's result (no manual scores)
    files: dict[str, bytes] = field(default_factory=dict)  # rendered with the manual scores laid over
    code: tuple[str, str, bytes] | None = None  # similarity's (content hash, scheme, record) for the gradebook

    @property
    def submission_result(self) -> SubmissionResult:
        return SubmissionResult.from_json(self.result)


def grade_one(source: Path, sub_id: str, rubric: Rubric, secret: bytes | None,
              mode: GradingMode = TA_MODE, recordings: Recordings | None = None) -> SubmissionResult:
    """One submission graded in this process; never raises (see grade_submission)."""
    return grade_submission(source, rubric, secret, sub_id=sub_id, mode=mode, recordings=recordings)


_PREPARED: dict[tuple[str, str, str], Rubric] = {}


def _worker_rubric(rubric: Rubric) -> Rubric:
    """One copy per worker with its judges imported, instead of importing them again for every job."""
    key = (str(rubric.path), rubric.fingerprint, repr([(t.id, t.params) for t in rubric.tasks]))
    if key not in _PREPARED:
        rubric.load_judges()
        _PREPARED[key] = rubric
    return _PREPARED[key]


def warm_up(rubric: Rubric) -> None:
    """Build, before the workers fork, what each would otherwise build for its first submission: the
    rubric's prepared data, the compiled report templates, the sandbox level (detecting it runs a
    program in each candidate sandbox, about 0.2 s), the similarity lexer, and the rubric with its
    checks module and reference imported (a job's rubric arrives as data; a forked worker finds this
    one under the same key instead of importing its own, with whatever the checks module keeps).
    Together they cost each worker's first submission about 0.5 s (benchmarks/profile_batch.py)."""
    try:
        _worker_rubric(rubric)
    except Exception:  # noqa: BLE001 - a checks module that does not load: each submission says why
        pass
    warm_prepared_data(rubric)
    preload_templates()
    prepare_lexer()
    try:
        detect(sys.executable)
    except SandboxUnavailable:  # GRADER_SANDBOX forces a level this machine lacks: each submission says so
        pass


def payload_for(result: SubmissionResult, manual: Iterable[ManualScore],
                lateness: Lateness | None = None) -> GradedPayload:
    return GradedPayload(result.submission, result.to_json(),
                         render_files(apply_manual(result, manual), gradescope=True, lateness=lateness))


class WorkerStopped(SystemExit):
    """SIGTERM or SIGINT in a local worker: the batch is stopping. A SystemExit, so that an idle
    worker leaves quietly; a busy one unwinds first (its sandboxes killed, its temporary files
    removed) and then leaves at once, before it could start another queued job."""


def _stop_worker(signum: int, frame: object) -> None:
    raise WorkerStopped(128 + signum)


_BLAS_LIMIT: list[Any] = []


def _worker_init() -> None:
    """A local worker's signals: never the grader's handlers it was forked with.

    And one BLAS thread: the workers (one per core) and their students' sandboxes already share the
    cores, and OpenBLAS's extra threads spin while they wait, so T12's evaluation on 15,000 images
    took CPU from the other worker instead of time off its own (benchmarks/bench_regrade.py)."""
    signal.signal(signal.SIGTERM, _stop_worker)
    signal.signal(signal.SIGINT, _stop_worker)
    _BLAS_LIMIT.append(threadpool_limits(limits=1, user_api="blas"))


def run_job(job: GradeJob) -> GradedPayload:
    """Grade one submission and draw its pages; runs in a worker process, local or on a cluster."""
    try:
        return _run_job(job)
    except WorkerStopped as stop:  # nothing of this job is committed: the rerun grades it
        os._exit(int(stop.code or 1))


def _run_job(job: GradeJob) -> GradedPayload:
    rubric = _worker_rubric(job.rubric)
    store = Recordings(Path(job.recordings), read=job.replay) if job.recordings else None
    result = grade_one(Path(job.source), job.sub_id, rubric, job.secret, recordings=store)
    if not job.render:
        return GradedPayload(result.submission, result.to_json())
    payload = payload_for(result, job.manual, job.lateness)
    if job.fingerprints:
        payload.code = worker_fingerprints(Path(job.source), rubric, result.content_hash)
    return payload


class Executor(Protocol):
    def run(self, jobs: list[GradeJob], rubric: Rubric) -> Iterator[GradedPayload]:
        """Yield one payload per job, in the order they finish; never raise for one job's sake."""
        ...


def _failed_payload(job: GradeJob, rubric: Rubric, exc: BaseException) -> GradedPayload:
    return payload_for(grader_failure_result(job.sub_id, rubric, exc), job.manual, job.lateness)


class LocalExecutor:
    """Worker processes on this machine, forked from the grader.

    Forked rather than spawned: a worker starts in milliseconds with numpy and the judges already
    imported, and a script that calls `grade_batch` needs no `if __name__ == "__main__"` guard.
    A worker only grades and renders; it never touches the parent's gradebook connection or
    console, and it leaves through os._exit, so nothing it inherited is flushed or closed twice.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)

    def _pool(self, size: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=size, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_worker_init)

    def run(self, jobs: list[GradeJob], rubric: Rubric) -> Iterator[GradedPayload]:
        if not jobs:
            return
        retry: list[GradeJob] = []
        yield from self._round(jobs, rubric, retry)
        if retry:
            # A worker process died (the OOM killer, a crash in a C library) and took the pool with it:
            # every job it had not finished gets one more try, each in a fresh pool of its own.
            for job in retry:
                again: list[GradeJob] = []
                yield from self._round([job], rubric, again)
                for lost in again:
                    yield _failed_payload(lost, rubric, RuntimeError("the worker process died twice grading this"))

    def _round(self, jobs: list[GradeJob], rubric: Rubric, retry: list[GradeJob]) -> Iterator[GradedPayload]:
        pool = self._pool(min(self.workers, len(jobs)))
        try:
            yield from self._jobs(pool, jobs, rubric, retry)
        except BaseException:  # Ctrl-C, SIGTERM, a full disk, or the batch closed this generator
            _stop_now(pool)
            raise
        pool.shutdown(wait=True)

    def _jobs(self, pool: ProcessPoolExecutor, jobs: list[GradeJob], rubric: Rubric,
              retry: list[GradeJob]) -> Iterator[GradedPayload]:
        # Keep only a few jobs queued per worker, so 10,000 submissions are not 10,000 futures at once.
        queue = iter(jobs)
        running: dict[Future[GradedPayload], GradeJob] = {}

        def top_up() -> None:
            for job in queue:
                running[pool.submit(run_job, job)] = job
                if len(running) >= 2 * self.workers:
                    break

        top_up()
        broken = False
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                job = running.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    broken = True
                    retry.append(job)
                except Exception as exc:  # noqa: BLE001 - e.g. the worker could not load the rubric
                    yield _failed_payload(job, rubric, exc)
            if not broken:
                try:
                    top_up()
                except BrokenProcessPool:
                    broken = True
        if broken:
            retry.extend(queue)


def _stop_now(pool: ProcessPoolExecutor, grace_s: float = 30.0) -> None:
    """Stop the workers now rather than wait for their jobs: what they hold is not committed yet,
    so a rerun grades it again. SIGTERM lets each one unwind its sandboxes first (see _worker_init);
    `grace_s` only bounds a worker stuck in C code, which is then killed."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # the pool keeps no public handle
    for process in processes:
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(grace_s)
        if process.is_alive():
            process.kill()
            process.join()


class DaskExecutor:
    """A Dask distributed cluster: `address` of a scheduler, or "local" for a LocalCluster here.

    Workers must see the submissions at the same paths (a shared filesystem) and have the grader
    and the same rubric installed; the secret travels with each job, so use TLS on a real network.
    """

    def __init__(self, address: str, workers: int | None = None) -> None:
        self.address = address
        self.workers = workers

    def _client(self) -> Any:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - depends on the install
            raise RuntimeError("--dask needs the 'distributed' package: pip install 'grader[dask]'") from None
        if self.address == "local":
            cluster = LocalCluster(n_workers=max(1, self.workers or os.cpu_count() or 1), threads_per_worker=1,
                                   processes=True, dashboard_address=None)
            return Client(cluster), cluster
        return Client(self.address), None

    def run(self, jobs: list[GradeJob], rubric: Rubric) -> Iterator[GradedPayload]:
        if not jobs:
            return
        from distributed import as_completed

        client, cluster = self._client()
        try:
            futures = {client.submit(run_job, job, key=f"grade-{job.sub_id}-{os.urandom(4).hex()}", pure=False): job
                       for job in jobs}
            for future in as_completed(futures):
                job = futures.pop(future)
                try:
                    yield future.result()
                except Exception as exc:  # noqa: BLE001 - a lost worker (KilledWorker) costs this job only
                    yield _failed_payload(job, rubric, exc)
                future.release()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
