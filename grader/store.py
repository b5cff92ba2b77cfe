"""The gradebook: one SQLite file in the output folder that remembers every run and every TA score.

It is the batch's memory. Each submission's run is committed in its own transaction the moment
it finishes, so a `kill -9` loses at most the submissions still being graded, and a rerun skips
every submission whose content, rubric and grader are unchanged. Runs are only ever added (the
history stays); manual scores live in their own table, so a regrade can never overwrite them.

Schema (version 2):

    meta(key PRIMARY KEY, value)                      schema_version
    submissions(id PRIMARY KEY, content_hash, source, first_seen, last_seen)
    runs(id PRIMARY KEY, submission, content_hash, rubric, rubric_version, grader_version, sandbox,
         graded_at, duration_s, score, max_score, grading_status, result_json)
    task_results(run_id, task, title, status, points, max_points, cause, message)   one row a task
    manual_scores(id PRIMARY KEY, submission, task, points, comment, graded_by, graded_at)
                                                      history; the newest row per task is in force
    roster(student PRIMARY KEY, submission, name, email, sis_user_id, sis_login_id, section,
           submitted_at, late_mark, extension, source, notes)   the course's roster (version 2),
                                                      replaced whole from roster.csv (grader/course/roster.py)

Migrations: a version 1 gradebook gains the empty roster table when a version 2 grader opens it
(nothing else changes); a gradebook from a newer grader is refused.
    code_fingerprints(content_hash, scheme, data, created)   PRIMARY KEY (content_hash, scheme)
                                                      similarity's cache: a submission's code and its
                                                      fingerprints (grader/similarity.py), computed once
                                                      per content; added without a version change, since
                                                      an older grader simply never reads it

`result_json` is the autograder's result as written to result.json, without manual scores.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from grader.course.roster import COLUMNS as ROSTER_COLUMNS
from grader.course.roster import RosterEntry, entry_from_row
from grader.results import Cause, ManualScore, Status, SubmissionResult, TaskResult

GRADEBOOK_FILE = "gradebook.sqlite"
SCHEMA_VERSION = "2"
# what turns a gradebook of the key version into the next one; the tables themselves are
# created by _SCHEMA (CREATE ... IF NOT EXISTS), so version 1 -> 2 only records the version
MIGRATIONS: dict[str, str] = {"1": "2"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
    id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, source TEXT NOT NULL,
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    submission TEXT NOT NULL REFERENCES submissions(id),
    content_hash TEXT NOT NULL, rubric TEXT NOT NULL, rubric_version TEXT NOT NULL,
    grader_version TEXT NOT NULL, sandbox TEXT NOT NULL, graded_at TEXT NOT NULL, duration_s REAL NOT NULL,
    score REAL NOT NULL, max_score REAL NOT NULL, grading_status TEXT NOT NULL, result_json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS runs_by_submission ON runs (submission, rubric, id);
CREATE TABLE IF NOT EXISTS task_results (
    run_id INTEGER NOT NULL REFERENCES runs(id), task TEXT NOT NULL, title TEXT NOT NULL,
    status TEXT NOT NULL, points REAL, max_points REAL NOT NULL, cause TEXT, message TEXT NOT NULL,
    PRIMARY KEY (run_id, task));
CREATE TABLE IF NOT EXISTS manual_scores (
    id INTEGER PRIMARY KEY AUTOINCREMENT, submission TEXT NOT NULL, task TEXT NOT NULL,
    points REAL NOT NULL, comment TEXT NOT NULL, graded_by TEXT NOT NULL, graded_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS manual_by_submission ON manual_scores (submission, task, id);
CREATE TABLE IF NOT EXISTS roster (
    student TEXT PRIMARY KEY, submission TEXT NOT NULL, name TEXT NOT NULL, email TEXT NOT NULL,
    sis_user_id TEXT NOT NULL, sis_login_id TEXT NOT NULL, section TEXT NOT NULL, submitted_at TEXT,
    late_mark TEXT NOT NULL, extension TEXT NOT NULL, source TEXT NOT NULL, notes TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS code_fingerprints (
    content_hash TEXT NOT NULL, scheme TEXT NOT NULL, data BLOB NOT NULL, created TEXT NOT NULL,
    PRIMARY KEY (content_hash, scheme));
"""


class GradebookError(Exception):
    """The gradebook file is unreadable or from a newer grader."""


@dataclass(frozen=True)
class RunInfo:
    """What a rerun needs to decide whether a submission must be graded again."""

    run_id: int
    content_hash: str
    rubric_version: str
    grader_version: str
    grading_status: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Gradebook:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")  # readers (a TA's `grader manual`) never block the batch
            self._db.execute("PRAGMA synchronous=NORMAL")  # durable across a killed process, which is what we face
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            else:
                self._migrate(row[0])
        except sqlite3.DatabaseError as exc:
            raise GradebookError(f"{path}: not a readable gradebook ({exc})") from None

    def _migrate(self, version: str) -> None:
        while version != SCHEMA_VERSION:
            if version not in MIGRATIONS:
                raise GradebookError(f"{self.path}: schema version {version}, this grader reads {SCHEMA_VERSION}")
            version = MIGRATIONS[version]
            self._db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (version,))

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- runs ---------------------------------------------------------------------------------

    def record(self, result: SubmissionResult, source: str) -> int:
        """Commit one finished submission: all of it, or (if the process dies here) none of it."""
        now = _now()
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("INSERT INTO submissions VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                       "content_hash=excluded.content_hash, source=excluded.source, last_seen=excluded.last_seen",
                       (result.submission, result.content_hash, source, now, now))
            cur = db.execute(
                "INSERT INTO runs (submission, content_hash, rubric, rubric_version, grader_version, sandbox, "
                "graded_at, duration_s, score, max_score, grading_status, result_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (result.submission, result.content_hash, result.rubric, result.rubric_version,
                 result.grader_version, result.sandbox, result.graded_at or now, result.duration_s,
                 result.score, result.max_score, result.grading_status,
                 json.dumps(result.to_json(), ensure_ascii=False)))
            run_id = int(cur.lastrowid or 0)
            db.executemany(
                "INSERT INTO task_results VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(run_id, t.id, t.title, t.status.value, t.points, t.max_points,
                  t.cause.value if t.cause else None, t.message) for t in result.tasks])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return run_id

    def _latest_run_id(self, submission: str, rubric: str) -> int | None:
        row = self._db.execute("SELECT max(id) FROM runs WHERE submission=? AND rubric=?",
                               (submission, rubric)).fetchone()
        return row[0] if row and row[0] is not None else None

    def latest_run(self, submission: str, rubric: str) -> RunInfo | None:
        row = self._db.execute(
            "SELECT id, content_hash, rubric_version, grader_version, grading_status FROM runs "
            "WHERE submission=? AND rubric=? ORDER BY id DESC LIMIT 1", (submission, rubric)).fetchone()
        return RunInfo(*row) if row else None

    def latest_result(self, submission: str, rubric: str) -> SubmissionResult | None:
        """The full autograder result of the newest run (without manual scores)."""
        row = self._db.execute("SELECT result_json FROM runs WHERE submission=? AND rubric=? "
                               "ORDER BY id DESC LIMIT 1", (submission, rubric)).fetchone()
        return SubmissionResult.from_json(json.loads(row[0])) if row else None

    def run_count(self, submission: str, rubric: str) -> int:
        return self._db.execute("SELECT count(*) FROM runs WHERE submission=? AND rubric=?",
                                (submission, rubric)).fetchone()[0]

    def submissions(self, rubric: str) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT submission FROM runs WHERE rubric=? ORDER BY submission", (rubric,))
        return [r[0] for r in rows]

    def summaries(self, rubric: str, ids: Iterable[str] | None = None) -> Iterator[SubmissionResult]:
        """Light results (task statuses and points, no checks or plots) for class pages and exports.

        Built from the task_results rows rather than the stored JSON, so the class pages of a
        10,000-student course cost a few rows per student, not every report's data at once.
        """
        wanted = sorted(set(ids)) if ids is not None else self.submissions(rubric)
        for sub in wanted:
            run_id = self._latest_run_id(sub, rubric)
            if run_id is None:
                continue
            run = self._db.execute("SELECT content_hash, rubric_version, grader_version, sandbox, graded_at, "
                                   "duration_s FROM runs WHERE id=?", (run_id,)).fetchone()
            tasks = tuple(
                TaskResult(task, title, Status(status), points, max_points, message or "",
                           cause=Cause(cause) if cause else None)
                for task, title, status, points, max_points, cause, message in self._db.execute(
                    "SELECT task, title, status, points, max_points, cause, message FROM task_results "
                    "WHERE run_id=? ORDER BY rowid", (run_id,)))
            yield SubmissionResult(sub, rubric, run[1], tasks, grader_version=run[2], content_hash=run[0],
                                   sandbox=run[3], graded_at=run[4], duration_s=run[5])

    def source_of(self, submission: str) -> str | None:
        """Where the submission was read from when it was last graded."""
        row = self._db.execute("SELECT source FROM submissions WHERE id=?", (submission,)).fetchone()
        return row[0] if row else None

    # --- similarity's cache (what `data` holds is grader/similarity.py's business) -------------

    def save_fingerprints(self, content_hash: str, scheme: str, data: bytes) -> None:
        self._db.execute("INSERT OR REPLACE INTO code_fingerprints VALUES (?, ?, ?, ?)",
                         (content_hash, scheme, data, _now()))

    def fingerprints(self, scheme: str, content_hashes: Iterable[str]) -> dict[str, bytes]:
        wanted = list(set(content_hashes))
        found: dict[str, bytes] = {}
        for i in range(0, len(wanted), 500):  # SQLite caps the parameters of one statement
            chunk = wanted[i:i + 500]
            rows = self._db.execute(
                f"SELECT content_hash, data FROM code_fingerprints WHERE scheme=? AND content_hash IN "
                f"({','.join('?' * len(chunk))})", (scheme, *chunk))
            found.update((h, bytes(d)) for h, d in rows)
        return found

    # --- manual scores ------------------------------------------------------------------------

    def set_manual(self, submission: str, score: ManualScore) -> ManualScore:
        return self.set_manual_many([(submission, score)])[0]

    def set_manual_many(self, scores: list[tuple[str, ManualScore]]) -> list[ManualScore]:
        """Record TA scores all together or not at all (a CSV import with one bad line changes nothing)."""
        now = _now()
        stamped = [(sub, ManualScore(s.task, float(s.points), s.comment, s.graded_by, s.graded_at or now))
                   for sub, s in scores]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                "INSERT INTO manual_scores (submission, task, points, comment, graded_by, graded_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(sub, s.task, s.points, s.comment, s.graded_by, s.graded_at) for sub, s in stamped])
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return [s for _, s in stamped]

    def manual_scores(self, submission: str) -> list[ManualScore]:
        """The score in force for each task: the newest one a TA gave."""
        rows = self._db.execute(
            "SELECT task, points, comment, graded_by, graded_at FROM manual_scores m WHERE submission=? AND "
            "id = (SELECT max(id) FROM manual_scores WHERE submission=m.submission AND task=m.task) ORDER BY task",
            (submission,))
        return [ManualScore(*r) for r in rows]

    def manual_history(self, submission: str) -> list[ManualScore]:
        rows = self._db.execute("SELECT task, points, comment, graded_by, graded_at FROM manual_scores "
                                "WHERE submission=? ORDER BY id", (submission,))
        return [ManualScore(*r) for r in rows]

    # --- roster -------------------------------------------------------------------------------

    def set_roster(self, entries: list[RosterEntry], source: str = "") -> None:
        """Replace the roster with `entries` (all or nothing) and remember which file they came from."""
        rows = [tuple(entry.to_row()[c] for c in ROSTER_COLUMNS) for entry in entries]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("DELETE FROM roster")
            self._db.executemany(f"INSERT INTO roster ({', '.join(ROSTER_COLUMNS)}) "
                                 f"VALUES ({', '.join('?' for _ in ROSTER_COLUMNS)})", rows)
            self._db.execute("INSERT INTO meta VALUES ('roster_source', ?) ON CONFLICT(key) DO UPDATE SET "
                             "value=excluded.value", (source,))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def roster(self) -> list[RosterEntry]:
        rows = self._db.execute(f"SELECT {', '.join(ROSTER_COLUMNS)} FROM roster ORDER BY submission, student")
        return [entry_from_row(dict(zip(ROSTER_COLUMNS, (v or "" for v in row), strict=True)), f"{self.path}: roster")
                for row in rows]

    def roster_source(self) -> str | None:
        """The roster.csv the roster was last read from (export reads it again, to pick up a TA's edits)."""
        row = self._db.execute("SELECT value FROM meta WHERE key='roster_source'").fetchone()
        return row[0] if row and row[0] else None
