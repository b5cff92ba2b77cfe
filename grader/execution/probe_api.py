"""What a rubric's probes module may use inside the student process.

A probe is a function `probe_<name>(student, **inputs) -> dict[str, array]` that drives the
student's code and returns raw numbers. Probes run next to student code, so they hold no
expected values: only the grader, outside, knows what the numbers should be.

Probes import this module, `grader.execution.probe_api`: it is the part of the grader the
sandbox shows (the rest of `grader/` is hidden from student code, `grader.api` included, since
it holds the judge). `grader.api` re-exports the same names so that one page documents both
sides; checks import from `grader.api`, probes from here.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["ContractError", "NamespaceStudent", "Student", "as_numbers", "expect_tuple", "notebook_function",
           "notebook_value"]

IMPORT_PROBE = "__import__"  # built in: import the student's module and find its class


class ContractError(Exception):
    """The student's code answered in a form the assignment did not ask for (wrong return type...)."""


class Student:
    """Lazy access to the student's module, imported inside the probe's own process."""

    def __init__(self, module: str, class_name: str | None = None) -> None:
        self._module_name = module
        self._class_name = class_name
        self._module: ModuleType | None = None

    def module(self) -> ModuleType:
        if self._module is None:
            self._module = importlib.import_module(self._module_name)
        return self._module

    def cls(self, name: str | None = None) -> Any:
        name = name or self._class_name
        if not name:
            raise ContractError("no class name configured for this assignment")
        module = self.module()
        found = getattr(module, name, None)
        if not isinstance(found, type):
            path = self._module_name.replace(".", "/") + ".py"
            raise ContractError(f"{path} defines no class {name}")
        return found


class NamespaceStudent(Student):
    """A notebook's executed globals in the place of the student's module.

    For assignments whose functions are defined in the notebook itself: `module()` is a module
    object over those globals, so probes written for a module work unchanged."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        super().__init__("notebook")
        module = ModuleType("notebook")
        module.__dict__.update(namespace)
        self._module = module

    def cls(self, name: str | None = None) -> Any:
        if not name:
            raise ContractError("no class name given")
        found = self.module().__dict__.get(name)
        if not isinstance(found, type):
            raise ContractError(f"the notebook defines no class {name}{_defined_hint(found)}")
        return found


def notebook_function(student: Student, name: str) -> Any:
    """A function the student defined (in the notebook or the module), or a clear ContractError."""
    module = student.module()
    found = module.__dict__.get(name)
    if not callable(found) or isinstance(found, type):
        where = "the notebook" if isinstance(student, NamespaceStudent) else student._module_name.replace(".", "/")
        raise ContractError(f"{where} defines no function {name}{_defined_hint(found)}")
    return found


def notebook_value(student: Student, name: str) -> Any:
    """A variable the notebook left in its globals (a trained model), or a clear ContractError."""
    found = student.module().__dict__.get(name, _MISSING)
    if found is _MISSING or found is None:
        raise ContractError(f"the notebook left no {name} (is it None, or did the cell that sets it fail?)")
    return found


_MISSING = object()


def _defined_hint(found: Any) -> str:
    if found is None:
        return " (did the cell that defines it run without an error?)"
    return f" ({type(found).__name__} found instead)"


def expect_tuple(value: Any, length: int, what: str) -> tuple:
    """Unpack a student's return value, with a message that names the call when it is wrong."""
    if not isinstance(value, (tuple, list)) or len(value) != length:
        raise ContractError(f"{what} should return a tuple of {length} values, got {_kind(value)}")
    return tuple(value)


def _kind(value: Any) -> str:
    if value is None:
        return "None"
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} of shape {tuple(shape)}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} values"
    return type(value).__name__


def as_numbers(value: Any, what: str, *, keep_dtype: bool = False) -> np.ndarray:
    """The student's `value` as a fresh array of numbers, or a ContractError that names `what`.

    What a probe hands back must be plain numbers: None (a blank left empty), ragged lists,
    strings and objects are the student's wrong answer, said in words. The copy is float64
    unless `keep_dtype` (integer labels stay integers), so nothing of the student's array
    subclass or memory travels back.
    """
    if value is None:
        raise ContractError(f"{what} is None: the blank was left empty or does not assign it")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - ragged lists and the like
        raise ContractError(f"{what} is not an array of numbers ({type(value).__name__}: {exc})") from None
    if arr.dtype.kind not in "biuf":
        raise ContractError(f"{what} is {type(value).__name__} of {arr.dtype}, expected numbers")
    return np.array(arr, copy=True) if keep_dtype else np.array(arr, dtype=np.float64, copy=True)
