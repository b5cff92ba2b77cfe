"""Recorded executions: a regrade after a rubric edit replays what student code returned, and re-runs
exactly what the edit made new (docs/recordings.md).

The toy "vec" assignment (examples/vec) is copied and edited the way an author would edit it; its
probe calls are counted by the store (`ran`: called in the student process, `replayed`: read back).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from grader.judgement import rubric as rubric_mod
from grader.judgement.recordings import Recordings, probe_digests
from grader.judgement.submission import grade_submission

from .conftest import SECRET
from .golden import normalise

VEC = Path(__file__).resolve().parents[1] / "examples" / "vec"


@pytest.fixture
def vec(tmp_path: Path) -> Path:
    shutil.copytree(VEC, tmp_path / "vec")
    return tmp_path / "vec"


def _grade(rubric_dir: Path, store: Path, read: bool = True, sub: str = "alice"):
    rubric = rubric_mod.load(str(rubric_dir / "rubric.toml"))
    recordings = Recordings(store, read=read)
    result = grade_submission(rubric_dir / "samples" / sub, rubric, SECRET, recordings=recordings)
    return result, recordings


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_a_regrade_with_nothing_changed_runs_nothing_and_gives_the_same_result(vec: Path, tmp_path: Path) -> None:
    first, store = _grade(vec, tmp_path / "rec")
    assert store.ran == {"__import__": 1, "dot": 4, "normalize": 4} and not store.replayed
    again, store = _grade(vec, tmp_path / "rec")
    # the verdicts themselves are read back (judged_tasks.py): only the up-front import is replayed
    assert not store.ran and store.replayed == {"__import__": 1}
    assert store.reused_tasks == {"T2": 1, "T3": 1} and not store.judged_tasks
    fresh, _ = _grade(vec, tmp_path / "elsewhere")
    assert normalise(again) == normalise(first) == normalise(fresh)


def test_a_tolerance_change_reruns_nothing(vec: Path, tmp_path: Path) -> None:
    _grade(vec, tmp_path / "rec")
    _edit(vec / "rubric.toml", "params = { hidden_cases = 3, rtol = 1e-9 }",
          "params = { hidden_cases = 3, rtol = 1e-3 }")
    result, store = _grade(vec, tmp_path / "rec")
    assert not store.ran
    assert result.task("T2").status.value == "pass"
    # only the edited task is judged again (from its replayed probe calls); T3's verdict is read back
    assert store.judged_tasks == {"T2": 1} and store.reused_tasks == {"T3": 1}
    assert store.replayed == {"__import__": 1, "dot": 4}


def test_points_and_a_changed_check_rerun_nothing(vec: Path, tmp_path: Path) -> None:
    _grade(vec, tmp_path / "rec")
    _edit(vec / "rubric.toml", 'title = "dot(a, b)"\npoints = 2', 'title = "dot(a, b)"\npoints = 5')
    _edit(vec / "checks.py", "rtol=ctx.params[\"rtol\"], atol=1e-12)", "rtol=ctx.params[\"rtol\"], atol=0.0)")
    result, store = _grade(vec, tmp_path / "rec")
    assert not store.ran and result.task("T2").max_points == 5
    assert store.judged_tasks == {"T2": 1, "T3": 1} and not store.reused_tasks  # an edited checks module: all


def test_a_verdict_resting_on_a_timeout_is_judged_again(vec: Path, tmp_path: Path) -> None:
    _edit(vec / "rubric.toml", "time_s = 5", "time_s = 1")
    _edit(vec / "samples/alice/vecmath/ops.py", "def normalize(v):", "def normalize(v):\n    while True:\n        pass")
    first, store = _grade(vec, tmp_path / "rec")
    assert first.task("T3").status.value == "timeout" and first.task("T2").status.value == "pass"
    assert store.judged_tasks == {"T2": 1}  # a timeout is the machine's as much as the student's: not kept
    again, store = _grade(vec, tmp_path / "rec")
    assert store.reused_tasks == {"T2": 1} and store.ran["normalize"] >= 1  # T3 runs and is judged again
    assert again.task("T3").status.value == "timeout"


def test_a_new_check_runs_only_its_new_probe_call(vec: Path, tmp_path: Path) -> None:
    _grade(vec, tmp_path / "rec")
    # a fourth hidden case for dot: the first three are drawn as before, so only the fourth call is new
    _edit(vec / "rubric.toml", "params = { hidden_cases = 3, rtol = 1e-9 }",
          "params = { hidden_cases = 4, rtol = 1e-9 }")
    result, store = _grade(vec, tmp_path / "rec")
    assert store.ran == {"dot": 1}
    assert len(result.task("T2").checks) == 5


def test_a_probe_change_reruns_only_that_probes_calls(vec: Path, tmp_path: Path) -> None:
    _grade(vec, tmp_path / "rec")
    _edit(vec / "probes.py", '"normalize(v)")}', '"normalize(v) of the student")}')
    _, store = _grade(vec, tmp_path / "rec")
    assert store.ran == {"normalize": 4}
    assert store.replayed == {"__import__": 1, "dot": 4}


def test_a_helper_shared_by_every_probe_reruns_them_all(vec: Path) -> None:
    before = probe_digests(vec / "probes.py")
    _edit(vec / "probes.py", "from grader.execution.probe_api import Student, as_numbers",
          "from grader.execution.probe_api import Student, as_numbers\n\nSCALE = 1.0")
    after = probe_digests(vec / "probes.py")
    assert before.keys() == after.keys() == {"dot", "normalize"}
    assert before["dot"] == after["dot"]  # SCALE is used by no probe yet
    _edit(vec / "probes.py", "student.module().dot(a, b)", "SCALE * student.module().dot(a, b)")
    assert probe_digests(vec / "probes.py")["dot"] != after["dot"]


def test_the_students_files_the_reference_or_the_data_rerun_everything(vec: Path, tmp_path: Path) -> None:
    _grade(vec, tmp_path / "rec")
    _edit(vec / "samples/alice/vecmath/ops.py", "def dot", "# changed\ndef dot")
    _, store = _grade(vec, tmp_path / "rec")
    assert store.ran == {"__import__": 1, "dot": 4, "normalize": 4}
    _edit(vec / "solution/vecmath/ops.py", "def dot", "# changed\ndef dot")
    _, store = _grade(vec, tmp_path / "rec")
    assert store.ran == {"__import__": 1, "dot": 4, "normalize": 4}


def test_no_cache_runs_everything_and_agrees(vec: Path, tmp_path: Path) -> None:
    first, _ = _grade(vec, tmp_path / "rec", sub="bob")
    forced, store = _grade(vec, tmp_path / "rec", read=False, sub="bob")
    assert store.ran == {"__import__": 1, "dot": 4, "normalize": 4} and not store.replayed
    assert normalise(forced) == normalise(first)


def test_hw4_results_are_identical_with_and_without_recordings(make_submission, hw4, tmp_path: Path) -> None:
    from .conftest import mutate

    # a submission with a failing task and student output, so errors and printed text are replayed too
    sub = make_submission(code=mutate('grads["b1"] = np.sum(dX1, axis=0)', 'grads["b1"] = np.sum(dX1, axis=1)'))
    plain = grade_submission(sub, hw4, SECRET)
    store = Recordings(tmp_path / "rec")
    recorded = grade_submission(sub, hw4, SECRET, recordings=store)
    # the checks module edited (a comment): every task is judged again from the replayed probe calls
    edited_checks = tmp_path / "checks.py"
    edited_checks.write_text(hw4.checks_path.read_text() + "\n# edited\n")
    rejudge = dataclasses.replace(hw4, checks_path=edited_checks, fingerprint=hw4.fingerprint + "-edited")
    replay = Recordings(tmp_path / "rec")
    replayed = grade_submission(sub, rejudge, SECRET, recordings=replay)
    assert store.ran and not replay.ran and replay.replayed == store.ran and not replay.reused_tasks
    reused = Recordings(tmp_path / "rec")  # nothing edited: every verdict read back
    read_back = grade_submission(sub, rejudge, SECRET, recordings=reused)
    assert not reused.ran and set(reused.reused_tasks) == {t.id for t in hw4.tasks if t.grader == "checks"}
    assert normalise(plain) == normalise(recorded) == normalise(replayed) == normalise(read_back)
    assert plain.task("T7").status.value != "pass"


def test_a_notebook_run_is_replayed_with_identical_results(make_submission, hw4, tmp_path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np\nfrom cattern.neural_net import TwoLayerNet\n"
                                          "np.random.seed(0)\nbest_net = TwoLayerNet(784, 20, 10)"),
                nbformat.v4.new_code_cell('print("Test accuracy: ", 0.99)')]
    sub = make_submission(extra={"Simple_Neural_Network_Lab.ipynb": nbformat.writes(nb)})
    store = Recordings(tmp_path / "rec")
    recorded = grade_submission(sub, hw4, SECRET, recordings=store)
    assert recorded.notebook.status == "ok" and store.ran["<notebook>"] == 1
    replay = Recordings(tmp_path / "rec")
    replayed = grade_submission(sub, hw4, SECRET, recordings=replay)
    assert not replay.ran and replay.replayed["<notebook>"] == 1
    assert normalise(replayed) == normalise(recorded)
    assert replayed.notebook == recorded.notebook  # the executed notebook shown to the TA, cell by cell
    assert replayed.task("T12").status.value == "fail"  # an untrained net (T12's verdict read back)


def test_a_script_run_is_replayed_and_a_budget_stop_runs_again(tmp_path: Path) -> None:
    toy = Path(__file__).resolve().parent / "fixtures" / "toy_scripts"
    rubric = rubric_mod.load(str(toy / "rubric.toml"))
    from .test_script_mode import FIT, SPIN

    results = {}
    for name, code in (("good", FIT), ("over-budget", FIT + SPIN)):
        sub = tmp_path / name
        sub.mkdir()
        (sub / "fit.py").write_text(code)
        first = Recordings(tmp_path / "rec")
        recorded = grade_submission(sub, rubric, SECRET, recordings=first)
        again = Recordings(tmp_path / "rec")
        replayed = grade_submission(sub, rubric, SECRET, recordings=again)
        results[name] = (first, again)
        if name == "good":  # (a run stopped at its budget runs again: its CPU and wall seconds differ)
            assert normalise(replayed) == normalise(recorded) and replayed.scripts == recorded.scripts
    (first, again) = results["good"]
    assert sum(first.ran[k] for k in first.ran if k.startswith("<script:")) >= 1
    assert not [k for k in again.ran if k.startswith("<script:")]
    (first, again) = results["over-budget"]  # stopped at its CPU budget: the machine's load may decide that
    assert [k for k in again.ran if k.startswith("<script:")]
