"""What loading a rubric checks in its code: check names, probe names, and what probes import.

The checks module is imported (it is the grader's own trusted code, and an import error is the
author's to fix now, not a grader failure on every submission later). Probe modules are only
read: they run next to student code, inside the sandbox.

Probe names are found statically, as string literals passed to `ctx.call`, `ctx.outcome`,
`ctx.long_outcome` and in the `("name", {...})` tuples given to `ctx.prefetch`. A name built at
run time (an f-string, a variable) is not seen here; such a call to an unknown probe still ends
as a grader failure when it runs (docs/authoring.md says so).
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from grader.execution.probe_api import IMPORT_PROBE

PROBE_CALLS = ("call", "outcome", "long_outcome")
SANDBOX_VISIBLE = "grader.execution"  # the one part of the grader a probes module can import


class Report(Protocol):
    broken: set[str]  # sections given but unreadable

    def add(self, where: tuple[str | int, ...], message: str) -> None: ...

    def add_at(self, file: Path, line: int | None, key: str, message: str) -> None: ...


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _parse(path: Path, report: Report) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), str(path))
    except SyntaxError as exc:
        report.add_at(path, exc.lineno, "", f"SyntaxError: {exc.msg}")
    except (OSError, UnicodeDecodeError) as exc:
        report.add_at(path, None, "", f"cannot read it: {exc}")
    return None


def probe_names(tree: ast.Module) -> set[str]:
    """The probes a probes module defines: its top-level `def probe_<name>` functions."""
    return {node.name.removeprefix("probe_") for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("probe_")}


def probe_calls(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """(probe name, line) for each literal probe name a checks module passes to ctx.call & co."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute) or not node.args:
            continue
        first = node.args[0]
        if node.func.attr in PROBE_CALLS and isinstance(first, ast.Constant) and isinstance(first.value, str):
            yield first.value, first.lineno
        elif node.func.attr == "prefetch":
            elements = first.elts if isinstance(first, ast.List | ast.Tuple) else \
                [first.elt] if isinstance(first, ast.ListComp | ast.GeneratorExp) else []
            for element in elements:
                if isinstance(element, ast.Tuple) and element.elts and isinstance(element.elts[0], ast.Constant) \
                        and isinstance(element.elts[0].value, str):
                    yield element.elts[0].value, element.elts[0].lineno


def _import_checks(path: Path, name: str, report: Report) -> ModuleType | None:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        report.add_at(path, None, "", "cannot be imported")
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - whatever the checks module raises is the author's to see
        sys.modules.pop(name, None)
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
        line = getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else (frames[-1].lineno if frames else None)
        report.add_at(path, line, "", f"importing it failed: {type(exc).__name__}: {exc}")
        return None
    return module


def _check_probe_imports(path: Path, tree: ast.Module, report: Report) -> None:
    """A probes module runs in the sandbox, where the grader shows only grader.execution."""
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top == "grader" and not (name == SANDBOX_VISIBLE or name.startswith(SANDBOX_VISIBLE + ".")):
                report.add_at(path, node.lineno, name, "probes run inside the sandbox, where only grader.execution "
                              "of the grader is visible: import the helpers from grader.execution.probe_api")


def check_code(rubric: Any, report: Report, task_index: dict[str, int]) -> None:
    """Import the checks module and read the probes: every name the rubric uses must exist."""
    probe_files = [p for p in (rubric.probes, rubric.notebook.probes if rubric.notebook else None) if p]
    known_probes: set[str] = {IMPORT_PROBE}
    for path in probe_files:
        tree = _parse(path, report)
        if tree is not None:
            known_probes |= probe_names(tree)
            _check_probe_imports(path, tree, report)
    checks_tasks = [t for t in rubric.tasks if t.grader == "checks"]
    if not checks_tasks or rubric.checks_path is None:
        return
    module = _import_checks(rubric.checks_path, f"grader_rubric_{rubric.id}_checks", report)
    if module is None:
        return
    rubric._checks = module
    defined = sorted(n for n, v in vars(module).items()
                     if callable(v) and not n.startswith("_") and getattr(v, "__module__", None) == module.__name__)
    for task in checks_tasks:
        if task.check and not callable(getattr(module, task.check, None)):
            report.add(("tasks", task_index.get(task.id, 0), "check"),
                       f"no function {task.check!r} in {rubric.checks_path.name}{_suggest(task.check, defined)}")
    tree = _parse(rubric.checks_path, report)
    if tree is None:
        return
    if report.broken & {"module", "notebook"}:
        return  # where the probes are is itself wrong: said already
    names = sorted(known_probes - {IMPORT_PROBE})
    for name, line in probe_calls(tree):
        if name in known_probes:
            continue
        if probe_files:
            problem = (f"calls the probe {name!r}, which {', '.join(p.name for p in probe_files)} does not define "
                       f"as probe_{name}{_suggest(name, names)}")
        else:
            problem = f"calls the probe {name!r}, but the rubric names no probes ([module] or [notebook] probes)"
        report.add_at(rubric.checks_path, line, name, problem)
