"""A rubric's `[prepared]` arrays: built once from its `[data]` folders, then shared read-only.

The grader builds them (the checks module's function, run in the grader process on the course's
data) and mounts each folder read-only into the student process next to the `[data]` folders;
checks read them with `TaskContext.prepared`. See grader/execution/data_cache.py for the cache.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grader.execution.data_cache import load_prepared, prepared_folder
from grader.judgement.rubric import Rubric, RubricError


def prepared_data(rubric: Rubric) -> dict[str, Path]:
    """Every `[prepared]` folder of the rubric, built now where the cache lacks it."""
    folders: dict[str, Path] = {}
    for name, entry in rubric.sections.get("prepared", {}).items():
        if entry.data not in rubric.data:
            raise RubricError(f"[prepared.{name}] names data = {entry.data!r}, which [data] does not have")
        if name in rubric.data:
            raise RubricError(f"[prepared.{name}] has the name of a [data] folder; give it another")
        function = getattr(rubric.checks(), entry.function, None)
        if not callable(function):
            raise RubricError(f"[prepared.{name}] names function = {entry.function!r}, which the checks module "
                              "does not define")
        folders[name] = prepared_folder(name, Path(rubric.data[entry.data]), function)
    return folders


def sandbox_data(rubric: Rubric) -> dict[str, Path]:
    """The folders mounted read-only into the student process: `[data]` and `[prepared]`."""
    return {**rubric.data, **prepared_data(rubric)}


def prepared_arrays(rubric: Rubric, name: str) -> dict[str, np.ndarray]:
    """The arrays of `[prepared.<name>]`, read once per process (read-only)."""
    folders = prepared_data(rubric)
    if name not in folders:
        raise RubricError(f"the rubric has no [prepared.{name}]")
    return load_prepared(folders[name])


def warm_prepared_data(rubric: Rubric) -> None:
    """Build the rubric's `[prepared]` folders before workers start, so that they do not all build them.

    A failure here is left for each submission to report as a grader failure, with its message."""
    try:
        prepared_data(rubric)
    except Exception:  # noqa: BLE001 - every submission then says why, as a grader failure
        pass
