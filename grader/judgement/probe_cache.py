"""Probe calls into the student process, each distinct input run once per submission.

Several checks (and several tasks) ask for the same probe on the same inputs: T6 and T11 are
judged against the scores T5 already asked for. The cache keys a call by its probe name, its
keyword inputs and the bytes of its arrays, so a repeat costs nothing and can never disagree.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol

import numpy as np

from grader.execution.session import Limits, ProbeOutcome

REPLAYABLE = ("ok", "error")  # what the student's code alone decided: recorded and replayed


class ProbeSession(Protocol):
    """What the cache needs of a student process (`ModuleSession`, `NamespaceSession`)."""

    def call(self, probe: str, limits: Limits, kwargs: dict[str, Any], arrays: dict[str, np.ndarray]
             ) -> ProbeOutcome: ...

    def call_batch(self, calls: list[tuple[str, dict[str, Any], dict[str, np.ndarray]]], limits: Limits
                   ) -> list[ProbeOutcome] | None: ...


def digest(probe: str, kwargs: dict[str, Any], arrays: dict[str, np.ndarray]) -> str:
    """The cache key of one call: equal inputs, equal key, whatever order they were given in."""
    h = hashlib.sha256(probe.encode())
    h.update(json.dumps(kwargs, sort_keys=True, default=str).encode())
    for name in sorted(arrays):
        arr = np.ascontiguousarray(arrays[name])
        h.update(f"{name}{arr.dtype.str}{arr.shape}".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


class Recorder(Protocol):
    """Recorded executions across runs (`grader.judgement.recordings.ProbeRecorder`)."""

    def load(self, probe: str, call_digest: str) -> ProbeOutcome | None: ...

    def save(self, probe: str, call_digest: str, outcome: ProbeOutcome) -> None: ...


class ProbeCache:
    """Calls probes in the student process, once per distinct input, within the limits given.

    With a `recorder`, a call recorded by an earlier run of the same submission, probe code,
    data and grader is replayed instead of run (see recordings.py)."""

    def __init__(self, session: ProbeSession, recorder: Recorder | None = None) -> None:
        self.session = session
        self.recorder = recorder
        self._cache: dict[str, ProbeOutcome] = {}
        self.unreplayable = 0  # outcomes handed out that a recording never holds (a timeout, a crash)

    def _recorded(self, probe: str, key: str) -> bool:
        if key not in self._cache and self.recorder is not None:
            outcome = self.recorder.load(probe, key)
            if outcome is not None:
                self._cache[key] = outcome
        return key in self._cache

    def _record(self, probe: str, key: str, outcome: ProbeOutcome) -> None:
        self._cache[key] = outcome
        if self.recorder is not None:
            self.recorder.save(probe, key, outcome)

    @staticmethod
    def _split(probe: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
        arrays = {k: np.asarray(v) for k, v in inputs.items() if isinstance(v, np.ndarray)}
        kwargs = {k: v for k, v in inputs.items() if k not in arrays}
        return digest(probe, kwargs, arrays), kwargs, arrays

    def run(self, probe: str, inputs: dict[str, Any], limits: Limits) -> ProbeOutcome:
        key, kwargs, arrays = self._split(probe, inputs)
        if not self._recorded(probe, key):
            self._record(probe, key, self.session.call(probe, limits, kwargs, arrays))
        outcome = self._cache[key]
        if outcome.status not in REPLAYABLE:
            self.unreplayable += 1
        return outcome

    def prefetch(self, calls: list[tuple[str, dict[str, Any]]], limits: Limits) -> None:
        """Run calls not yet cached in one child; if that child fails as a whole, leave them uncached."""
        todo = {}
        for probe, inputs in calls:
            key, kwargs, arrays = self._split(probe, inputs)
            if not self._recorded(probe, key):
                todo[key] = (probe, kwargs, arrays)
        if len(todo) < 2:
            return
        outcomes = self.session.call_batch(list(todo.values()), limits)
        if outcomes is not None:
            for (key, (probe, _, _)), outcome in zip(todo.items(), outcomes, strict=True):
                self._record(probe, key, outcome)
