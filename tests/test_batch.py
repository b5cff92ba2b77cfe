"""Batch grading at scale: the SQLite gradebook, resume after `kill -9`, manual scores, the Dask path.

These use the example assignment (examples/vec), whose submissions grade in a
fraction of a second, so a batch of several submissions stays cheap. Nothing here measures time:
the kill is triggered by what the gradebook holds, not by a clock.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import xmlschema
from click.testing import CliRunner

from grader import cli
from grader.judgement import rubric as rubric_mod
from grader.pipeline import grade_batch
from grader.store import GRADEBOOK_FILE, Gradebook

TOY = Path(__file__).resolve().parents[1] / "examples" / "vec"
JUNIT_XSD = Path(__file__).resolve().parent / "fixtures" / "junit-10.xsd"
GOOD = "import math\n\ndef dot(a, b):\n    return sum(x * y for x, y in zip(a, b))\n\n" \
       "def normalize(v):\n    n = math.sqrt(dot(v, v))\n    return [x / n for x in v]\n"
WRONG_DOT = GOOD.replace("return sum(x * y", "return 1 + sum(x * y")
ANSWERS = "## T1\ndot = 32\n\n## T4\nno unit vector has length 0\n"
# hangs at import until its time limit: the batch is surely still busy with it when killed
SLOW = "import time\ntime.sleep(60)\n" + GOOD  # every call times out: slow, yet always the same verdict
VOLATILE = {"graded_at", "duration_s"}


def toy_rubric() -> rubric_mod.Rubric:
    return rubric_mod.load(str(TOY))


def make_corpus(root: Path, slow: bool = False) -> Path:
    subs = {f"s{i:02d}": (GOOD if i % 3 else WRONG_DOT) + f"# copy {i}\n" for i in range(6)}
    if slow:
        subs["zz-slow"] = SLOW
    for name, code in subs.items():
        (root / name / "vecmath").mkdir(parents=True)
        (root / name / "vecmath/ops.py").write_text(code)
        (root / name / "answers.md").write_text(ANSWERS)
    return root


def stable(data: dict) -> dict:
    """A result as JSON without the fields that say when and how long, which differ between two runs."""
    return {k: v for k, v in data.items() if k not in VOLATILE}


def results_on_disk(out: Path) -> dict[str, dict]:
    return {p.parent.name: stable(json.loads(p.read_text())) for p in sorted(out.glob("*/result.json"))}


def assert_same_outputs(out: Path, clean: Path) -> None:
    """Every submission's result.json and the class CSV as the clean reference run wrote them."""
    assert results_on_disk(out) == results_on_disk(clean)
    assert (out / "grades.csv").read_text() == (clean / "grades.csv").read_text()


def assert_rerun_grades_only_the_rest(subs: Path, out: Path, secret: Path, clean: Path, fast: set[str]) -> None:
    """After a batch was stopped with `fast` committed: the same command grades only zz-slow, each
    submission has one run, and the outputs equal a clean run's."""
    resumed = grade_batch(subs, out, toy_rubric(), workers=2, secret_file=secret)
    assert resumed.graded == ["zz-slow"] and sorted(resumed.skipped) == sorted(fast)
    with Gradebook(out / GRADEBOOK_FILE) as book:
        assert all(book.run_count(s, "vec") == 1 for s in fast | {"zz-slow"})
    assert_same_outputs(out, clean)


def committed(out: Path) -> set[str]:
    path = out / GRADEBOOK_FILE
    if not path.is_file():
        return set()
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return {row[0] for row in db.execute("SELECT submission FROM runs")}
    except sqlite3.OperationalError:  # the tables are not created yet
        return set()


RUNNER = textwrap.dedent("""\
    import sys
    from pathlib import Path
    from grader.judgement import rubric
    from grader.pipeline import grade_batch
    grade_batch(Path(sys.argv[1]), Path(sys.argv[2]), rubric.load(sys.argv[3]), workers=1,
                secret_file=Path(sys.argv[4]))
    """)


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The corpus graded once without interruption: what every other path must reproduce."""
    base = tmp_path_factory.mktemp("batch")
    subs = make_corpus(base / "subs", slow=True)
    secret = base / "secret"
    grade_batch(subs, base / "clean", toy_rubric(), workers=2, secret_file=secret)
    return subs, secret, base / "clean"


def test_gradebook_records_each_submission_with_its_run_and_tasks(reference_run) -> None:
    subs, _, out = reference_run
    with Gradebook(out / GRADEBOOK_FILE) as book:
        assert book.submissions("vec") == sorted(p.name for p in subs.iterdir())
        run = book.latest_run("s00", "vec")
        assert run is not None and run.grading_status == "complete" and len(run.content_hash) == 64
        light = {r.submission: r for r in book.summaries("vec")}
    assert light["s00"].task("T2").status.value == "fail"  # WRONG_DOT
    assert light["s01"].task("T2").status.value == "pass"
    assert light["s01"].task("T4").points is None  # manual: no points until a TA scores it
    db = sqlite3.connect(out / GRADEBOOK_FILE)
    columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    assert {"rubric_version", "grader_version", "graded_at", "sandbox", "content_hash"} <= columns
    assert db.execute("SELECT count(*) FROM task_results").fetchone()[0] == 7 * 5
    # similarity: each worker fingerprinted its submission into the gradebook, and the batch compared them
    hashes = {row[0] for row in db.execute("SELECT content_hash FROM runs")}
    cached = {row[0] for row in db.execute("SELECT content_hash FROM code_fingerprints")}
    assert cached == hashes
    rows = (out / "similarity.csv").read_text().splitlines()
    assert rows[0] == "a,b,score" and "s01,s02,1.0000" in rows  # the same code with another comment
    assert 'id="similarity"' in (out / "index.html").read_text()


def test_rerun_skips_unchanged_and_regrades_a_changed_submission(reference_run, tmp_path: Path) -> None:
    subs, secret, _ = reference_run
    out = tmp_path / "out"
    fast = make_corpus(tmp_path / "subs")
    grade_batch(fast, out, toy_rubric(), workers=2, secret_file=secret)
    (fast / "s01/vecmath/ops.py").write_text(WRONG_DOT)
    again = grade_batch(fast, out, toy_rubric(), workers=2, secret_file=secret)
    assert again.graded == ["s01"] and len(again.skipped) == 5
    with Gradebook(out / GRADEBOOK_FILE) as book:
        assert book.run_count("s01", "vec") == 2 and book.run_count("s02", "vec") == 1
        assert book.latest_result("s01", "vec").task("T2").status.value == "fail"
    forced = grade_batch(fast, out, toy_rubric(), workers=2, secret_file=secret, force=True)
    assert len(forced.graded) == 6 and forced.skipped == []


def test_a_changed_rubric_or_grader_version_regrades_everything(reference_run, tmp_path: Path, monkeypatch) -> None:
    subs, secret, _ = reference_run
    out = tmp_path / "out"
    fast = make_corpus(tmp_path / "subs")
    grade_batch(fast, out, toy_rubric(), workers=2, secret_file=secret)
    changed = toy_rubric()
    changed.fingerprint = "0" * 16  # what editing rubric.toml or checks.py does
    again = grade_batch(fast, out, changed, workers=2, secret_file=secret)
    assert len(again.graded) == 6 and again.skipped == []
    monkeypatch.setattr("grader.pipeline.__version__", "99.0")  # a newer grader
    newer = grade_batch(fast, out, changed, workers=2, secret_file=secret)
    assert len(newer.graded) == 6 and newer.skipped == []


def test_kill_9_mid_batch_then_rerun_loses_nothing_and_grades_nothing_twice(reference_run, tmp_path: Path) -> None:
    subs, secret, clean = reference_run
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(subs), str(out), str(TOY), str(secret)],
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    fast = {p.name for p in subs.iterdir()} - {"zz-slow"}
    deadline = time.monotonic() + 120  # a guard against a hang, not a measurement
    while committed(out) != fast:
        assert proc.poll() is None, f"the batch ended before it could be killed: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "the fast submissions were never committed"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the grader and its workers, mid-way through zz-slow
    proc.wait()
    assert committed(out) == fast

    assert_rerun_grades_only_the_rest(subs, out, secret, clean, fast)


def test_manual_score_survives_a_forced_regrade_and_shows_everywhere(reference_run, tmp_path: Path) -> None:
    _, secret, _ = reference_run
    subs = make_corpus(tmp_path / "subs")
    out = tmp_path / "out"
    grade_batch(subs, out, toy_rubric(), workers=2, secret_file=secret)
    runner = CliRunner()
    done = runner.invoke(cli.main, ["manual", str(out), "s01", "T4", "0.5", "-m", "half the argument",
                                    "--by", "ta-alice", "--rubric", str(TOY)])
    assert done.exit_code == 0, done.output
    forced = runner.invoke(cli.main, ["grade", str(subs), "--out", str(out), "--rubric", str(TOY), "--force",
                                      "--workers", "2", "--secret-file", str(secret)])
    assert forced.exit_code == 0, forced.output
    assert "6 graded" in forced.output

    rows = {r["submission"]: r for r in csv.DictReader((out / "grades.csv").open())}
    assert rows["s01"]["T4"] == "0.5" and rows["s02"]["T4"] == ""
    assert float(rows["s01"]["score"]) == float(rows["s02"]["score"]) + 0.5
    index = (out / "index.html").read_text()
    assert "s01" in index and "graded" in index and "ta-alice" in index
    report = (out / "s01/report.html").read_text()
    assert "ta-alice" in report and "half the argument" in report
    result = json.loads((out / "s01/result.json").read_text())
    t4 = next(t for t in result["tasks"] if t["id"] == "T4")
    assert t4["status"] == "graded" and t4["points"] == 0.5 and t4["manual"]["graded_by"] == "ta-alice"
    gradescope = json.loads((out / "s01/gradescope.json").read_text())
    g4 = next(t for t in gradescope["tests"] if t["number"] == "T4")
    assert g4["score"] == 0.5 and g4["max_score"] == 1 and "half the argument" in g4["output"]
    junit = (out / "junit.xml").read_text()
    xmlschema.XMLSchema(JUNIT_XSD).validate(out / "junit.xml")
    assert 'name="T4 Why normalize(0) is undefined"' in junit and "ta-alice" in junit
    with Gradebook(out / GRADEBOOK_FILE) as book:
        assert book.run_count("s01", "vec") == 2  # regraded, yet the score laid over it is still there
        assert book.latest_result("s01", "vec").task("T4").status.value == "manual"  # the run itself is untouched


def test_manual_csv_import_is_all_or_nothing(reference_run, tmp_path: Path) -> None:
    _, secret, _ = reference_run
    subs = make_corpus(tmp_path / "subs")
    out = tmp_path / "out"
    grade_batch(subs, out, toy_rubric(), workers=2, secret_file=secret)
    runner = CliRunner()
    bad = tmp_path / "bad.csv"
    bad.write_text("submission,task,points,comment\ns01,T4,1,ok\nnobody,T4,1,\ns02,T4,3,too many\ns03,T9,1,\n")
    result = runner.invoke(cli.main, ["manual", str(out), "--import", str(bad), "--rubric", str(TOY)])
    assert result.exit_code == 2
    assert "line 3: no graded submission 'nobody'" in result.output
    assert "line 4: T4: 3 points is outside 0..1" in result.output
    assert "line 5: unknown task 'T9'" in result.output
    with Gradebook(out / GRADEBOOK_FILE) as book:
        assert book.manual_scores("s01") == []  # the good line was not saved either

    good = tmp_path / "good.csv"
    good.write_text("submission,task,points,comment,graded_by\ns01,T4,1,clear,bob\ns02,T4,0,,\n")
    result = runner.invoke(cli.main, ["manual", str(out), "--import", str(good), "--rubric", str(TOY),
                                      "--by", "carol"])
    assert result.exit_code == 0, result.output
    with Gradebook(out / GRADEBOOK_FILE) as book:
        assert [(s.points, s.graded_by) for s in book.manual_scores("s01")] == [(1.0, "bob")]
        assert [(s.points, s.graded_by) for s in book.manual_scores("s02")] == [(0.0, "carol")]
    rows = {r["submission"]: r for r in csv.DictReader((out / "grades.csv").open())}
    assert rows["s01"]["T4"] == "1" and rows["s02"]["T4"] == "0" and rows["s03"]["T4"] == ""


def test_manual_refuses_unknown_submission_and_out_of_range_points(reference_run, tmp_path: Path) -> None:
    _, secret, _ = reference_run
    subs = make_corpus(tmp_path / "subs")
    out = tmp_path / "out"
    grade_batch(subs, out, toy_rubric(), workers=1, secret_file=secret)
    runner = CliRunner()
    for args, message in ((["nobody", "T4", "1"], "no graded submission 'nobody'"),
                          (["s01", "T4", "2"], "outside 0..1"),
                          (["s01", "T7", "1"], "unknown task 'T7'")):
        result = runner.invoke(cli.main, ["manual", str(out), *args, "--rubric", str(TOY)])
        assert result.exit_code == 2 and message in result.output, result.output
    result = runner.invoke(cli.main, ["manual", str(tmp_path), "s01", "T4", "1", "--rubric", str(TOY)])
    assert result.exit_code == 2 and "grade the submissions into it first" in result.output


def test_a_later_manual_score_replaces_the_earlier_and_history_is_kept(reference_run, tmp_path: Path) -> None:
    _, secret, _ = reference_run
    subs = make_corpus(tmp_path / "subs")
    out = tmp_path / "out"
    grade_batch(subs, out, toy_rubric(), workers=1, secret_file=secret)
    runner = CliRunner()
    for points in ("1", "0.25"):
        assert runner.invoke(cli.main, ["manual", str(out), "s04", "T4", points, "--rubric", str(TOY)]).exit_code == 0
    with Gradebook(out / GRADEBOOK_FILE) as book:
        assert [s.points for s in book.manual_scores("s04")] == [0.25]
        assert [s.points for s in book.manual_history("s04")] == [1.0, 0.25]


def test_dask_local_cluster_gives_the_same_results_as_local_workers(reference_run, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    subs, secret, clean = reference_run
    out = tmp_path / "dask"
    summary = grade_batch(subs, out, toy_rubric(), workers=2, secret_file=secret, dask="local")
    assert sorted(summary.graded) == sorted(p.name for p in subs.iterdir())
    assert_same_outputs(out, clean)


def test_progress_is_plain_lines_when_not_on_a_terminal(reference_run, tmp_path: Path) -> None:
    _, secret, _ = reference_run
    subs = make_corpus(tmp_path / "subs")
    result = CliRunner().invoke(cli.main, ["grade", str(subs), "--out", str(tmp_path / "out"), "--rubric", str(TOY),
                                           "--workers", "2", "--secret-file", str(secret)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "grading 6 submission(s) with rubric vec"
    assert sum(line.startswith("graded     s0") for line in lines) == 6
    assert "\x1b[" not in result.output  # no bar, no colour codes in a CI log


def test_a_worker_that_dies_costs_only_its_own_submission(tmp_path: Path) -> None:
    """A grader bug that kills a worker process (here: the rubric's own checks call os._exit on one
    submission) breaks the whole process pool; every other submission is still graded, and the
    culprit gets a result that says the grader failed, never a 0."""
    import shutil

    rubric_dir = shutil.copytree(TOY, tmp_path / "crashy")
    checks = rubric_dir / "checks.py"
    checks.write_text(checks.read_text().replace(
        'def dot(ctx: TaskContext) -> Iterator[CheckResult]:\n',
        'def dot(ctx: TaskContext) -> Iterator[CheckResult]:\n'
        '    if "KILL-THE-WORKER" in ctx.submitted_file("vecmath/ops.py").read_text():\n'
        '        import os\n'
        '        os._exit(9)\n'))
    subs = make_corpus(tmp_path / "subs")
    (subs / "s02/vecmath/ops.py").write_text(GOOD + "# KILL-THE-WORKER\n")
    out = tmp_path / "out"
    summary = grade_batch(subs, out, rubric_mod.load(str(rubric_dir)), workers=2, secret_file=tmp_path / "secret")
    assert sorted(summary.graded) == [f"s{i:02d}" for i in range(6)]
    results = {r.submission: r for r in summary.results}
    assert results["s02"].grader_failures == ("T1", "T2", "T3", "T4", "T5")
    assert "worker process died" in results["s02"].task("T2").error.message
    assert all(not results[s].grader_failures for s in results if s != "s02")
    assert results["s01"].task("T2").status.value == "pass"
    rows = {r["submission"]: r for r in csv.DictReader((out / "grades.csv").open())}
    assert rows["s02"]["T2"] == "" and rows["s02"]["grading_status"].startswith("grader-error")


def test_notebook_submissions_are_started_first(tmp_path: Path) -> None:
    """Longest first: a batch must not end with one worker on a long notebook while the others idle."""
    import zipfile

    from grader.executors import GradeJob
    from grader.pipeline import longest_first

    hw4 = rubric_mod.load("hw4")
    notebook = hw4.files["notebook"]
    plain = tmp_path / "a-plain"
    (plain / "cattern").mkdir(parents=True)
    nested = tmp_path / "b-nested"
    (nested / "hw4").mkdir(parents=True)
    (nested / "hw4" / notebook).write_text("{}")
    with zipfile.ZipFile(tmp_path / "c-zipped.zip", "w") as archive:
        archive.writestr(f"hw4/{notebook}", "{}")
    (tmp_path / "d-broken.zip").write_bytes(b"PK\x03\x04 not really")
    jobs = [GradeJob(p.name, str(p), hw4, b"s") for p in sorted(tmp_path.iterdir())]
    assert [j.sub_id for j in longest_first(jobs, hw4)] == ["b-nested", "c-zipped.zip", "a-plain", "d-broken.zip"]
    assert [j.sub_id for j in longest_first(jobs, toy_rubric())] == [j.sub_id for j in jobs]  # no notebook: as found


CLI_RUNNER = "import sys; from grader.cli import main; sys.argv[0] = 'grader'; main()"


@pytest.mark.parametrize("how", ["SIGTERM to the grader", "Ctrl-C to the process group"])
def test_sigterm_or_ctrl_c_mid_batch_stops_cleanly_and_the_rerun_loses_nothing(reference_run, tmp_path: Path,
                                                                              how: str) -> None:
    """SIGTERM (what `kill`, `timeout` and schedulers send the grader) and Ctrl-C (the terminal sends
    SIGINT to the whole foreground group, workers included) stop the batch: a message, the exit code
    128 + signal, no worker left behind, and a rerun that grades only what was not saved."""
    subs, secret, clean = reference_run
    out = tmp_path / "out"
    cmd = [sys.executable, "-c", CLI_RUNNER, "grade", str(subs), "--out", str(out), "--rubric", str(TOY),
           "--secret-file", str(secret), "--workers", "2"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    fast = {p.name for p in subs.iterdir()} - {"zz-slow"}
    deadline = time.monotonic() + 120  # a guard against a hang, not a measurement
    while committed(out) != fast:
        assert proc.poll() is None, f"the batch ended before it could be stopped: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "the fast submissions were never committed"
        time.sleep(0.05)
    sig = signal.SIGTERM if how.startswith("SIGTERM") else signal.SIGINT
    if how.startswith("SIGTERM"):
        os.kill(proc.pid, sig)
    else:
        os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err
    assert f"stopped by {sig.name}: 6 submission(s) graded in this run are saved" in err
    assert "Run the same command again" in err and "Traceback" not in err
    left = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert left == [], "a worker outlived the grader"
    assert committed(out) == fast

    assert_rerun_grades_only_the_rest(subs, out, secret, clean, fast)


def test_a_full_disk_stops_the_batch_with_a_message_and_the_rerun_resumes(reference_run, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC while a submission's files are written (simulated: the writer raises it on the third
    submission): the batch stops at once, says what to do, and keeps what it had committed; once
    there is space again, the same command grades only the rest and the results are the same."""
    import errno

    from grader import pipeline
    from grader.workflows.batch_stops import BatchStopped

    subs, secret, clean = reference_run
    fast = tmp_path / "subs"
    shutil.copytree(subs, fast, ignore=shutil.ignore_patterns("zz-slow"))
    out = tmp_path / "out"
    real_write = pipeline.write_files
    calls: list[Path] = []

    def filling_up(folder: Path, files: dict[str, bytes]) -> None:
        calls.append(folder)
        if len(calls) >= 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(folder / "report.html"))
        real_write(folder, files)

    monkeypatch.setattr(pipeline, "write_files", filling_up)
    result = CliRunner().invoke(cli.main, ["grade", str(fast), "--out", str(out), "--rubric", str(TOY),
                                           "--secret-file", str(secret), "--workers", "1"])
    assert result.exit_code == cli.ExitCode.GRADER_FAILURE, result.output
    text = " ".join(result.output.split())
    assert f"stopped: the disk holding {out} is full" in text and "No space left on device" in text
    assert "2 submission(s) graded in this run are saved in the gradebook" in text
    assert "run the same command again" in text
    saved = committed(out)
    assert len(saved) == 2

    monkeypatch.setattr(pipeline, "write_files", real_write)  # space again
    resumed = grade_batch(fast, out, toy_rubric(), workers=2, secret_file=secret)
    assert sorted(resumed.skipped) == sorted(saved) and len(resumed.graded) == 4
    want = {k: v for k, v in results_on_disk(clean).items() if k != "zz-slow"}
    assert results_on_disk(out) == want

    # the gradebook itself filling up (SQLite says so in its own words) stops the batch the same way
    def full_book(self, result, source):  # noqa: ANN001
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Gradebook, "record", full_book)
    with pytest.raises(BatchStopped, match="is full"):
        grade_batch(fast, tmp_path / "out2", toy_rubric(), workers=1, secret_file=secret)
