"""`grader serve` and `grader release` without a browser: the gradebook tables, security, answer views,
keeping the static outputs in step, release, and regrading outside the server's process."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.judgement import rubric as rubric_mod
from grader.presentation.outputs import result_json_text
from grader.results import CellOutput, CellReport, ManualScore, NotebookReport, Plot, SubmissionResult
from grader.store import GRADEBOOK_FILE, Gradebook
from grader.web.answers import AnswerContext, markdown_html, render_answer
from grader.web.app import disguise
from grader.web.book import Conflict, WebBook, WebBookError
from grader.web.pages import PlotCache, _task_text, result_json_from_parts
from grader.web.serve import running

from .conftest import SECRET, SOLUTION, STARTER
from .webkit import hw4_result, make_gradebook

IDS = ["alice-2041", "bob-7317", "carol-5529"]
HOSTILE = ("Proof. <script>document.title='pwned'</script> <img src=x onerror=alert(1)> "
           "[click](javascript:alert(1)) $\\href{javascript:alert(1)}{x}$\n")


@pytest.fixture(scope="module")
def hw4_rubric() -> rubric_mod.Rubric:
    return rubric_mod.load("hw4")


@pytest.fixture
def out(tmp_path: Path, hw4_rubric: rubric_mod.Rubric) -> Path:
    return make_gradebook(tmp_path / "reports", hw4_rubric, {IDS[0]: HOSTILE, IDS[1]: "QED", IDS[2]: None})


def _wb(out: Path, rubric: rubric_mod.Rubric) -> WebBook:
    return WebBook(Gradebook(out / GRADEBOOK_FILE), rubric)


# --- the gradebook ---------------------------------------------------------------------------------


def test_an_existing_gradebook_migrates_and_keeps_cli_scores(out: Path, hw4_rubric) -> None:
    with Gradebook(out / GRADEBOOK_FILE) as book:  # a score from `grader manual`, before the app existed
        book.set_manual(IDS[1], ManualScore("T4", 0.5, "step 3 is circular", "cli-ta"))
        tables = {r[0] for r in book.connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "rubric_items" not in tables
    wb = _wb(out, hw4_rubric)
    tables = {r[0] for r in wb.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"rubric_items", "manual_grade_items", "comment_bank", "pseudonyms", "web_settings"} <= tables
    grade = wb.grade(IDS[1], "T4")
    assert (grade.points, grade.note, grade.items, grade.adjustment) == (0.5, "step 3 is circular", (), -0.5)
    # and the batch's own reader still opens it (schema_version unchanged)
    assert Gradebook(out / GRADEBOOK_FILE).manual_scores(IDS[1])[0].points == 0.5


def test_a_save_based_on_a_stale_version_is_refused_even_after_grader_manual(out: Path, hw4_rubric) -> None:
    wb = _wb(out, hw4_rubric)
    first = wb.save_grade(IDS[0], "T4", [], -0.25, "", "ta-a", 0)
    assert first.points == 0.75
    result = CliRunner().invoke(main, ["manual", str(out), IDS[0], "T4", "0.5", "--by", "cli-ta"])
    assert result.exit_code == 0, result.output
    with pytest.raises(Conflict) as conflict:
        wb.save_grade(IDS[0], "T4", [], 0.0, "", "ta-a", first.version)
    assert conflict.value.current.graded_by == "cli-ta" and conflict.value.current.points == 0.5
    assert [g.graded_by for g in wb.history(IDS[0], "T4")] == ["cli-ta", "ta-a"]


def test_item_edits_rescore_only_grades_in_force_that_apply_the_item(out: Path, hw4_rubric) -> None:
    wb = _wb(out, hw4_rubric)
    minus = wb.add_item("T4", "the j ≠ i term is missing", -0.5, "ta")
    other = wb.add_item("T4", "no justification of Σ y = 1", -0.25, "ta")
    a = wb.save_grade(IDS[0], "T4", [minus.id, other.id], 0.0, "careful", "ta", 0)
    wb.save_grade(IDS[1], "T4", [minus.id], 0.0, "", "ta", 0)
    wb.save_grade(IDS[1], "T4", [], 0.0, "", "ta", wb.grade(IDS[1], "T4").version)  # no longer has it
    assert a.points == 0.25
    item, affected = wb.edit_item(minus.id, "the j ≠ i term is missing", -0.75, "editor", minus.version)
    assert affected == [IDS[0]] and item.version == 2
    grade = wb.grade(IDS[0], "T4")
    assert (grade.points, grade.graded_by, grade.note) == (0.0, "editor", "careful")
    assert grade.comment == "−0.75: the j ≠ i term is missing; −0.25: no justification of Σ y = 1; careful"
    assert wb.grade(IDS[1], "T4").points == 1.0
    with pytest.raises(Conflict):  # an edit based on the old version
        wb.edit_item(minus.id, "x", -0.1, "late", minus.version)
    _, affected = wb.edit_item(minus.id, "", 0, "editor", 2, delete=True)
    assert affected == [IDS[0]] and wb.grade(IDS[0], "T4").points == 0.75
    with pytest.raises(WebBookError):
        wb.add_item("T4", "too much", -2, "ta")  # outside −max..max


def test_positive_scoring_starts_from_zero(out: Path, hw4_rubric) -> None:
    wb = _wb(out, hw4_rubric)
    wb.set_setting("scoring:hw4:T4", "positive", "ta")
    plus = wb.add_item("T4", "correct quotient rule", 0.5, "ta")
    assert wb.save_grade(IDS[0], "T4", [plus.id], 0.0, "", "ta", 0).points == 0.5


def test_pseudonyms_are_stable_and_distinct(out: Path, hw4_rubric) -> None:
    first = _wb(out, hw4_rubric).pseudonyms()
    again = _wb(out, hw4_rubric).pseudonyms()
    assert first == again and len(set(first.values())) == 3
    assert not any(sub in name for sub in IDS for name in first.values())


def test_disguise_replaces_the_id_in_every_string(hw4_rubric) -> None:
    result = hw4_result("alice-2041", hw4_rubric, note="wrapped")
    assert "alice-2041" in json.dumps(result.to_json())
    hidden = disguise(result, "alice-2041", "amber-otter")
    text = json.dumps(hidden.to_json())
    assert "alice-2041" not in text and "amber-otter" in text and hidden.submission == "amber-otter"


# --- security ---------------------------------------------------------------------------------------


def test_the_server_wants_its_token_host_and_csrf_token(out: Path, hw4_rubric) -> None:
    with running(out, hw4_rubric, by="ta") as served:
        base = served.base
        assert served.url.startswith("http://127.0.0.1:") and "token=" in served.url
        assert httpx.get(base + "/").status_code == 403
        assert httpx.get(base + "/static/app.js").status_code == 403
        assert httpx.get(base + "/?token=wrong").status_code == 403
        assert httpx.get(base + "/class/index.html", headers={"Host": f"evil.example:{served.app.port}"},
                         cookies={f"grader_token_{served.app.port}": served.app.keys.token}).status_code == 403
        with httpx.Client(base_url=base) as browser:
            first = browser.get(served.url.replace(base, ""))
            assert first.status_code == 303 and "token" not in first.headers["location"]
            cookie = first.headers["set-cookie"]
            assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
            page = browser.get("/class/index.html")
            assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
            write = {"description": "x", "points": -0.5}
            assert browser.post("/api/items/T4", json=write).status_code == 403  # no CSRF token
            assert browser.post("/api/items/T4", json=write, headers={"X-CSRF-Token": "guess"}).status_code == 403
            csrf = {"X-CSRF-Token": served.app.keys.csrf}
            assert browser.post("/api/items/T4", json=write, headers={**csrf, "Origin": "http://evil.example"}
                                ).status_code == 403
            assert browser.post("/api/items/T4", json=write, headers=csrf).status_code == 200


def test_every_student_string_is_escaped_on_the_queue_page(out: Path, hw4_rubric) -> None:
    with running(out, hw4_rubric, by="ta") as served, httpx.Client(base_url=served.base) as client:
        client.get(served.url.replace(served.base, ""))
        page = client.get(f"/grade/T4/{IDS[0]}").text
    assert "<script>document.title" not in page and "<img src=x" not in page
    assert "&lt;script&gt;document.title=" in page
    assert 'href="javascript:' not in page
    html = markdown_html(HOSTILE)
    assert "<script>" not in html and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert '<span class="math inline">\\href{javascript:alert(1)}{x}</span>' in html  # KaTeX runs with trust off


# --- answer views ------------------------------------------------------------------------------------


def _png() -> bytes:
    return base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKm"
                            "MIQAAAABJRU5ErkJggg==")


def test_an_answer_is_shown_by_the_first_view_that_applies(tmp_path: Path, hw4_rubric) -> None:
    result = hw4_result("dora-1", hw4_rubric, proof="We have $a^2$.")
    spec = next(t for t in hw4_rubric.tasks if t.id == "T4")
    ctx = AnswerContext(result, result.task("T4"), spec, tmp_path / "dora-1", "/answer/dora-1/T4/")
    kind, html = render_answer(ctx)
    assert kind == "text" and '<span class="math inline">a^2</span>' in html
    pages = tmp_path / "dora-1" / "pages" / "T4"
    pages.mkdir(parents=True)
    (pages / "page-001.png").write_bytes(_png())
    (pages / "page-002.png").write_bytes(b"not a png")  # never served
    kind, html = render_answer(ctx)
    assert kind == "pages" and html.count("<img") == 1 and 'src="/answer/dora-1/T4/1"' in html
    notebook = NotebookReport("ok", "ran", 1.0, (CellReport(1, "print('<b>hi</b>')", "ok",
                                                            (CellOutput("text", "<b>hi</b>"),)),))
    nb_spec = type(spec)(**{**spec.__dict__, "needs": ("notebook",)})
    nb_result = type(result)(**{**result.__dict__, "notebook": notebook, "tasks": result.tasks})
    nb_task = type(result.task("T4"))(**{**result.task("T4").__dict__, "submitted_text": None})
    kind, html = render_answer(AnswerContext(nb_result, nb_task, nb_spec, tmp_path / "none", "/x/"))
    assert kind == "notebook" and "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>hi" not in html


# --- keeping the static outputs in step ------------------------------------------------------------


def test_result_json_from_cached_parts_is_byte_identical(hw4_rubric) -> None:
    result = hw4_result("erin-4", hw4_rubric)
    tasks = tuple(t if t.id != "T10" else type(t)(**{**t.__dict__, "plots": (
        Plot("line", "loss", {"series": {"loss": [3.0, 2.5, 1.0e-5]}}),)}) for t in result.tasks)
    result = type(result)(**{**result.__dict__, "tasks": tasks, "notes": ("ünïcode \"quoted\"\nline",)})
    assert result_json_from_parts(result, _task_text) == result_json_text(result)
    empty = type(result)(**{**result.__dict__, "tasks": ()})
    assert result_json_from_parts(empty, _task_text) == result_json_text(empty)


def test_plots_are_reused_from_the_report_drawn_from_the_same_result(tmp_path: Path, hw4_rubric) -> None:
    from grader.presentation.outputs import render_files, write_files

    result = hw4_result("finn-5", hw4_rubric)
    plot = Plot("line", "loss", {"series": {"loss": [3.0, 2.0, 1.0]}, "xlabel": "it", "ylabel": "loss"})
    result = type(result)(**{**result.__dict__, "tasks": tuple(
        type(t)(**{**t.__dict__, "plots": (plot,)}) if t.id == "T10" else t for t in result.tasks)})
    write_files(tmp_path / "finn-5", render_files(result))
    cache = PlotCache(tmp_path)
    assert cache.drawer(result)(plot) is not None and cache.drawn == 0  # taken from report.html
    other = type(result)(**{**result.__dict__, "content_hash": "another run"})
    assert PlotCache(tmp_path).drawer(other)(plot) is not None  # a report of another run is not trusted
    fresh = PlotCache(tmp_path)
    fresh.drawer(other)(plot)
    assert fresh.drawn == 1


# --- release ---------------------------------------------------------------------------------------


def test_the_release_button_writes_the_same_pages(out: Path, hw4_rubric) -> None:
    with running(out, hw4_rubric, by="ta") as served, httpx.Client(base_url=served.base) as client:
        client.get(served.url.replace(served.base, ""))
        done = client.post("/api/release", headers={"X-CSRF-Token": served.app.keys.csrf}).json()
    assert done["written"] == 3 and done["ungraded"] == 2 and Path(done["folder"]) == out / "release"
    assert sorted(p.name for p in (out / "release").iterdir()) == [f"{i}.html" for i in IDS]


def test_release_writes_one_self_contained_page_per_student(out: Path, hw4_rubric) -> None:
    wb = _wb(out, hw4_rubric)
    item = wb.add_item("T4", "the j ≠ i term is missing", -0.5, "ta")
    wb.save_grade(IDS[0], "T4", [item.id], 0.0, "Look again at <j ≠ i>.", "ta", 0)
    done = CliRunner().invoke(main, ["release", str(out)])
    assert done.exit_code == 0, done.output
    assert "wrote 3 feedback page(s)" in done.output and "1 task(s) graded by hand are not scored yet" in done.output
    page = (out / "release" / f"{IDS[0]}.html").read_text()
    assert "Feedback from the course staff" in page and "the j ≠ i term is missing" in page
    assert "Look again at &lt;j ≠ i&gt;." in page and "0.5 / 1" in page
    assert "<script" not in page and "<link" not in page and "http://" not in page and "https://" not in page
    assert "hidden reg=0.25" not in page and "hidden check 1" in page  # the student view
    assert "not scored yet" in (out / "release" / f"{IDS[1]}.html").read_text()


# --- regrade: in a worker process, never in the server's -------------------------------------------


def test_a_regrade_runs_in_a_worker_process(tmp_path: Path, hw4_rubric, monkeypatch) -> None:
    sub = tmp_path / "subs" / "gina-6"
    (sub / "cattern").mkdir(parents=True)
    shutil.copy(SOLUTION / "cattern/neural_net.py", sub / "cattern/neural_net.py")
    shutil.copy(STARTER / "cattern/__init__.py", sub / "cattern/__init__.py")
    shutil.copy(SOLUTION / "answers.md", sub / "answers.md")
    out = tmp_path / "reports"
    with Gradebook(out / GRADEBOOK_FILE) as book:
        book.record(hw4_result("gina-6", hw4_rubric), str(sub))
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET)
    rubric = hw4_rubric.without_param("mnist_training")

    def in_process(*args: object, **kwargs: object) -> SubmissionResult:
        raise AssertionError("grading ran in the server's process")

    monkeypatch.setattr("grader.executors.grade_one", in_process)
    monkeypatch.setattr("grader.executors.grade_submission", in_process)
    with running(out, rubric, by="ta", secret_file=secret) as served, httpx.Client(base_url=served.base) as client:
        client.get(served.url.replace(served.base, ""))
        started = client.post("/api/regrade/gina-6", headers={"X-CSRF-Token": served.app.keys.csrf}).json()
        assert client.get(started["status_url"]).json()["state"] == "running"
        job = served.app.jobs[started["job"]]
        job.thread.join(300)
        assert client.get(started["status_url"]).json() == {"state": "done", "message": job.message}
        assert job.state == "done", job.message
        report = client.get("/class/gina-6/report.html").text
    with Gradebook(out / GRADEBOOK_FILE) as book:
        assert book.run_count("gina-6", "hw4") == 2
        result = book.latest_result("gina-6", "hw4")
    assert result.task("T5").status.value == "pass" and result.task("T4").submitted_text
    assert "2 runs in the gradebook" in report



# --- the helper process ------------------------------------------------------------------------------


def test_the_helper_reports_a_failed_job_and_survives_being_killed(tmp_path: Path, hw4_rubric) -> None:
    from grader.web.worker import Worker, WorkerError

    worker = Worker("test")
    try:
        (tmp_path / "a-file").write_text("")
        with pytest.raises(WorkerError, match="NotADirectoryError|FileExistsError"):
            worker.call("exports", tmp_path / "a-file" / "reports", hw4_rubric, [])
        first = worker._proc.pid
        worker._proc.kill()
        worker._proc.wait()
        out = make_gradebook(tmp_path / "reports", hw4_rubric, {"hana-8": "QED"})
        (out / "grades.csv").unlink()
        worker.call("exports", out, hw4_rubric, ["hana-8"])  # started again
        assert worker._proc.pid != first and (out / "grades.csv").is_file()
    finally:
        worker.close()
    assert worker._proc is None


def test_the_server_answers_without_waiting_for_nagle(out: Path, hw4_rubric) -> None:
    """Every accepted connection has TCP_NODELAY. Without it (a listening socket whose proto was 0, so
    asyncio left Nagle on), a response's body waited for the browser's delayed ACK: a save took 44 ms
    instead of 2 back to back."""
    import socket

    with running(out, hw4_rubric, by="ta") as served, httpx.Client(base_url=served.base) as client:
        client.get(served.url.replace(served.base, ""))
        connections = list(served.server.server_state.connections)
        assert connections, "the client's connection is open (keep-alive)"
        for protocol in connections:
            sock = protocol.transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
