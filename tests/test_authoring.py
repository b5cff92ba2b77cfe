"""Authoring tools: mutants of a solution, `grader rubric new` and `grader rubric check`."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader import cli
from grader.authoring import selfcheck
from grader.authoring.mutation import Mutant, changed_lines, mutate_source, sample
from grader.authoring.scaffold import new_rubric
from grader.judgement import rubric as rubric_mod
from grader.workflows import UsageProblem

SOLUTION = '''\
import numpy as np


def loss(x, y, reg):
    """Docstring: never mutated."""
    # T6: the loss
    data = np.sum((x - y) ** 2, axis=1) / x.shape[0]
    # T7: the regulariser
    total = data.mean() + 0.5 * reg * np.sum(x.T @ x)
    if reg < 0:
        total = -total
    return total
'''
STARTER = SOLUTION.replace("    data = np.sum((x - y) ** 2, axis=1) / x.shape[0]\n", "    data = None\n")


def _edits(source: str, changed: set[int] | None = None) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for edit, mutated, _ in mutate_source(source, changed):
        compile(mutated, "<m>", "exec")
        found.setdefault(edit.kind, []).append(edit.description)
    return found


def test_every_operator_family_makes_mutants_that_compile() -> None:
    kinds = _edits(SOLUTION)
    assert set(kinds) >= {"operator", "dropped term", "comparison", "constant", "axis", "reduction", "sign",
                          "removed statement"}
    assert "- -> +" in kinds["operator"] and "< -> <=" in kinds["comparison"]  # boundary: off by one
    assert "axis=1 -> axis=None" in kinds["axis"] and "drop the transpose .T" in kinds["axis"]
    assert "sum -> mean" in kinds["reduction"] and "mean -> sum" in kinds["reduction"]
    assert "drop the minus sign" in kinds["sign"] and "return the negated value" in kinds["sign"]
    assert not any("never mutated" in d for ds in kinds.values() for d in ds)


def test_a_mutant_is_one_edit_that_keeps_the_rest_of_the_text() -> None:
    for edit, mutated, owners in mutate_source(SOLUTION, None):
        assert mutated[:edit.start] == SOLUTION[:edit.start]
        assert mutated.endswith(SOLUTION[edit.end:])
        assert owners == ("loss",)
        ast.parse(mutated)


def test_an_operator_swap_keeps_precedence() -> None:
    source = "def f(a, b, c):\n    return a - b * c\n"
    mutated = {m for e, m, _ in mutate_source(source, None) if e.description == "* -> +"}
    assert mutated == {"def f(a, b, c):\n    return a - (b + c)\n"}


def test_only_the_lines_the_student_writes_are_mutated() -> None:
    changed = changed_lines(STARTER, SOLUTION)
    assert changed == {7}
    assert {e.line for e, _, _ in mutate_source(SOLUTION, changed)} == {7}
    assert changed_lines(None, SOLUTION) is None


def test_sampling_is_the_same_every_run_and_keeps_source_order() -> None:
    mutants = [Mutant(i, "f.py", None, e, m, "", o) for i, (e, m, o) in enumerate(mutate_source(SOLUTION, None))]
    picked = sample(mutants, 5)
    assert picked == sample(mutants, 5) and len(picked) == 5
    assert [m.number for m in picked] == sorted(m.number for m in picked)
    assert sample(mutants, 10_000) == mutants


def test_a_mutant_is_attributed_to_the_task_whose_banner_it_sits_under(tmp_path: Path) -> None:
    folder = new_rubric("att", tmp_path)
    rubric = rubric_mod.load(str(folder))
    found = {e.line: (e, o) for e, _, o in mutate_source(SOLUTION, None)}
    mutant = Mutant(1, "f.py", None, found[9][0], "", "", found[9][1])
    assert selfcheck._owners(mutant, SOLUTION, rubric) == ()  # no T1/T2 banner here, no function named loss
    banner = SOLUTION.replace("# T7: the regulariser", "# T2: the regulariser")
    assert selfcheck._owners(mutant, banner, rubric) == ("T2",)
    by_function = Mutant(1, "f.py", None, found[9][0], "", "", ("standardize",))
    assert selfcheck._owners(by_function, SOLUTION.replace("# T7", "#"), rubric) == ("T2",)


def test_notebook_mutants_touch_only_kept_cells_and_empty_the_others(tmp_path: Path) -> None:
    def book(body: str) -> Path:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("import numpy as np"),
                    nbformat.v4.new_code_cell(f"def f(x):\n    {body}\n"),
                    nbformat.v4.new_code_cell("train_for_an_hour()")]
        path = tmp_path / f"{len(body)}.ipynb"
        nbformat.write(nb, path)
        return path

    base, found = selfcheck.notebook_mutants(book("return x + 1"), book("pass"), "nb.ipynb",
                                             lambda source: source.startswith(("import", "def")))
    assert base.cells[2].source == "pass" and base.cells[0].source == "import numpy as np"
    assert found and {index for index, _ in found} == {1}
    assert all(m.cell == 2 and m.file == "nb.ipynb" for _, m in found)


def test_rubric_new_writes_a_rubric_that_loads_and_refuses_to_overwrite(tmp_path: Path) -> None:
    folder = new_rubric("week-3", tmp_path)
    rubric = rubric_mod.load(str(folder))
    assert rubric.id == "week-3" and rubric.module_name == "week_3.functions" and len(rubric.tasks) == 2
    with pytest.raises(UsageProblem, match="already exists"):
        new_rubric("week-3", tmp_path)
    with pytest.raises(UsageProblem, match="letters, digits"):
        new_rubric("../escape", tmp_path)
    vec = rubric_mod.load(str(new_rubric("vec", tmp_path, "vecmath/ops.py")))
    assert (vec.module_name, vec.module_file) == ("vecmath.ops", "vecmath/ops.py")
    assert (tmp_path / "vec/starter/vecmath/__init__.py").is_file()
    assert vec.reference_path == (tmp_path / "vec/solution/vecmath/ops.py").resolve()
    with pytest.raises(UsageProblem, match="--module"):
        new_rubric("bad", tmp_path, "vec-math/ops.py")


WEAK_T2 = '''def standardize(ctx: TaskContext) -> Iterator[CheckResult]:
    got = ctx.call("standardize", x=np.array([1.0, 2.0, 3.0, 4.0]))["z"]
    yield compare_arrays("standardize returns 4 values", PUBLIC, 4, np.size(got))
'''


def test_rubric_check_grades_solution_starter_and_mutants(tmp_path: Path) -> None:
    """The skeleton passes as written; with T2's checks weakened, its mutants survive, each shown as a diff."""
    folder = new_rubric("demo", tmp_path)
    checks = folder / "checks.py"
    text = checks.read_text()
    checks.write_text(text[:text.index("def standardize(")] + WEAK_T2)
    run = CliRunner().invoke(cli.main, ["rubric", "check", str(folder), "--workers", "2",
                                        "--markdown", str(tmp_path / "report.md")])
    assert run.exit_code == 0, run.output
    report = (tmp_path / "report.md").read_text()
    assert "the solution earns every auto-graded point: 2/2" in report
    assert "the starter as handed out earns no code point" in report
    rows = {line.split("|")[1].strip(): line for line in report.splitlines() if line.startswith("| T")}
    assert rows["T1"].rstrip().endswith("| 100% |")
    assert not rows["T2"].rstrip().endswith("| 100% |")
    assert "surviving mutant(s)" in report and "```diff" in report
    assert "-    return (x - np.mean(x)) / np.std(x)" in report
    assert "took " in report and "mutants " in report


def test_rubric_check_says_when_the_starter_earns_points(tmp_path: Path) -> None:
    folder = new_rubric("leaky", tmp_path)
    starter = next((folder / "starter").rglob("functions.py"))
    starter.write_text(next((folder / "solution").rglob("functions.py")).read_text())
    run = CliRunner().invoke(cli.main, ["rubric", "check", str(folder), "--no-mutants", "--workers", "2"])
    assert run.exit_code == cli.ExitCode.CHECKS_FAILED, run.output
    assert "the starter earns code points" in run.output and "T1 earns 1/1" in run.output


def test_rubric_check_without_a_selftest_section_is_a_usage_error(tmp_path: Path) -> None:
    run = CliRunner().invoke(cli.main, ["rubric", "check", str(Path(__file__).parent / "fixtures/toy_notebook")])
    assert run.exit_code == 2 and "[selftest]" in run.output
