"""Strict rubric loading: each mistake an author can make fails at load, naming file, line and key."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from grader.judgement import rubric as rubric_mod
from grader.judgement import sections as sections_mod
from grader.judgement.rubric import RubricError, RubricProblem
from grader.judgement.sections import NotebookSection
from grader.judgement.toml_lines import TomlLines
from grader.lateness import LatePolicy

from .conftest import PROJECT

TOY = PROJECT / "examples/vec"
TOY_NOTEBOOK = PROJECT / "tests/fixtures/toy_notebook"


def _copy(tmp_path: Path, source: Path = TOY) -> Path:
    return Path(shutil.copytree(source, tmp_path / "rubric"))


def _edit(folder: Path, old: str, new: str, file: str = "rubric.toml") -> None:
    path = folder / file
    text = path.read_text()
    assert old in text, f"edit target not found in {file}: {old!r}"
    path.write_text(text.replace(old, new, 1))


def _line(folder: Path, needle: str, file: str = "rubric.toml") -> int:
    lines = (folder / file).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def _problems(folder: Path) -> list[RubricProblem]:
    with pytest.raises(RubricError) as info:
        rubric_mod.load(str(folder))
    return info.value.problems


def _only(folder: Path) -> RubricProblem:
    problems = _problems(folder)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


@pytest.mark.parametrize("name", ["hw4", "pa6", str(TOY), str(TOY_NOTEBOOK)])
def test_the_project_rubrics_load_cleanly(name: str) -> None:
    rubric = rubric_mod.load(name)
    assert rubric.tasks


# --- the three must-shows: a check-name typo, an unknown key, a missing reference file --------------


def test_a_typo_in_a_check_name_fails_at_load_naming_file_line_and_key(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, 'check = "normalize"', 'check = "normalise"')
    problem = _only(folder)
    assert problem.file == folder / "rubric.toml"
    assert problem.line == _line(folder, 'check = "normalise"')
    assert problem.key == "tasks[T3].check"
    assert "no function 'normalise' in checks.py (did you mean 'normalize'?)" in problem.message
    assert str(problem).startswith(f"{folder / 'rubric.toml'}:{problem.line}: tasks[T3].check: ")


def test_an_unknown_key_fails_at_load_naming_file_line_and_key(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, 'points = 2\ngrader = "checks"\ncheck = "dot"', 'points = 2\ngrader = "checks"\ncheck = "dot"\n'
                                                                  'partial_credits = true')
    problem = _only(folder)
    assert (problem.line, problem.key) == (_line(folder, "partial_credits"), "tasks[T2].partial_credits")
    assert "unknown key 'partial_credits'" in problem.message and "partial_credit" in problem.message


def test_a_missing_reference_file_fails_at_load_naming_file_line_and_key(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "solution/vecmath/ops.py").unlink()
    problem = _only(folder)
    assert problem.file == folder / "rubric.toml" and problem.key == "reference.module"
    assert problem.line == _line(folder, "solution/vecmath/ops.py")
    assert "no such file" in problem.message


# --- unknown keys at every level ------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "needle", "key"), [
    ('[limits]\ntime_s = 5', '[limit]\ntime_s = 5', "[limit]", "limit"),
    ('[module]\nname = "vecmath.ops"', '[module]\nname = "vecmath.ops"\nprobe = "p.py"', "probe =", "module.probe"),
    ('[limits]\ntime_s = 5', '[limits]\ntime_s = 5\ntimeout_s = 5', "timeout_s", "limits.timeout_s"),
    ('params = { hidden_cases = 3, rtol = 1e-9 }\n\n[[tasks]]\nid = "T4"',
     'params = { hidden_cases = 3, rtol = 1e-9 }\nlimits = { time = 3 }\n\n[[tasks]]\nid = "T4"',
     "limits = { time", "tasks[T3].limits.time"),
    ('abs_tol = 1e-9, aliases', 'abs_tol = 1e-9, alias = "x", aliases', "alias =", "tasks[T1].answers[0].alias"),
])
def test_unknown_keys_at_every_level(tmp_path: Path, old: str, new: str, needle: str, key: str) -> None:
    folder = _copy(tmp_path)
    _edit(folder, old, new)
    problem = _only(folder)
    assert (problem.line, problem.key) == (_line(folder, needle), key)
    assert "unknown" in problem.message


def test_a_notebook_section_is_typed_and_strict(tmp_path: Path) -> None:
    rubric = rubric_mod.load(str(TOY_NOTEBOOK))
    notebook = rubric.section(NotebookSection)
    assert notebook is rubric.notebook and notebook.budget_s == 60.0 and notebook.memory_mb == 2048
    assert notebook.probes == (TOY_NOTEBOOK / "notebook_probes.py").resolve()
    folder = _copy(tmp_path, TOY_NOTEBOOK)
    _edit(folder, "budget_s = 60", "budget = 60")
    _edit(folder, "memory_mb = 2048", 'memory_mb = "2 GB"')
    problems = {p.key: p for p in _problems(folder)}
    assert set(problems) == {"notebook.budget", "notebook.memory_mb"}
    assert problems["notebook.memory_mb"].line == _line(folder, 'memory_mb = "2 GB"')
    assert "expected an integer" in problems["notebook.memory_mb"].message


# --- missing files -----------------------------------------------------------------------------


@pytest.mark.parametrize(("file", "key"), [("checks.py", "checks.module"), ("probes.py", "module.probes")])
def test_missing_rubric_files(tmp_path: Path, file: str, key: str) -> None:
    folder = _copy(tmp_path)
    (folder / file).unlink()
    problems = _problems(folder)
    assert problems[0].key == key and "no such file" in problems[0].message
    assert problems[0].line == _line(folder, f'"{file}"')


def test_a_missing_data_folder(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "[checks]", '[data]\nimages = "no-such-folder"\n\n[checks]')
    problem = _only(folder)
    assert (problem.key, problem.line) == ("data.images", _line(folder, "no-such-folder"))
    assert "no such folder" in problem.message


# --- bad tolerances ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "needle", "key", "words"), [
    ("abs_tol = 1e-9, aliases", "abs_tol = -1e-9, aliases", "abs_tol = -1e-9", "tasks[T1].answers[0].abs_tol",
     "-1e-09"),
    ("hidden_cases = 3, rtol = 1e-9 }\n\n[[tasks]]\nid = \"T3\"", "hidden_cases = 3, rtol = nan }\n\n[[tasks]]\n"
     "id = \"T3\"", "rtol = nan", "tasks[T2].params.rtol", "nan"),
    ("hidden_cases = 3, rtol = 1e-9 }\n\n[[tasks]]\nid = \"T3\"", "hidden_cases = 3, rtol = \"tight\" }\n\n"
     "[[tasks]]\nid = \"T3\"", "tight", "tasks[T2].params.rtol", "'tight'"),
])
def test_bad_tolerances(tmp_path: Path, old: str, new: str, needle: str, key: str, words: str) -> None:
    folder = _copy(tmp_path)
    _edit(folder, old, new)
    problem = _only(folder)
    assert (problem.key, problem.line) == (key, _line(folder, needle))
    assert "tolerance" in problem.message and words in problem.message


def test_a_negative_time_limit(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "[limits]\ntime_s = 5", "[limits]\ntime_s = -5")
    assert "above 0" in _only(folder).message


# --- a task with no way to be graded -------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "key", "words"), [
    ('check = "dot"\n', "", "tasks[T2]", "needs check ="),
    ('needs = ["module"]\nparams = { hidden_cases = 3, rtol = 1e-9 }\n\n[[tasks]]\nid = "T3"',
     'params = { hidden_cases = 3, rtol = 1e-9 }\n\n[[tasks]]\nid = "T3"', "tasks[T2]", "must say what it reads"),
    ('needs = ["module"]\nparams = { hidden_cases = 3, rtol = 1e-9 }\n\n[[tasks]]\nid = "T3"',
     'needs = ["modul"]\nparams = { hidden_cases = 3, rtol = 1e-9 }\n\n[[tasks]]\nid = "T3"', "tasks[T2].needs",
     "'modul' is not a name in [files]"),
    ('answers = [\n  { key = "dot", label = "dot = 32", expected = 32, abs_tol = 1e-9, aliases = ["answer"] },\n]\n',
     "", "tasks[T1]", "nothing to grade"),
    ('grader = "pending"', 'grader = "later"', "tasks[T5].grader", "grader must be one of"),
    ('id = "T5"', 'id = "T4"', "tasks[T4].id", "duplicate task id"),
])
def test_a_task_with_no_way_to_be_graded(tmp_path: Path, old: str, new: str, key: str, words: str) -> None:
    folder = _copy(tmp_path)
    _edit(folder, old, new)
    problems = _problems(folder)
    assert any(p.key == key and words in p.message for p in problems), "\n".join(map(str, problems))


def test_a_checks_task_on_the_module_needs_a_module_section(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, '[module]\nname = "vecmath.ops"\nprobes = "probes.py"', "")
    problems = _problems(folder)
    assert any(p.key == "tasks[T2].needs" and "no [module] section" in p.message for p in problems)


# --- names in the code: probes, and what probes may import ------------------------------------------


def test_an_unknown_probe_name_is_found_in_the_checks_module(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, 'ctx.call("normalize", v=v)["unit"])', 'ctx.call("normalise", v=v)["unit"])', "checks.py")
    problem = _only(folder)
    assert problem.file == (folder / "checks.py").resolve()
    assert problem.line == _line(folder, '"normalise"', "checks.py") and problem.key == "normalise"
    assert "probe_normalise" in problem.message and "did you mean 'normalize'" in problem.message


def test_probe_names_in_prefetch_and_outcome_are_checked_too(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, '    rng = ctx.rng("dot")\n', '    ctx.prefetch([("dots", {"a": a})])\n    ctx.outcome("nope")\n'
                                              '    rng = ctx.rng("dot")\n', "checks.py")
    assert {p.key for p in _problems(folder)} == {"dots", "nope"}


def test_a_probes_module_that_imports_the_judge_side_fails_at_load(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "from grader.execution.probe_api import Student, as_numbers",
          "from grader.api import Student, as_numbers", "probes.py")
    problem = _only(folder)
    assert problem.file == (folder / "probes.py").resolve() and problem.line == _line(folder, "grader.api", "probes.py")
    assert "only grader.execution" in problem.message


def test_a_checks_module_that_does_not_import_fails_at_load_with_its_line(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "def normalize(ctx", "undefined_name\n\n\ndef normalize(ctx", "checks.py")
    problem = _only(folder)
    assert problem.file == (folder / "checks.py").resolve()
    assert problem.line == _line(folder, "undefined_name", "checks.py") and "NameError" in problem.message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "[limits]\ntime_s = 5", "[limits]\ntime_s = 5\ncolour = 1")
    _edit(folder, 'title = "dot(a, b)"', 'title = "dot(a, b)"\nweight = 2')
    (folder / "solution/vecmath/ops.py").unlink()
    assert {p.key for p in _problems(folder)} == {"limits.colour", "tasks[T2].weight", "reference.module"}


def test_invalid_toml_names_its_line(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, 'title = "dot(a, b)"', 'title = "dot(a, b)')
    problem = _only(folder)
    assert problem.line == _line(folder, 'title = "dot(a, b)') and "not valid TOML" in problem.message


# --- the section registry ---------------------------------------------------------------------------


def test_a_new_typed_section_is_one_registered_dataclass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sections_mod, "SECTIONS", dict(sections_mod.SECTIONS))
    monkeypatch.setattr(rubric_mod, "SECTIONS", sections_mod.SECTIONS)
    folder = _copy(tmp_path)
    _edit(folder, "[checks]", '[release]\nopens = "2025-05-01T23:59"\ngrace_minutes = 15\n\n[checks]')
    assert _only(folder).key == "release"  # not registered: an unknown section

    @sections_mod.section("release")
    @dataclasses.dataclass(frozen=True)
    class ReleaseSection:
        opens: str
        grace_minutes: sections_mod.Annotated[float, sections_mod.NON_NEGATIVE] = 0.0

    rubric = rubric_mod.load(str(folder))
    assert rubric.section(ReleaseSection) == ReleaseSection("2025-05-01T23:59", 15.0)
    assert rubric.section(NotebookSection) is None
    _edit(folder, "grace_minutes = 15", "grace_minutes = -15")
    assert _only(folder).key == "release.grace_minutes"


# --- finding lines ------------------------------------------------------------------------------------


def test_toml_lines_follow_tables_arrays_and_inline_tables() -> None:
    text = ('top = 1\n[a]\nx = 1\n"y" = { p = [1, 2], q = { r = "]}" , s = 2 } }\n'
            '[[t]]\nid = "one"\n[[t]]\nid = "two"\nparams = { k = [ { a = 1 },\n  { b = 2 } ] }\n[a.b]\nc = 3\n')
    lines = TomlLines(text)
    assert lines.line(("top",)) == 1
    assert lines.line(("a", "x")) == 3
    assert lines.line(("a", "y", "q", "s")) == 4
    assert lines.line(("t", 1, "id")) == 8
    assert lines.line(("t", 1, "params", "k", 1, "b")) == 10
    assert lines.line(("a", "b", "c")) == 12
    assert lines.line(("t", 1, "missing")) == 7  # the closest thing found: the table's header


def test_a_wrong_deadline_fails_at_load_naming_its_line(tmp_path: Path) -> None:
    """[deadline] is registered (parsed by grader/lateness.py), so a mistake in it is a load error, not a
    surprise at export time; a right one loads."""
    folder = _copy(tmp_path)
    _edit(folder, "[checks]", '[deadline]\ndue = 2025-05-01T23:59:00+02:00\npenalty_per_day = 0.1\n\n[checks]')
    assert rubric_mod.load(str(folder)).section(LatePolicy).penalty_per_day == 0.1
    _edit(folder, "due = 2025-05-01T23:59:00+02:00", 'due = "2025-05-01T23:59"')  # no offset, no zone
    problem = _only(folder)
    assert problem.key == "deadline" and problem.line == _line(folder, "[deadline]")
    assert "no offset or zone" in problem.message
