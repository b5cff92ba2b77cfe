"""A second assignment is added with a rubric folder only: no change to grader/.

The toy assignment "vec" lives in examples/vec/ (rubric.toml, checks.py, probes.py, the
starter, the solution and two samples; docs/authoring.md is built around it). Students write
vecmath/ops.py with dot(a, b) and normalize(v). These tests grade a correct and a wrong
submission through the library and through the CLI, and check that the example uses only the
grader's author API.
"""

from __future__ import annotations

import ast
import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import cli
from grader.judgement import rubric as rubric_mod
from grader.judgement.submission import grade_submission
from grader.results import SubmissionResult

TOY = Path(__file__).resolve().parents[1] / "examples" / "vec"
GRADER_PACKAGE = Path(__file__).resolve().parents[1] / "grader"
SECRET = b"toy-assignment-secret-0123456789abcdef"
TASK_IDS = ["T1", "T2", "T3", "T4", "T5"]

GOOD_CODE = '''\
import math


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def normalize(v):
    norm = math.sqrt(dot(v, v))
    return [x / norm for x in v]
'''

# dot hard-codes the published example (so its public check passes and only the hidden ones
# catch it); normalize divides by the L1 norm (wrong on every input).
WRONG_CODE = '''\
def dot(a, b):
    if list(a) == [1, 2, 3] and list(b) == [4, 5, 6]:
        return 32
    return sum(a) * sum(b)


def normalize(v):
    total = sum(abs(x) for x in v)
    return [x / total for x in v]
'''

GOOD_ANSWERS = """# Toy answers

## T1
dot = 4 + 10 + 18

## T4
normalize(0) would divide by a norm of zero, so no unit vector exists.
"""

WRONG_ANSWERS = """## T1
dot = 31
"""

# The public extension API: what a rubric folder may import from the grader.
PUBLIC_API = {
    "grader.api": None,  # any name: the checks module's side
    "grader.execution.probe_api": None,  # the probes module's side (the sandbox shows only grader.execution)
}


def write_submission(root: Path, code: str | None, answers: str | None) -> Path:
    (root / "vecmath").mkdir(parents=True)
    if code is not None:
        (root / "vecmath/ops.py").write_text(code)
    if answers is not None:
        (root / "answers.md").write_text(answers)
    return root


@pytest.fixture(scope="module")
def toy() -> rubric_mod.Rubric:
    rubric = rubric_mod.load(str(TOY))
    rubric.load_judges()
    return rubric


@pytest.fixture(scope="module")
def toy_results(toy: rubric_mod.Rubric, tmp_path_factory: pytest.TempPathFactory) -> dict[str, SubmissionResult]:
    """The good and the wrong submission, each graded once for the whole module."""
    base = tmp_path_factory.mktemp("toy_subs")
    return {
        "good": grade_submission(write_submission(base / "good", GOOD_CODE, GOOD_ANSWERS), toy, SECRET),
        "wrong": grade_submission(write_submission(base / "wrong", WRONG_CODE, WRONG_ANSWERS), toy, SECRET),
    }


def by_id(result: SubmissionResult) -> dict[str, str]:
    return {t.id: t.status.value for t in result.tasks}


def test_the_toy_rubric_loads_from_its_folder(toy: rubric_mod.Rubric) -> None:
    assert toy.id == "vec"
    assert toy.task_ids == TASK_IDS
    assert [t.grader for t in toy.tasks] == ["answers", "checks", "checks", "manual", "pending"]
    assert toy.module_name == "vecmath.ops"
    assert toy.class_name is None
    assert toy.probes == (TOY / "probes.py").resolve()
    assert toy.reference_path == (TOY / "solution/vecmath/ops.py").resolve()
    # the reference is the fixture's own, loaded by the grader from the path in rubric.toml
    assert toy.reference().dot([1, 2, 3], [4, 5, 6]) == 32


def test_a_correct_toy_submission_passes_every_gradable_task(toy_results: dict[str, SubmissionResult]) -> None:
    result = toy_results["good"]
    assert by_id(result) == {"T1": "pass", "T2": "pass", "T3": "pass", "T4": "manual", "T5": "pending"}
    assert result.rubric == "vec"
    assert result.grading_status == "complete"
    assert result.score == 5.0  # T1 (1) + T2 (2) + T3 (2); manual and pending carry no points yet
    assert result.max_score == 7.0
    t4 = result.task("T4")
    assert t4.points is None and "a norm of zero" in (t4.submitted_text or "")
    assert result.task("T5").message == "pending: graded in a later version"
    for tid in ("T2", "T3"):
        checks = result.task(tid).checks
        visibility = [c.visibility.value for c in checks]
        assert visibility == ["public", "hidden", "hidden", "hidden"], tid
        assert all(c.passed for c in checks)


def test_a_wrong_toy_submission_fails_with_the_right_checks(toy_results: dict[str, SubmissionResult]) -> None:
    result = toy_results["wrong"]
    assert by_id(result) == {"T1": "fail", "T2": "fail", "T3": "fail", "T4": "missing", "T5": "pending"}
    assert result.grading_status == "complete"  # wrong answers, not a broken grader
    assert result.score == 0.0
    # T1: the answers file is read and compared with the rubric's expected value
    (t1_check,) = result.task("T1").checks
    assert t1_check.passed is False and t1_check.got == 31.0 and t1_check.expected == 32.0
    # T2: hard-coding the published example passes the public check; only hidden inputs catch it
    t2 = [c.passed for c in result.task("T2").checks]
    assert t2 == [True, False, False, False]
    # T3: wrong everywhere, public included
    assert [c.passed for c in result.task("T3").checks] == [False, False, False, False]
    assert "expected 0.8, got 0.5714285714" in result.task("T3").checks[0].message
    assert "T4" in result.task("T4").message


def test_a_bug_in_one_toy_task_fails_that_task_only(toy: rubric_mod.Rubric, tmp_path: Path) -> None:
    """dot off by one (its public check fails too), normalize right: only T2 fails."""
    code = GOOD_CODE.replace("return sum(x * y for x, y in zip(a, b))", "return sum(x * y for x, y in zip(a, b)) + 1")
    code = code.replace("norm = math.sqrt(dot(v, v))", "norm = math.sqrt(sum(x * x for x in v))")
    assert code.count("+ 1") == 1 and "dot(v, v)" not in code
    result = grade_submission(write_submission(tmp_path / "off_by_one", code, GOOD_ANSWERS), toy, SECRET)
    assert by_id(result) == {"T1": "pass", "T2": "fail", "T3": "pass", "T4": "manual", "T5": "pending"}
    public = result.task("T2").checks[0]
    assert public.passed is False and "expected 32, got 33" in public.message
    assert result.task("T2").points == 0.0 and result.task("T2").max_points == 2.0


def test_hidden_toy_inputs_come_from_the_secret(toy: rubric_mod.Rubric, tmp_path: Path,
                                                toy_results: dict[str, SubmissionResult]) -> None:
    """Another secret draws other hidden inputs: the hidden check names (which show n) change."""
    other = grade_submission(write_submission(tmp_path / "good", GOOD_CODE, GOOD_ANSWERS), toy, b"another-secret-" * 3)
    names = [c.name for c in toy_results["good"].task("T2").checks[1:] + toy_results["good"].task("T3").checks[1:]]
    other_names = [c.name for c in other.task("T2").checks[1:] + other.task("T3").checks[1:]]
    assert by_id(other) == by_id(toy_results["good"])
    assert names != other_names


def test_a_missing_module_is_reported_per_task(toy: rubric_mod.Rubric, tmp_path: Path) -> None:
    result = grade_submission(write_submission(tmp_path / "nocode", None, GOOD_ANSWERS), toy, SECRET)
    assert by_id(result) == {"T1": "pass", "T2": "missing", "T3": "missing", "T4": "manual", "T5": "pending"}
    assert "vecmath/ops.py was not found" in result.task("T2").message


def test_the_cli_grades_the_toy_assignment_end_to_end(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    write_submission(subs / "good", GOOD_CODE, GOOD_ANSWERS)
    write_submission(subs / "wrong", WRONG_CODE, WRONG_ANSWERS)
    out = tmp_path / "out"
    outcome = CliRunner().invoke(cli.main, ["grade", str(subs), "--out", str(out), "--rubric", str(TOY / "rubric.toml"),
                                            "--secret-file", str(tmp_path / "s"), "--workers", "2"])
    assert outcome.exit_code == 0, outcome.output
    assert (out / "index.html").is_file()
    index = (out / "index.html").read_text()
    assert "Dot product by hand" in index and "normalize(v)" in index
    with open(out / "grades.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["submission", "grading_status", "score", "max_score", *TASK_IDS]
    scores = {row[0]: row[2] for row in rows[1:]}
    assert scores == {"good": "5", "wrong": "0"}
    expected = {"good": ["pass", "pass", "pass", "manual", "pending"],
                "wrong": ["fail", "fail", "fail", "missing", "pending"]}
    for sub, want in expected.items():
        data = json.loads((out / sub / "result.json").read_text())
        assert data["rubric"] == "vec"
        assert [t["id"] for t in data["tasks"]] == TASK_IDS
        assert [t["status"] for t in data["tasks"]] == want
        assert (out / sub / "report.html").is_file()


def _grader_imports(path: Path) -> list[tuple[str, set[str] | None]]:
    """(module, imported names or None for `import module`) for every import of the grader package."""
    found: list[tuple[str, set[str] | None]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names if a.name.split(".")[0] == "grader"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "grader":
            found.append((node.module or "", {a.name for a in node.names}))
    return found


def test_the_toy_rubric_uses_only_the_public_extension_api() -> None:
    sources = sorted(TOY.rglob("*.py"))
    assert {"checks.py", "probes.py", "solution/vecmath/ops.py"} <= {p.relative_to(TOY).as_posix() for p in sources}
    used: set[str] = set()
    for path in sources:
        for module, names in _grader_imports(path):
            assert module in PUBLIC_API, f"{path.name} imports {module}, which is not part of the extension API"
            allowed = PUBLIC_API[module]
            if allowed is not None:
                assert names is not None and names <= allowed, f"{path.name}: from {module} import {names}"
            used.add(module)
    # not vacuous: the fixture really is built on the extension API
    assert used == set(PUBLIC_API)


def test_the_grader_package_knows_nothing_of_the_toy_assignment() -> None:
    for path in GRADER_PACKAGE.rglob("*"):
        if path.is_file() and path.suffix in (".py", ".j2", ".toml"):
            text = path.read_text(encoding="utf-8")
            assert "vecmath" not in text and "examples/vec" not in text, path


def test_answers_sections_need_not_be_named_t_digits(tmp_path: Path) -> None:
    folder = tmp_path / "quiz"
    folder.mkdir()
    (folder / "rubric.toml").write_text(
        '[assignment]\nid = "quiz"\n\n[files]\nanswers = "answers.md"\n\n'
        '[[tasks]]\nid = "Q1"\ntitle = "Three"\ngrader = "answers"\n'
        'answers = [{ key = "x", expected = 3, abs_tol = 0 }]\n')
    rubric = rubric_mod.load(str(folder))
    sub = tmp_path / "subs" / "student"
    sub.mkdir(parents=True)
    (sub / "answers.md").write_text("## Q1\nx = 3\n")
    result = grade_submission(sub, rubric, SECRET)
    assert by_id(result) == {"Q1": "pass"}
