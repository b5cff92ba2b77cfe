"""The web application behind `grader serve`: grading by question, rubric items, live pages, release, regrade.

Pages are drawn on request from the gradebook, so every TA sees the current state; the class
overview and the reports come from the same templates as the static pages (with the app's bar
on top). Writes go through WebBook (a version check per score); the submission's own files and the
class exports are redrawn after the response, in the background (pages.Exporter). Student code
never runs here: a regrade is sent to a worker process.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from grader.judgement.manual import apply_manual
from grader.judgement.rubric import Rubric
from grader.presentation.html import render_index, render_report
from grader.results import Status, SubmissionResult
from grader.store import GRADEBOOK_FILE, Gradebook
from grader.web.answers import AnswerContext, answer_pages, env, render_answer
from grader.web.book import SCORING_NEGATIVE, SCORING_POSITIVE, Conflict, Grade, WebBook, WebBookError
from grader.web.pages import Exporter, Redrawer
from grader.web.security import CSRF_HEADER, META_CSP, Guard, Secrets

STATIC = Path(__file__).resolve().parent / "static"
ME_COOKIE = "grader_ta_{port}"
MAX_NOTE = 5000


def disguise(result: SubmissionResult, real: str, pseudonym: str) -> SubmissionResult:
    """The result with the real id replaced by the pseudonym everywhere it appears (messages, notes, paths)."""
    text = json.dumps(result.to_json(), ensure_ascii=False)
    if len(real) >= 3:  # a one- or two-letter id would mangle ordinary words: it is replaced as the id only
        text = text.replace(json.dumps(real, ensure_ascii=False)[1:-1], json.dumps(pseudonym)[1:-1])
    return replace(SubmissionResult.from_json(json.loads(text)), submission=pseudonym)


@dataclass
class Job:
    id: str
    handle: str
    state: str = "running"  # running | done | failed
    message: str = ""
    started: float = 0.0
    thread: threading.Thread | None = None


class Names:
    """How submissions are named on pages: their ids, or pseudonyms in blind mode (in URLs too)."""

    def __init__(self, wb: WebBook) -> None:
        self.blind = wb.blind()
        self.ids = wb.submissions()
        pseudonyms = wb.pseudonyms() if self.blind else {}
        self.label = {s: pseudonyms[s] for s in self.ids} if self.blind else {s: s for s in self.ids}
        self._by_handle = {v: k for k, v in self.label.items()}
        self.order = sorted(self.ids, key=lambda s: self.label[s])

    def sub(self, handle: str) -> str:
        if handle not in self._by_handle:
            raise HTTPException(404, f"no submission {handle!r} here")
        return self._by_handle[handle]

    def shown(self, result: SubmissionResult) -> SubmissionResult:
        return disguise(result, result.submission, self.label[result.submission]) if self.blind else result


class GradingApp:
    def __init__(self, out: Path, rubric: Rubric, *, keys: Secrets | None = None, host: str = "127.0.0.1",
                 port: int = 0, default_ta: str = "TA", secret_file: Path | None = None,
                 regrade: Callable[..., SubmissionResult] | None = None) -> None:
        self.out = out
        self.rubric = rubric
        self.keys = keys or Secrets()
        self.host = host
        self.port = port
        self.default_ta = default_ta
        self.secret_file = secret_file
        self._regrade = regrade
        self._local = threading.local()
        self._books: list[Gradebook] = []
        self._books_lock = threading.Lock()
        self.redrawer = Redrawer(out, rubric)
        self.exporter = Exporter(out, rubric)
        self.jobs: dict[str, Job] = {}
        with self._open_book() as book:
            WebBook(book, rubric)  # create (migrate) the tables before the first request

    # --- plumbing ----------------------------------------------------------------------------

    def _open_book(self) -> Gradebook:
        return Gradebook(self.out / GRADEBOOK_FILE)

    def wb(self) -> WebBook:
        """This thread's connection (sqlite3 connections stay in the thread that opened them)."""
        wb = getattr(self._local, "wb", None)
        if wb is None:
            book = Gradebook(self.out / GRADEBOOK_FILE)
            with self._books_lock:
                self._books.append(book)
            wb = self._local.wb = WebBook(book, self.rubric)
        return wb

    def close(self) -> None:
        """Flush the class exports, then close every connection."""
        self.exporter.close()
        with self._books_lock:
            for book in self._books:
                try:
                    book.close()
                except Exception:  # noqa: BLE001, S110 - a connection of a finished thread; nothing to save
                    pass
            self._books.clear()

    def me(self, request: Request) -> str:
        return unquote(request.cookies.get(ME_COOKIE.format(port=self.port), "")) or self.default_ta

    def _page(self, template: str, request: Request, **context: Any) -> HTMLResponse:
        wb = self.wb()
        html = env().get_template(template).render(
            csrf=self.keys.csrf, me=self.me(request), blind=wb.blind(), manual_tasks=wb.manual_tasks(),
            exports_pending=self.exporter.pending, exports_error=self.exporter.error, rubric=self.rubric,
            **context)
        return HTMLResponse(html)

    def chrome(self, request: Request, here: str, extra: str = "") -> dict[str, Markup]:
        """The app's bar and scripts around a page drawn by the static pages' templates."""
        wb = self.wb()
        bar = env().get_template("_bar.html.j2").render(
            me=self.me(request), blind=wb.blind(), manual_tasks=wb.manual_tasks(), here=here,
            exports_pending=self.exporter.pending, exports_error=self.exporter.error)
        head = Markup(f'<meta name="csrf-token" content="{self.keys.csrf}">'
                      '<link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script>')
        return {"csp": META_CSP, "head": head, "top": Markup(bar) + Markup(extra)}

    # --- grading by question -------------------------------------------------------------------

    def home(self, request: Request) -> Response:
        wb = self.wb()
        tasks = wb.manual_tasks()
        if len(tasks) == 1:
            return RedirectResponse(f"/grade/{quote(tasks[0].id)}", 303)
        names = Names(wb)
        progress = []
        for spec in tasks:
            graded = wb.grades(spec.id)
            progress.append((spec, sum(1 for s in names.ids if s in graded), len(names.ids)))
        return self._page("home.html.j2", request, progress=progress)

    def first(self, request: Request) -> Response:
        task_id = request.path_params["task"]
        wb = self.wb()
        wb.task(task_id)
        names = Names(wb)
        if not names.ids:
            raise HTTPException(404, "this gradebook has no graded submissions yet: run `grader grade` first")
        queue = self._queue(wb, names, task_id)
        target = next((q["handle"] for q in queue if q["state"] == "ungraded"), queue[0]["handle"])
        return RedirectResponse(f"/grade/{quote(task_id)}/{quote(target, safe='')}", 303)

    def _queue(self, wb: WebBook, names: Names, task_id: str) -> list[dict[str, Any]]:
        grades = wb.grades(task_id)
        states = wb.task_states(task_id)
        queue = []
        for sub in names.order:
            grade = grades.get(sub)
            status, auto_points = states.get(sub, ("absent", None))
            if grade is not None:
                state, points = "graded", grade.points
            elif status == Status.MANUAL.value:
                state, points = "ungraded", None
            else:  # nothing written (an automatic 0), or an auto-graded task: a TA may still override it
                state, points = status, auto_points
            queue.append({"handle": names.label[sub], "state": state, "points": points,
                          "by": grade.graded_by if grade else ""})
        return queue

    def grade_page(self, request: Request) -> Response:
        task_id, handle = request.path_params["task"], request.path_params["handle"]
        wb = self.wb()
        try:
            spec = wb.task(task_id)
        except WebBookError as exc:
            raise HTTPException(404, str(exc)) from None
        names = Names(wb)
        sub = names.sub(handle)
        auto = self.redrawer.result(wb.book, sub)
        if auto is None:
            raise HTTPException(404, f"no result for {handle}")
        result = names.shown(apply_manual(auto, wb.book.manual_scores(sub)))
        task = result.task(task_id)
        kind, answer = render_answer(AnswerContext(result, task, spec, self.out / sub,
                                                   f"/answer/{quote(handle, safe='')}/{quote(task_id)}/"))
        queue = self._queue(wb, names, task_id)
        at = next(i for i, q in enumerate(queue) if q["handle"] == handle)
        later = queue[at + 1:] + queue[:at]
        next_ungraded = next((q["handle"] for q in later if q["state"] == "ungraded"), None)
        grade = wb.grade(sub, task_id)
        items = wb.items(task_id)
        base = f"/grade/{quote(task_id)}/"
        state = {
            "task": task_id, "handle": handle, "max": spec.points, "start": wb.start_points(task_id),
            "scoring": wb.scoring(task_id), "items": [i.to_json() for i in items],
            "grade": grade.to_json() if grade else None,
            "save_url": f"/api/grade/{quote(task_id)}/{quote(handle, safe='')}",
            "prev": base + quote(queue[at - 1]["handle"], safe="") if at > 0 else None,
            "next": base + quote(queue[at + 1]["handle"], safe="") if at + 1 < len(queue) else None,
            "next_ungraded": base + quote(next_ungraded, safe="") if next_ungraded else None,
            "bank": wb.bank(task_id),
        }
        related = [result.task(t) for t in wb.related_tasks(task_id) if t in {x.id for x in result.tasks}]
        history = wb.history(sub, task_id)[1:6]
        return self._page("queue.html.j2", request, spec=spec, task=task, handle=handle, answer=answer,
                          answer_kind=kind, queue=queue, position=at + 1, grade=grade, items=items, state=state,
                          related=related, history=history, all_tasks=self.rubric.tasks,
                          related_ids=wb.related_tasks(task_id), scoring=wb.scoring(task_id),
                          report_url=f"/class/{quote(handle, safe='')}/report.html")

    def answer_page(self, request: Request) -> Response:
        wb = self.wb()
        sub = Names(wb).sub(request.path_params["handle"])
        pages = answer_pages(self.out / sub, request.path_params["task"])
        n = request.path_params["n"]
        if not 1 <= n <= len(pages):
            raise HTTPException(404, "no such page")
        return FileResponse(pages[n - 1], media_type="image/png")

    # --- writes ----------------------------------------------------------------------------------

    @staticmethod
    async def _json(request: Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError:
            raise HTTPException(400, "the request body must be JSON") from None
        if not isinstance(data, dict):
            raise HTTPException(400, "the request body must be a JSON object")
        return data

    def _after_score(self, sub: str) -> None:
        """One score: the answer follows the commit; the submission's files and the class exports are
        redrawn in the background. Every page the app serves is drawn from the gradebook, so a TA sees
        the score at once; redrawing the files before answering tripled a save's round trip."""
        self.exporter.changed([sub])

    async def save_grade(self, request: Request) -> Response:
        data = await self._json(request)
        return await run_in_threadpool(self._save_grade, request, data)

    def _save_grade(self, request: Request, data: dict[str, Any]) -> Response:
        task_id, handle = request.path_params["task"], request.path_params["handle"]
        wb = self.wb()
        names = Names(wb)
        sub = names.sub(handle)
        try:
            items = [int(i) for i in data.get("items", [])]
            adjustment = float(data.get("adjustment", 0.0))
            base = int(data.get("base_version", 0))
            note = str(data.get("note", ""))[:MAX_NOTE]
            grade = wb.save_grade(sub, task_id, items, adjustment, note, self.me(request), base)
        except Conflict as exc:
            return JSONResponse({"conflict": _conflict(exc.current, names.label[sub], task_id)}, 409)
        except (WebBookError, TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, 400)
        if note.strip():
            wb.bank_used(task_id, note)
        self._after_score(sub)
        return JSONResponse({"grade": grade.to_json()})

    async def add_item(self, request: Request) -> Response:
        data = await self._json(request)
        return await run_in_threadpool(self._add_item, request, data)

    def _add_item(self, request: Request, data: dict[str, Any]) -> Response:
        try:
            item = self.wb().add_item(request.path_params["task"], str(data.get("description", "")),
                                      float(data.get("points", 0)), self.me(request))
        except (WebBookError, TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({"item": item.to_json()})

    async def edit_item(self, request: Request) -> Response:
        data = await self._json(request)
        return await run_in_threadpool(self._edit_item, request, data)

    def _edit_item(self, request: Request, data: dict[str, Any]) -> Response:
        wb = self.wb()
        names = Names(wb)
        try:
            item, affected = wb.edit_item(int(request.path_params["item"]), str(data.get("description", "")),
                                          float(data.get("points", 0)), self.me(request),
                                          int(data.get("version", 0)), delete=bool(data.get("delete", False)))
        except Conflict as exc:
            assert exc.item is not None
            return JSONResponse({"conflict": {"message": "Not saved: someone changed this rubric item since you "
                                              f"loaded the page (it is now {exc.item.points:g}: "
                                              f"{exc.item.description}). Reload and edit again."}}, 409)
        except (WebBookError, TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, 400)
        self.exporter.changed(affected)  # possibly the whole class: redrawn by the helper process
        return JSONResponse({"item": item.to_json() if item else None,
                             "rescored": sorted(names.label[s] for s in affected)})

    async def setting(self, request: Request) -> Response:
        data = await self._json(request)
        return await run_in_threadpool(self._setting, request, data)

    def _setting(self, request: Request, data: dict[str, Any]) -> Response:
        wb = self.wb()
        what = request.path_params["what"]
        me = self.me(request)
        try:
            if what == "blind":
                wb.set_blind(bool(data.get("on")), me)
                self.exporter.changed()
            elif what == "related":
                wb.set_related(str(data.get("task")), [str(t) for t in data.get("tasks", [])], me)
            elif what == "scoring":
                mode = str(data.get("mode"))
                if mode not in (SCORING_NEGATIVE, SCORING_POSITIVE):
                    raise WebBookError(f"scoring is {SCORING_NEGATIVE} or {SCORING_POSITIVE}")
                task_id = str(data.get("task"))
                wb.task(task_id)
                wb.set_setting(f"scoring:{self.rubric.id}:{task_id}", mode, me)
            elif what == "bank":
                wb.bank_add(str(data.get("task")), str(data.get("text", ""))[:MAX_NOTE], me)
            else:
                raise HTTPException(404, f"no setting {what!r}")
        except WebBookError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({"ok": True})

    async def set_me(self, request: Request) -> Response:
        data = await self._json(request)
        name = " ".join(str(data.get("name", "")).split())[:80]
        if not name:
            return JSONResponse({"error": "say who you are: a name or initials"}, 400)
        response = JSONResponse({"name": name})
        response.set_cookie(ME_COOKIE.format(port=self.port), quote(name, safe=" "), samesite="strict",
                            httponly=True, max_age=365 * 86400)
        return response

    # --- live pages --------------------------------------------------------------------------------

    def overview(self, request: Request) -> Response:
        wb = self.wb()
        names = Names(wb)
        light = [names.shown(apply_manual(r, wb.book.manual_scores(r.submission)))
                 for r in wb.book.summaries(self.rubric.id)]
        titles = {t.id: t.title for t in self.rubric.tasks}
        return HTMLResponse(render_index(light, list(titles), titles, chrome=self.chrome(request, "overview")))

    def report(self, request: Request) -> Response:
        wb = self.wb()
        names = Names(wb)
        handle = request.path_params["handle"]
        sub = names.sub(handle)
        auto = self.redrawer.result(wb.book, sub)
        if auto is None:
            raise HTTPException(404, f"no result for {handle}")
        shown = names.shown(apply_manual(auto, wb.book.manual_scores(sub)))
        running = [j for j in self.jobs.values() if j.handle == handle and j.state == "running"]
        extra = env().get_template("_report_bar.html.j2").render(
            handle=handle, manual_tasks=wb.manual_tasks(), job=running[0] if running else None,
            runs=wb.book.run_count(sub, self.rubric.id))
        page = render_report(shown, chrome=self.chrome(request, "report", extra),
                             plot_png=self.redrawer.plots.drawer(auto))
        return HTMLResponse(page)

    def executed(self, request: Request) -> Response:
        sub = Names(self.wb()).sub(request.path_params["handle"])
        path = self.out / sub / "executed.ipynb"
        if not path.is_file():
            raise HTTPException(404, "no executed notebook")
        return FileResponse(path, media_type="application/x-ipynb+json", filename="executed.ipynb")

    # --- regrade and release ------------------------------------------------------------------------

    def regrade(self, request: Request) -> Response:
        from grader.web.regrade import regrade_submission

        wb = self.wb()
        handle = request.path_params["handle"]
        sub = Names(wb).sub(handle)
        if any(j.handle == handle and j.state == "running" for j in self.jobs.values()):
            return JSONResponse({"error": "a regrade of this submission is already running"}, 409)
        job = Job(uuid.uuid4().hex[:12], handle, started=time.time())
        self.jobs[job.id] = job
        run = self._regrade or regrade_submission

        def work() -> None:
            wb = self.wb()
            try:
                result = run(self.out, self.rubric, wb, sub, secret_file=self.secret_file)
                self._after_score(sub)
                job.message = f"regraded: {result.score:g}/{result.max_score:g}, {result.grading_status}"
                job.state = "done"
            except Exception as exc:  # noqa: BLE001 - say it on the page; the server goes on
                job.message = f"regrade failed: {type(exc).__name__}: {exc}"
                job.state = "failed"

        job.thread = threading.Thread(target=work, name=f"regrade-{job.id}", daemon=True)
        job.thread.start()
        return JSONResponse({"job": job.id, "status_url": f"/api/jobs/{job.id}"})

    def job(self, request: Request) -> Response:
        job = self.jobs.get(request.path_params["job"])
        if job is None:
            raise HTTPException(404, "no such job")
        return JSONResponse({"state": job.state, "message": job.message})

    def release(self, request: Request) -> Response:
        from grader.web.release import release_feedback

        wb = self.wb()
        self.exporter.wait()
        summary = release_feedback(self.out, self.rubric, wb)
        return JSONResponse({"written": summary.written, "folder": str(summary.folder),
                             "ungraded": summary.ungraded})

    def status(self, request: Request) -> Response:
        return JSONResponse({"exports_pending": self.exporter.pending, "exports_error": self.exporter.error,
                             "rebuilds": self.exporter.rebuilds})

    def build(self, *, guard: bool = True) -> Starlette:
        routes = [
            Route("/", self.home),
            Route("/grade/{task}", self.first),
            Route("/grade/{task}/{handle:path}", self.grade_page),
            Route("/answer/{handle}/{task}/{n:int}", self.answer_page),
            Route("/class/index.html", self.overview),
            Route("/class/{handle}/report.html", self.report),
            Route("/class/{handle}/executed.ipynb", self.executed),
            Route("/api/grade/{task}/{handle:path}", self.save_grade, methods=["POST"]),
            Route("/api/items/{task}", self.add_item, methods=["POST"]),
            Route("/api/items/{task}/{item:int}", self.edit_item, methods=["POST"]),
            Route("/api/settings/{what}", self.setting, methods=["POST"]),
            Route("/api/me", self.set_me, methods=["POST"]),
            Route("/api/regrade/{handle:path}", self.regrade, methods=["POST"]),
            Route("/api/jobs/{job}", self.job),
            Route("/api/release", self.release, methods=["POST"]),
            Route("/api/status", self.status),
            Route("/favicon.ico", lambda request: Response(status_code=204)),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
        app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
        app.state.grading = self
        if guard:
            return Guard(app, self.keys, self.host, self.port)  # type: ignore[return-value]
        return app


def _conflict(current: Grade | None, label: str, task_id: str) -> dict[str, Any]:
    if current is None:
        return {"message": f"Not saved: the score of {label} {task_id} changed since you loaded it (it was "
                           "removed). Reload to see it.", "current": None}
    why = f" ({current.comment})" if current.comment else ""
    return {"message": f"Not saved: {current.graded_by or 'someone'} scored {label} {task_id} at "
                       f"{current.graded_at}: {current.points:g}{why}, after you opened it. Your work is still "
                       "in the form: load their score, or save yours over it.",
            "current": current.to_json()}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": exc.detail}, exc.status_code)
    html = env().get_template("error.html.j2").render(status=exc.status_code, detail=exc.detail)
    return HTMLResponse(html, exc.status_code)


__all__ = ["CSRF_HEADER", "GradingApp"]
