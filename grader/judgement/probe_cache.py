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


class ProbeCache:
    """Calls probes in the student process, once per distinct input, within the limits given."""

    def __init__(self, session: ProbeSession) -> None:
        self.session = session
        self._cache: dict[str, ProbeOutcome] = {}

    @staticmethod
    def _split(probe: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
        arrays = {k: np.asarray(v) for k, v in inputs.items() if isinstance(v, np.ndarray)}
        kwargs = {k: v for k, v in inputs.items() if k not in arrays}
        return digest(probe, kwargs, arrays), kwargs, arrays

    def run(self, probe: str, inputs: dict[str, Any], limits: Limits) -> ProbeOutcome:
        key, kwargs, arrays = self._split(probe, inputs)
        if key not in self._cache:
            self._cache[key] = self.session.call(probe, limits, kwargs, arrays)
        return self._cache[key]

    def prefetch(self, calls: list[tuple[str, dict[str, Any]]], limits: Limits) -> None:
        """Run calls not yet cached in one child; if that child fails as a whole, leave them uncached."""
        todo = {}
        for probe, inputs in calls:
            key, kwargs, arrays = self._split(probe, inputs)
            if key not in self._cache:
                todo[key] = (probe, kwargs, arrays)
        if len(todo) < 2:
            return
        outcomes = self.session.call_batch(list(todo.values()), limits)
        if outcomes is not None:
            self._cache.update(zip(todo, outcomes, strict=True))
