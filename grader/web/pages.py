"""Keeping the static outputs (report.html, result.json, index.html, grades.csv, junit.xml) in step with every score.

A score given in the browser must leave the output folder as `grader manual` would: the student's
files redrawn, the class pages and exports rebuilt from the gradebook. Two costs stand in the way
of doing that per keystroke, and both come from what a manual score does not change:

- The submission's own files. Drawing the plots is most of a HW4 report's cost (0.1-0.9 s, against
  12 ms without them), and encoding result.json with its plot data (the T12 weight images)
  another few milliseconds. So plots come from a cache by content (memory, else the
  report.html the batch drew from the same result, else drawn), and each task's JSON text is
  kept per run: only the scored task is encoded again. These files are redrawn before the
  request returns.
- The class-wide exports cost O(class): about 140-250 ms for 300 submissions. They are rebuilt
  from the gradebook (so scores from `grader manual` or another server are included) in a helper
  process (worker.py), so that rendering them never holds the server's GIL while a TA waits for
  a save; one rebuild covers a burst of scores, and the last is finished before the server stops.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from grader.judgement.manual import apply_manual
from grader.judgement.rubric import Rubric
from grader.pipeline import refresh_pages
from grader.presentation.html import draw_plot, valid_png
from grader.presentation.outputs import REPORT_FILE, json_text, render_files, write_files
from grader.results import Plot, SubmissionResult, TaskResult
from grader.store import GRADEBOOK_FILE, Gradebook

_FIGURE = re.compile(r'<figure class="plot">\s*(?:<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"'
                     r'|<div class="unavailable">)')


def plot_key(plot: Plot) -> str:
    return hashlib.sha256(json.dumps(plot.to_json(), sort_keys=True, default=str).encode()).hexdigest()


class PlotCache:
    """Drawn plots by content, shared by the server's threads; bounded, so 300 reports' images do not pile up."""

    def __init__(self, out: Path, size: int = 256) -> None:
        self.out = out
        self.size = size
        self._png: OrderedDict[str, str | None] = OrderedDict()
        # a plot's key by identity: the redrawer keeps a run's result, so its Plot objects come back,
        # and hashing a T12 plot's data (12,544 pixel values) costs 9 ms each time
        self._keys: OrderedDict[int, tuple[Plot, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.drawn = 0  # plots actually drawn (the rest came from memory or from a report on disk)

    def _get(self, key: str) -> tuple[bool, str | None]:
        with self._lock:
            if key in self._png:
                self._png.move_to_end(key)
                return True, self._png[key]
        return False, None

    def _put(self, key: str, png: str | None) -> None:
        with self._lock:
            self._png[key] = png
            self._png.move_to_end(key)
            while len(self._png) > self.size:
                self._png.popitem(last=False)

    def seed(self, result: SubmissionResult) -> None:
        """Take the plots from the submission's report.html, if that page was drawn from this very result."""
        plots = [p for t in result.tasks for p in t.plots]
        if not plots:
            return
        try:
            page = (self.out / result.submission / REPORT_FILE).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return
        if result.content_hash not in page or (result.graded_at and result.graded_at not in page):
            return  # drawn from another run
        found = _FIGURE.findall(page)
        if len(found) != len(plots):
            return
        for plot, png in zip(plots, found, strict=True):
            self._put(self.key(plot), valid_png(png) if png else None)

    def key(self, plot: Plot) -> str:
        with self._lock:
            known = self._keys.get(id(plot))
            if known is not None and known[0] is plot:
                return known[1]
        key = plot_key(plot)
        with self._lock:
            self._keys[id(plot)] = (plot, key)
            while len(self._keys) > 4 * self.size:
                self._keys.popitem(last=False)
        return key

    def drawer(self, result: SubmissionResult) -> Callable[[Plot], str | None]:
        seeded = False

        def draw(plot: Plot) -> str | None:
            nonlocal seeded
            key = self.key(plot)
            hit, png = self._get(key)
            if not hit and not seeded:
                seeded = True
                self.seed(result)
                hit, png = self._get(key)
            if not hit:
                png = draw_plot(plot)
                self.drawn += 1
                self._put(key, png)
            return png

        return draw


def _task_text(task: TaskResult) -> str:
    """A task as it stands in result.json's "tasks" list (two levels deep: four spaces)."""
    return "    " + json_text(task.to_json(), 2)


def _members(data: dict[str, object]) -> str:
    """The members of a top-level object as result.json writes them, without the braces."""
    return json_text(data, 0)[2:-2] if data else ""


def result_json_from_parts(result: SubmissionResult, task_text: Callable[[TaskResult], str],
                           tail: Callable[[dict[str, object]], str] = _members) -> str:
    """Exactly outputs.result_json_text(result), built from parts a cache can keep: each task's
    text (`task_text`) and the members after "tasks" (`tail`: the notebook, the run's facts)."""
    data = result.to_json()
    keys = list(data)
    cut = keys.index("tasks")
    tasks = ",\n".join(task_text(t) for t in result.tasks)
    parts = [_members({k: data[k] for k in keys[:cut]}),
             '  "tasks": [\n' + tasks + "\n  ]" if tasks else '  "tasks": []',
             tail({k: data[k] for k in keys[cut + 1:]})]
    return "{\n" + ",\n".join(p for p in parts if p) + "\n}\n"


@contextlib.contextmanager
def redraw_lock(out: Path) -> Iterator[None]:
    """An exclusive lock on OUT/.grader-serve.lock (flock: per open file, so threads and processes alike)."""
    with (out / ".grader-serve.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class Redrawer:
    """Redraws one submission's files after a score, from the gradebook, with cached plots and task texts."""

    def __init__(self, out: Path, rubric: Rubric, cached_results: int = 64) -> None:
        self.out = out
        self.rubric = rubric
        self.plots = PlotCache(out)
        self._size = cached_results
        self._results: OrderedDict[int, tuple[SubmissionResult, dict[str, str]]] = OrderedDict()
        self._lock = threading.Lock()  # one redraw at a time: the files always end at the newest state

    def _result(self, book: Gradebook, sub: str) -> tuple[SubmissionResult, dict[str, str]] | None:
        run = book.latest_run(sub, self.rubric.id)
        if run is None:
            return None
        if run.run_id not in self._results:
            result = book.latest_result(sub, self.rubric.id)
            assert result is not None
            self._results[run.run_id] = (result, {})
            while len(self._results) > self._size:
                self._results.popitem(last=False)
        self._results.move_to_end(run.run_id)
        return self._results[run.run_id]

    def result(self, book: Gradebook, sub: str) -> SubmissionResult | None:
        """The autograder's newest result (parsed once per run: a HW4 result with its notebook is 0.6 MB)."""
        with self._lock:
            cached = self._result(book, sub)
        return None if cached is None else cached[0]

    def submission(self, book: Gradebook, sub: str) -> SubmissionResult | None:
        """Read the submission's state and write its files, holding the output folder's redraw lock:
        the server and its helper process both redraw, and the files must end at the newest state."""
        with self._lock, redraw_lock(self.out):
            cached = self._result(book, sub)
            if cached is None:
                return None
            result, texts = cached
            originals = {id(t) for t in result.tasks}

            def task_text(task: TaskResult) -> str:
                if id(task) not in originals:  # scored by a TA: small, and it changes
                    return _task_text(task)
                if task.id not in texts:
                    texts[task.id] = _task_text(task)
                return texts[task.id]

            def tail(data: dict[str, object]) -> str:  # the same for every score on this run
                if "\0tail" not in texts:
                    texts["\0tail"] = _members(data)
                return texts["\0tail"]

            shown = apply_manual(result, book.manual_scores(sub))
            text = result_json_from_parts(shown, task_text, tail)
            write_files(self.out / sub, render_files(shown, gradescope=True, plot_png=self.plots.drawer(result),
                                                     result_json=text))
            return shown


_HELPER_REDRAWERS: dict[tuple[str, str], Redrawer] = {}


def rebuild_exports(out: Path, rubric: Rubric, subs: Iterable[str] = ()) -> None:
    """Redraw `subs` (re-scored by an item edit), then pipeline.refresh_pages: what the helper process runs."""
    key = (str(out), rubric.id)
    if key not in _HELPER_REDRAWERS:  # the helper lives as long as the server: its caches too
        _HELPER_REDRAWERS[key] = Redrawer(out, rubric)
    with Gradebook(out / GRADEBOOK_FILE) as book:
        for sub in subs:
            _HELPER_REDRAWERS[key].submission(book, sub)
        refresh_pages(out, rubric, book)


class Exporter:
    """Rebuilds index.html, grades.csv and junit.xml in the background after scores; one rebuild per burst.

    A thread waits for changes and hands each rebuild to a helper process (grader/web/worker.py,
    kept for the server's life, so it imports once).
    """

    def __init__(self, out: Path, rubric: Rubric) -> None:
        from grader.web.worker import Worker

        self.out = out
        self.rubric = rubric
        self._worker = Worker("exports")
        self._subs: set[str] = set()  # submissions whose files the next rebuild redraws
        self._cond = threading.Condition()
        self._wanted = 0  # bumped by each change
        self._done = 0  # the change count the last finished rebuild covers
        self._stop = False
        self.rebuilds = 0
        self.last_seconds = 0.0
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="grader-exports", daemon=True)
        self._thread.start()

    def changed(self, subs: Iterable[str] = ()) -> int:
        """Ask for a rebuild (and a redraw of `subs`' files); returns a ticket that `wait(ticket)` waits for."""
        with self._cond:
            self._subs.update(subs)
            self._wanted += 1
            self._cond.notify_all()
            return self._wanted

    @property
    def pending(self) -> bool:
        with self._cond:
            return self._done < self._wanted

    def wait(self, ticket: int | None = None, timeout: float | None = None) -> bool:
        """Until the exports include every change up to `ticket` (default: all so far)."""
        with self._cond:
            target = self._wanted if ticket is None else ticket
            return self._cond.wait_for(lambda: self._done >= target or self._stop, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stop or self._done < self._wanted)
                if self._done >= self._wanted:  # stopping, nothing left to do
                    return
                target = self._wanted
                subs, self._subs = sorted(self._subs), set()
            started = time.perf_counter()
            try:
                self._worker.call("exports", self.out, self.rubric, subs)
                self.error = None
            except Exception as exc:  # noqa: BLE001 - a full disk must not kill the server; the UI says so
                self.error = f"{type(exc).__name__}: {exc}"
            self.last_seconds = time.perf_counter() - started
            self.rebuilds += 1
            with self._cond:
                self._done = max(self._done, target)
                self._cond.notify_all()

    def close(self) -> None:
        """Finish what was asked for (the files must not stay behind the gradebook), then stop."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join()
        self._worker.close()
