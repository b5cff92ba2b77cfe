"""grader.api, the one module rubric authors import: complete, documented, typed, and its probe
side works where probes run (inside the sandbox, at the full level)."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest

import grader.api as api
from grader.execution import probe_api
from grader.execution.sandbox import detect
from grader.judgement import rubric as rubric_mod
from grader.judgement.submission import grade_submission
from grader.results import Status

from .conftest import PROJECT, SECRET
from .test_sandbox import needs_isolation

TOY = PROJECT / "examples/vec"


def test_every_public_name_exists_and_is_documented() -> None:
    assert len(api.__all__) == len(set(api.__all__))
    for name in api.__all__:
        value = getattr(api, name)
        if name in ("PUBLIC", "HIDDEN"):
            continue
        assert (inspect.getdoc(value) or "").strip(), f"grader.api.{name} has no docstring"


def test_the_public_functions_are_typed() -> None:
    functions = [getattr(api, n) for n in api.__all__ if inspect.isfunction(getattr(api, n))]
    assert {f.__name__ for f in functions} >= {"compare_arrays", "verdict", "as_numbers", "expect_tuple"}
    for func in functions:
        signature = inspect.signature(func)
        assert signature.return_annotation is not inspect.Signature.empty, func.__name__
        for param in signature.parameters.values():
            assert param.annotation is not inspect.Parameter.empty, f"{func.__name__}({param.name})"


def test_the_probe_side_names_are_the_probe_modules_own() -> None:
    """Probes import them from grader.execution.probe_api (visible in the sandbox); api only re-exports."""
    for name in probe_api.__all__:
        if name in api.__all__:
            assert getattr(api, name) is getattr(probe_api, name)
    assert {"as_numbers", "Student", "ContractError"} <= set(api.__all__)


def test_as_numbers_returns_fresh_float_copies_or_a_contract_error() -> None:
    ints = [1, 2, 3]
    assert api.as_numbers(ints, "x").dtype.name == "float64"
    assert api.as_numbers(ints, "x", keep_dtype=True).dtype.kind == "i"
    for bad, words in [(None, "is None"), ("text", "expected numbers"), ([[1], [1, 2]], "not an array of numbers"),
                       ([object()], "expected numbers")]:
        with pytest.raises(api.ContractError, match=words):
            api.as_numbers(bad, "dot(a, b)")


CODE = "import numpy as np\n\ndef dot(a, b):\n    return float(np.dot(a, b))\n\n"


@needs_isolation
def test_probes_using_the_helpers_work_in_the_full_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADER_SANDBOX", raising=False)
    sandbox = detect(sys.executable)[0]
    assert sandbox.level.full
    toy = rubric_mod.load(str(TOY))
    toy.load_judges()
    results = {}
    for name, normalize in [("good", "def normalize(v):\n    return v / np.linalg.norm(v)\n"),
                            ("blank", "def normalize(v):\n    return None\n")]:
        root = tmp_path / name / "vecmath"
        root.mkdir(parents=True)
        (root / "ops.py").write_text(CODE + normalize)
        results[name] = grade_submission(root.parent, toy, SECRET, sandbox=sandbox)
    assert results["good"].sandbox.startswith("full:")
    assert results["good"].task("T3").status is Status.PASS
    blank = results["blank"].task("T3")
    # as_numbers ran inside the sandbox and answered with its contract error: a wrong answer, not a crash
    assert blank.status is Status.FAIL and blank.cause is None
    assert "normalize(v) is None: the blank was left empty" in blank.message
