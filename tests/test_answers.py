"""Written answers: reading `## T1` sections and the many ways students write a number."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from grader.judgement import rubric as rubric_mod
from grader.judgement.answers import NumberError, normalise_key, parse, parse_number, without_template
from grader.judgement.written import grade_answers, grade_manual
from grader.results import Status

STARTER_ANSWERS = Path(__file__).resolve().parents[1] / "reference/hw4/starter/answers.md"
T1_RIGHT = """\
## T1
dz/dw0 = -0.2
dz/dw1 = 0.4
dz/db0 = -1/5
dz/db1 = 1
"""


def task(hw4: rubric_mod.Rubric, task_id: str) -> rubric_mod.TaskSpec:
    return next(t for t in hw4.tasks if t.id == task_id)


# --- parse ---------------------------------------------------------------------------------


def test_parse_splits_sections_and_reads_key_value_lines() -> None:
    doc = parse("""\
# HW4 written answers
stray = 5

## T1
Some text without a value.
dz/dw0 = -0.2
- dz/dw1: 0.4
* dz/db0 = −1/5

### t2 (output sizes)
A = 1024
B =

# T3
parameters = 557 057
""")
    assert sorted(doc.sections) == ["T1", "T2", "T3"]
    t1 = doc.section("T1")
    assert t1 is not None
    assert t1.values == {"dzdw0": "-0.2", "dzdw1": "0.4", "dzdb0": "−1/5"}
    assert "Some text without a value." in t1.text
    assert doc.section("t2") is doc.section("T2")
    assert doc.section("T2").values == {"a": "1024"}  # the blank B is not a value
    assert doc.section("T3").values == {"parameters": "557 057"}
    assert doc.section("T4") is None
    assert all("stray" not in s.values for s in doc.sections.values())  # before any section: ignored


def test_parse_keeps_the_first_value_of_a_repeated_key() -> None:
    doc = parse("## T2\nA = 1024\nA = 7\n")
    assert doc.section("T2").values == {"a": "1024"}


def test_parse_section_text_runs_to_the_next_heading() -> None:
    doc = parse("## T4\nline one\n\nline two\n## T5\nother\n")
    assert doc.section("T4").text == "line one\n\nline two"
    assert doc.section("T5").text == "other"


def test_a_heading_that_is_not_a_task_does_not_open_a_section() -> None:
    doc = parse("## Notes\nA = 1\n## T2\nB = 2\n")
    assert list(doc.sections) == ["T2"]
    assert doc.section("T2").values == {"b": "2"}


@pytest.mark.parametrize("key", ["dz/dw0", "dz_dw0", "∂z/∂w₀", "DZ/DW0", " dz / dw0 ", "dz-dw0"])
def test_normalise_key_folds_spellings_together(key: str) -> None:
    assert normalise_key(key) == "dzdw0"


@pytest.mark.parametrize("key", ["dz/dw1", "dz/db0", "dw0"])
def test_normalise_key_keeps_different_keys_apart(key: str) -> None:
    assert normalise_key(key) != "dzdw0"


# --- parse_number --------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("-0.2", Fraction(-1, 5)),
    ("\u22120.20", Fraction(-1, 5)),  # unicode minus
    ("\u2013 0.2", Fraction(-1, 5)),  # en dash
    ("-1/5", Fraction(-1, 5)),
    ("\\frac{-1}{5}", Fraction(-1, 5)),
    ("$\\frac{-1}{5}$", Fraction(-1, 5)),
    ("-\\dfrac{1}{5}", Fraction(-1, 5)),
    ("557,057", Fraction(557057)),
    ("557 057", Fraction(557057)),
    ("557_057", Fraction(557057)),
    ("31744 + 524800 + 513", Fraction(557057)),
    ("(30+1)*1024", Fraction(31744)),
    ("31 \\times 1024", Fraction(31744)),
    ("2^10", Fraction(1024)),
    ("1e3", Fraction(1000)),
    ("1024 neurons", Fraction(1024)),
    ("557057 parameters", Fraction(557057)),
    ("512 # the hidden layer", Fraction(512)),
    ("0.4.", Fraction(2, 5)),
    ("+1", Fraction(1)),
    ("0.1 + 0.2", Fraction(3, 10)),  # exact, not 0.30000000000000004
    ("2**-2", Fraction(1, 4)),
])
def test_parse_number_reads_what_students_write(raw: str, expected: Fraction) -> None:
    assert parse_number(raw) == expected


@pytest.mark.parametrize("raw", [
    "abc", "__import__('os')", "__import__('os').system('true')", "x + 1", "1 if 1 else 2", "[1]", "(1, 2)",
    "1,5", "True", "1j", "'1'", "f(1)", "1 < 2", "lambda: 1", "2**0.5", "2**1000000", "1/0", "5/(3-3)",
    "", "   ", "$$", "1" * 201,
])
def test_parse_number_refuses_anything_else(raw: str) -> None:
    with pytest.raises(NumberError):
        parse_number(raw)


def test_parse_number_explains_a_blank_and_a_division_by_zero() -> None:
    with pytest.raises(NumberError, match="blank"):
        parse_number("  ")
    with pytest.raises(NumberError, match="division by zero"):
        parse_number("1/0")
    with pytest.raises(NumberError, match="could not read 'a b' as a number"):
        parse_number("a b")


@pytest.mark.parametrize("raw", ["1e400", "-1e999"])
def test_parse_number_refuses_an_overflowing_literal_with_number_error(raw: str) -> None:
    with pytest.raises(NumberError):
        parse_number(raw)


@pytest.mark.parametrize("raw", ["0**-1", "0^-2", "(1-1)^(-1)"])
def test_parse_number_refuses_zero_to_a_negative_power_with_number_error(raw: str) -> None:
    with pytest.raises(NumberError):
        parse_number(raw)


def test_parse_number_refuses_astronomically_large_results() -> None:
    # 10**262144: computed in well under a second today; one more `**64` takes ~35 s, two more never end
    with pytest.raises(NumberError):
        parse_number("((10**64)**64)**64")


# --- grade_answers -------------------------------------------------------------------------


def test_all_right_answers_pass(hw4: rubric_mod.Rubric) -> None:
    doc = parse(T1_RIGHT + "## T2\nA = 1024 neurons\nB = 2^9\nC = 1\n## T3\nparameters = 31744 + 524800 + 513\n")
    for task_id in ("T1", "T2", "T3"):
        result = grade_answers(task(hw4, task_id), doc, "answers.md")
        assert result.status is Status.PASS, (task_id, result.message)
        assert result.points == result.max_points == 1.0
        assert all(c.passed for c in result.checks)


def test_aliases_are_accepted(hw4: rubric_mod.Rubric) -> None:
    doc = parse("## T1\nw0 = -0.2\ndw1 = 0.4\nb0 = -0.2\ndb1 = 1\n")
    assert grade_answers(task(hw4, "T1"), doc, "answers.md").status is Status.PASS


def test_one_wrong_value_of_four_gets_partial_credit(hw4: rubric_mod.Rubric) -> None:
    doc = parse(T1_RIGHT.replace("dz/dw1 = 0.4", "dz/dw1 = -0.4"))
    result = grade_answers(task(hw4, "T1"), doc, "answers.md")
    assert result.status is Status.FAIL
    assert result.points == 0.75
    failed = [c for c in result.checks if not c.passed]
    assert [c.name for c in failed] == ["dz/dw1"]
    assert "-0.4" in failed[0].message
    assert "1 of 4 checks failed" in result.message


def test_without_partial_credit_one_wrong_value_gets_nothing(hw4: rubric_mod.Rubric) -> None:
    t3 = task(hw4, "T3")
    assert not t3.partial_credit
    result = grade_answers(t3, parse("## T3\nparameters = 557056\n"), "answers.md")
    assert result.status is Status.FAIL
    assert result.points == 0.0


def test_a_value_within_tolerance_passes_and_just_outside_fails(hw4: rubric_mod.Rubric) -> None:
    t1 = task(hw4, "T1")  # abs_tol = 1e-6
    close = grade_answers(t1, parse(T1_RIGHT.replace("dz/dw0 = -0.2", "dz/dw0 = -0.2000004")), "answers.md")
    assert close.status is Status.PASS
    far = grade_answers(t1, parse(T1_RIGHT.replace("dz/dw0 = -0.2", "dz/dw0 = -0.200002")), "answers.md")
    assert far.status is Status.FAIL


def test_an_unreadable_value_fails_that_check_with_a_reason(hw4: rubric_mod.Rubric) -> None:
    result = grade_answers(task(hw4, "T1"), parse(T1_RIGHT.replace("dz/db1 = 1", "dz/db1 = one")), "answers.md")
    assert result.status is Status.FAIL
    assert result.points == 0.75
    bad = next(c for c in result.checks if not c.passed)
    assert bad.got == "one"
    assert bad.message == "not a number or simple arithmetic"


def test_a_missing_line_fails_that_check(hw4: rubric_mod.Rubric) -> None:
    result = grade_answers(task(hw4, "T1"), parse(T1_RIGHT.replace("dz/db1 = 1\n", "")), "answers.md")
    assert result.status is Status.FAIL
    assert any("no line 'dz/db1 = ...'" in c.message for c in result.checks)


def test_missing_answers_file_is_missing_and_names_the_file(hw4: rubric_mod.Rubric) -> None:
    result = grade_answers(task(hw4, "T1"), None, "answers.md")
    assert result.status is Status.MISSING
    assert result.points == 0.0
    assert "answers.md" in result.message


@pytest.mark.parametrize("text", ["## T1\n", "## T1\n\ndz/dw0 =\ndz/dw1 =\n", "## T2\nA = 1\n"])
def test_a_blank_or_absent_section_is_missing(hw4: rubric_mod.Rubric, text: str) -> None:
    result = grade_answers(task(hw4, "T1"), parse(text), "answers.md")
    assert result.status is Status.MISSING
    assert "'## T1'" in result.message and "answers.md" in result.message


def test_the_untouched_starter_answers_are_missing(hw4: rubric_mod.Rubric) -> None:
    starter = STARTER_ANSWERS.read_text()
    assert grade_answers(task(hw4, "T1"), parse(starter), "answers.md").status is Status.FAIL  # without the fix
    doc = parse(without_template(starter, starter))
    for task_id in ("T1", "T2", "T3"):
        assert grade_answers(task(hw4, task_id), doc, "answers.md").status is Status.MISSING, task_id


def test_a_written_proof_goes_to_a_ta_and_an_empty_one_is_missing(hw4: rubric_mod.Rubric) -> None:
    t4 = task(hw4, "T4")
    written = grade_manual(t4, parse("## T4\nBy the chain rule, dL/dh_i = P_i - y_i.\n"), "answers.md")
    assert written.status is Status.MANUAL
    assert "chain rule" in written.submitted_text
    empty = grade_manual(t4, parse("## T4\n\n   \n## T5\n"), "answers.md")
    assert empty.status is Status.MISSING
    assert grade_manual(t4, None, "answers.md").status is Status.MISSING


def test_the_untouched_starter_proof_is_missing(hw4: rubric_mod.Rubric) -> None:
    starter = STARTER_ANSWERS.read_text()
    result = grade_manual(task(hw4, "T4"), parse(without_template(starter, starter)), "answers.md")
    assert result.status is Status.MISSING
    filled = starter.replace("(plain text or LaTeX).\n", "(plain text or LaTeX).\nBy the chain rule ...\n")
    kept = grade_manual(task(hw4, "T4"), parse(without_template(filled, starter)), "answers.md")
    assert kept.status is Status.MANUAL and kept.submitted_text == "By the chain rule ..."


def test_a_huge_answer_fails_its_check_instead_of_raising(hw4: rubric_mod.Rubric) -> None:
    result = grade_answers(task(hw4, "T3"), parse("## T3\nparameters = (10**64)**64\n"), "answers.md")
    assert result.status is Status.FAIL


@pytest.mark.parametrize(("raw", "value"), [("(30+1)*1024 + (1024+1)*512 + (512+1) = 559059", 559059),
                                            ("31744 + 524800 + 513 = 557057", 557057)])
def test_a_worked_line_is_read_as_its_stated_result(raw: str, value: int) -> None:
    assert parse_number(raw) == value


def test_a_wrong_stated_result_is_not_rescued_by_its_working() -> None:
    # seed 001's T3: the working evaluates to 557057, but the student stated 559059, and that is the answer
    assert parse_number("(30+1)*1024 + (1024+1)*512 + (512+1)") == 557057
    assert parse_number("(30+1)*1024 + (1024+1)*512 + (512+1) = 559059") == 559059
