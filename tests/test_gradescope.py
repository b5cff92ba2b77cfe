"""`grader gradescope`: a valid results.json for the sample submissions, in Gradescope's schema.

The samples that carry a notebook (reference-solution, seed001-student) run it for about 80 s
each and hang-in-train spends 15 s in timeouts, so they are left out here (test_samples.py
grades them); a module-only copy of the reference solution stands in for the first. The MNIST
training check is left out, as in the other module tests.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from grader.cli import ExitCode, gradescope_submission_id, main
from grader.judgement import rubric as rubric_mod

from .conftest import PROJECT, SECRET, SOLUTION, STARTER

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "gradescope_results.schema.json").read_text())
SLOW_SAMPLES = {"reference-solution", "seed001-student", "hang-in-train"}
# the task each mistake sample gets wrong (see test_samples.py)
MISTAKES = {"mistake-naive-softmax": "T6", "mistake-w1-grad-no-reg": "T7", "mistake-misaligned-labels": "T8",
            "mistake-sgd-skips-biases": "T9", "mistake-decay-every-iteration": "T10",
            "mistake-predict-wrong-axis": "T11", "mistake-forward-no-bias": "T5"}


def run_gradescope(submission: Path, results: Path, secret_file: Path, *extra: str) -> tuple[int, str]:
    outcome = CliRunner().invoke(main, ["gradescope", "--submission", str(submission), "--results", str(results),
                                        "--secret-file", str(secret_file), *extra])
    return outcome.exit_code, outcome.output


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, hw4: rubric_mod.Rubric) -> dict[str, dict]:
    base = tmp_path_factory.mktemp("gradescope")
    secret = base / "secret"
    secret.write_bytes(SECRET + b"\n")
    module_only = base / "reference-module-only"
    shutil.copytree(SOLUTION / "cattern", module_only / "cattern")
    shutil.copy(SOLUTION / "answers.md", module_only / "answers.md")
    samples = {p.name.removesuffix(".zip"): p for p in sorted((PROJECT / "submissions").iterdir())
               if p.name not in SLOW_SAMPLES}
    samples["reference-module-only"] = module_only
    results = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rubric_mod, "load", lambda name: hw4)
        for name, path in samples.items():
            out = base / name / "results.json"
            code, output = run_gradescope(path, out, secret)
            assert code == ExitCode.OK, (name, output)
            results[name] = json.loads(out.read_text())
    return results


def test_every_sample_gets_a_results_json_in_gradescopes_schema(graded: dict[str, dict]) -> None:
    assert len(graded) >= 10
    for name, data in graded.items():
        jsonschema.validate(data, SCHEMA)
        assert [t["number"] for t in data["tests"]] == [f"T{i}" for i in range(1, 13)], name
        assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
        assert data["stdout_visibility"] == "hidden"


def test_scores_and_statuses_follow_the_verdicts(graded: dict[str, dict]) -> None:
    reference = {t["number"]: t for t in graded["reference-module-only"]["tests"]}
    assert graded["reference-module-only"]["score"] == 10  # T12: no model handed in; T4 is a TA's
    assert reference["T4"]["max_score"] == 0 and "graded separately" in reference["T4"]["output"]
    assert reference["T12"]["status"] == "failed" and reference["T12"]["max_score"] == 1
    assert all(reference[f"T{i}"]["status"] == "passed" for i in (1, 2, 3, 5, 6, 7, 8, 9, 10, 11))
    for name, task in MISTAKES.items():
        tests = {t["number"]: t for t in graded[name]["tests"]}
        assert tests[task]["status"] == "failed" and tests[task]["score"] == 0, name
    broken = graded["broken-archive"]
    assert broken["score"] == 0 and "could not be read" in broken["tests"][4]["output"]


def test_hidden_checks_show_only_whether_they_passed(graded: dict[str, dict]) -> None:
    t6 = next(t for t in graded["mistake-naive-softmax"]["tests"] if t["number"] == "T6")
    lines = t6["output"].splitlines()
    hidden = [line for line in lines if "[hidden]" in line]
    assert hidden and all(line.split("] ", 1)[1].startswith("hidden check ") for line in hidden)
    assert any(line.endswith(": failed") for line in hidden)  # the large-scores case overflows
    assert "N=" not in t6["output"] and not any("reg=" in line for line in hidden)  # hidden parameters stay hidden
    public = [line for line in lines if "[public]" in line]
    assert public and "toy loss at reg=0.1" in public[0]


def test_missing_secret_fails_loudly_without_results(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    code, output = run_gradescope(STARTER, out, tmp_path / "no-secret")
    assert code == ExitCode.GRADER_FAILURE
    assert "no secret" in output and not out.exists()


def test_visibility_option_reaches_every_test(tmp_path: Path, make_submission, hw4, monkeypatch) -> None:
    monkeypatch.setattr(rubric_mod, "load", lambda name: hw4)
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET)
    out = tmp_path / "r.json"
    code, _ = run_gradescope(make_submission(), out, secret, "--visibility", "after_published")
    data = json.loads(out.read_text())
    assert code == ExitCode.OK and data["visibility"] == "after_published"
    assert {t["visibility"] for t in data["tests"]} == {"after_published"}


def test_submission_id_comes_from_gradescopes_metadata(tmp_path: Path) -> None:
    (tmp_path / "submission").mkdir()
    assert gradescope_submission_id(tmp_path / "submission") == "submission"
    (tmp_path / "submission_metadata.json").write_text(json.dumps({"id": 123456, "users": []}))
    assert gradescope_submission_id(tmp_path / "submission") == "gradescope-123456"
