"""`grader rubric new NAME`: a rubric folder that works as written, to be edited into the real one.

The skeleton is a two-task assignment (students write `sum_of_squares` and `standardize` in
`<name>/functions.py`) with every part a rubric has: rubric.toml, a checks module with a public
and hidden checks per task, a probes module, the solution and the starter. `grader rubric check`
passes on it straight away, so an author changes one working thing at a time.
"""

from __future__ import annotations

import re
from pathlib import Path

from grader.workflows import UsageProblem

RUBRIC = '''\
# {name}: written by `grader rubric new`. Students hand in {module}.
#   grader rubric check {folder}                     the solution earns every point, the starter none,
#                                                    and mutants of the solution are caught
#   grader grade SUBMISSIONS --rubric {folder}       grade a folder of submissions
# Every key is checked when the rubric loads: a typo is an error naming its line.

[assignment]
id = "{name}"
title = "{name}"
version = "1"

[files]  # where a submission keeps each input, relative to its root
module = "{module}"

[module]
name = "{dotted}"
probes = "probes.py"  # runs next to the student's code, inside the sandbox

[checks]
module = "checks.py"  # runs in the grader; each task's `check` names one of its functions

[reference]
module = "solution/{module}"  # ctx.reference: run by the grader on the hidden inputs

[selftest]  # what `grader rubric check` grades
solution = "solution"  # laid over the starter, as a student would hand it in
starter = "starter"

[limits]  # per task
time_s = 5
memory_mb = 512

[[tasks]]
id = "T1"
title = "sum_of_squares(x)"
points = 1
grader = "checks"
check = "sum_of_squares"
function = "sum_of_squares"
needs = ["module"]
params = {{ hidden_cases = 3, rtol = 1e-9 }}

[[tasks]]
id = "T2"
title = "standardize(x)"
points = 1
grader = "checks"
check = "standardize"
function = "standardize"
needs = ["module"]
params = {{ hidden_cases = 3, rtol = 1e-9 }}
'''

CHECKS = '''\
"""{name} checks: run in the grader, on the raw numbers the probes returned.

Each check function gets a TaskContext and yields CheckResults: a public check on a known input,
then hidden checks on inputs drawn from the grading secret, compared with the reference solution.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from grader.api import HIDDEN, PUBLIC, CheckResult, TaskContext, compare_arrays


def sum_of_squares(ctx: TaskContext) -> Iterator[CheckResult]:
    x = np.array([1.0, 2.0, 3.0])
    got = ctx.call("sum_of_squares", x=x)["value"]
    yield compare_arrays("sum_of_squares([1, 2, 3]) = 14", PUBLIC, 14.0, got)
    if not ctx.hidden:  # a student's own pre-check: hidden checks are only listed
        yield ctx.after_submission("hidden cases")
        return
    rng = ctx.rng("sum_of_squares")
    for i in range(int(ctx.params["hidden_cases"])):
        x = rng.standard_normal(int(rng.integers(2, 50))) * float(rng.uniform(0.1, 10))
        got = ctx.call("sum_of_squares", x=x)["value"]
        yield compare_arrays(f"hidden case {{i + 1}} (n={{x.size}}) vs the reference", HIDDEN,
                             ctx.reference.sum_of_squares(x), got, rtol=ctx.params["rtol"], atol=1e-12)


def standardize(ctx: TaskContext) -> Iterator[CheckResult]:
    x = np.array([1.0, 2.0, 3.0, 4.0])
    got = ctx.call("standardize", x=x)["z"]
    yield compare_arrays("standardize([1, 2, 3, 4])", PUBLIC, (x - 2.5) / np.sqrt(1.25), got)
    if not ctx.hidden:
        yield ctx.after_submission("hidden cases")
        return
    rng = ctx.rng("standardize")
    for i in range(int(ctx.params["hidden_cases"])):
        x = rng.standard_normal(int(rng.integers(2, 50))) * float(rng.uniform(0.1, 10)) + float(rng.uniform(-5, 5))
        got = ctx.call("standardize", x=x)["z"]
        yield compare_arrays(f"hidden case {{i + 1}} (n={{x.size}}) vs the reference", HIDDEN,
                             ctx.reference.standardize(x), got, rtol=ctx.params["rtol"], atol=1e-12)
'''

PROBES = '''\
"""{name} probes: run next to the student's code, inside the sandbox. They call the student's
functions and return raw numbers only: no expected values live here."""

from __future__ import annotations

from typing import Any

from grader.execution.probe_api import Student, as_numbers


def probe_sum_of_squares(student: Student, x) -> dict[str, Any]:
    return {{"value": as_numbers(student.module().sum_of_squares(x), "sum_of_squares(x)")}}


def probe_standardize(student: Student, x) -> dict[str, Any]:
    return {{"z": as_numbers(student.module().standardize(x), "standardize(x)")}}
'''

MODULE = '''\
"""{name}: the functions you write."""

import numpy as np


def sum_of_squares(x):
    """The sum of the squares of the entries of the array x, as a float."""
    # T1: your code here
    {t1}


def standardize(x):
    """x shifted to mean 0 and scaled to standard deviation 1 (np.std, ddof=0)."""
    # T2: your code here
    {t2}
'''


def package_name(name: str) -> str:
    """The Python package students hand in: the assignment's name as an identifier."""
    pkg = re.sub(r"\W+", "_", name.strip().lower()).strip("_") or "assignment"
    return pkg if not pkg[0].isdigit() else f"a_{pkg}"


def new_rubric(name: str, parent: Path, module: str | None = None) -> Path:
    """Write the skeleton into parent/NAME (which must not exist yet); return the folder.

    `module` is where students keep their code (default `<name>/functions.py`).
    """
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise UsageProblem(f"{name!r}: a rubric's name is letters, digits, '.', '_' and '-', starting with a "
                           "letter or digit")
    folder = parent / name
    if folder.exists():
        raise UsageProblem(f"{folder} already exists: choose another name or remove it")
    module = module or f"{package_name(name)}/functions.py"
    parts = Path(module).with_suffix("").parts
    if not module.endswith(".py") or not all(p.isidentifier() for p in parts):
        raise UsageProblem(f"--module {module!r}: a Python file such as lab/ops.py, every part an identifier")
    values = {"name": name, "module": module, "dotted": ".".join(parts), "folder": str(folder)}
    files = {
        "rubric.toml": RUBRIC.format(**values),
        "checks.py": CHECKS.format(**values),
        "probes.py": PROBES.format(**values),
    }
    for side, t1, t2 in (("solution", "return float(np.sum(x ** 2))", "return (x - np.mean(x)) / np.std(x)"),
                         ("starter", "raise NotImplementedError", "raise NotImplementedError")):
        files[f"{side}/{module}"] = MODULE.format(**values, t1=t1, t2=t2)
        for depth in range(1, len(parts)):
            files[f"{side}/{'/'.join(parts[:depth])}/__init__.py"] = ""
    for relpath, text in files.items():
        path = folder / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder
