"""The web app's tables in the gradebook, beside the batch's: rubric items, grade details,
the comment bank, pseudonyms and settings.

The score in force stays where `grader manual` puts it, in `manual_scores` (one row per score
given, never updated), so reports, exports, `grader manual` and a regrade see app scores exactly
as they see CLI scores. The app adds, per score row, which rubric items it applied, the TA's
point adjustment and free comment (`manual_grade_items`), so that editing an item's points can
re-score every submission that has it, as a new row with the editor's name (the history stays).

No lost update: a grade's version is the id of its row in force in `manual_scores` (0 when
ungraded). A write names the version it was based on and is refused, inside the same
`BEGIN IMMEDIATE` transaction that would insert it, when another row came first: from another
TA's browser, another server on the same file, `grader manual`, or an item edit.

The tables are created on first use (`CREATE TABLE IF NOT EXISTS`), so an existing gradebook
migrates by being opened; nothing of the batch's schema changes. Schema: docs/web.md.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from grader.judgement.rubric import Rubric, TaskSpec
from grader.store import Gradebook

WEB_SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rubric_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT, rubric TEXT NOT NULL, task TEXT NOT NULL,
    position INTEGER NOT NULL, description TEXT NOT NULL, points REAL NOT NULL,
    version INTEGER NOT NULL DEFAULT 1, deleted INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS rubric_items_by_task ON rubric_items (rubric, task, position);
CREATE TABLE IF NOT EXISTS rubric_item_history (
    item_id INTEGER NOT NULL REFERENCES rubric_items(id), version INTEGER NOT NULL,
    description TEXT NOT NULL, points REAL NOT NULL, deleted INTEGER NOT NULL,
    changed_by TEXT NOT NULL, changed_at TEXT NOT NULL, rescored INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS manual_grade_items (
    score_id INTEGER PRIMARY KEY REFERENCES manual_scores(id), items TEXT NOT NULL,
    adjustment REAL NOT NULL, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS comment_bank (
    id INTEGER PRIMARY KEY AUTOINCREMENT, rubric TEXT NOT NULL, task TEXT NOT NULL, text TEXT NOT NULL,
    uses INTEGER NOT NULL DEFAULT 0, created_by TEXT NOT NULL, created_at TEXT NOT NULL,
    UNIQUE (rubric, task, text));
CREATE TABLE IF NOT EXISTS pseudonyms (submission TEXT PRIMARY KEY, pseudonym TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS web_settings (
    key TEXT PRIMARY KEY, value TEXT NOT NULL, changed_by TEXT NOT NULL, changed_at TEXT NOT NULL);
"""

# Pseudonyms a TA can say aloud ("amber-otter"), drawn at random once and stored, so they are
# stable across restarts and carry nothing of the real id.
_ADJECTIVE_WORDS = ("amber azure brave calm coral crisp dusky eager fair fleet gentle golden hazel ivory jade keen "
               "lively lunar merry misty noble olive pale quiet rapid rosy rustic sable silver sunny swift tidy "
               "umber vivid warm wild witty young zesty bold bright cosmic dapper frosty gusty humble jolly "
               "mellow")
_ANIMAL_WORDS = ("otter heron lynx finch badger crane dingo eagle ferret gecko hare ibis jackal koala lemur marten "
            "newt ocelot panda quail raven seal tapir urchin vole walrus yak zebra bison camel dove egret fox "
            "gull hawk impala jay kiwi llama mole narwhal owl puffin robin stoat toad viper wren")
_ADJECTIVES, _ANIMALS = _ADJECTIVE_WORDS.split(), _ANIMAL_WORDS.split()

SCORING_NEGATIVE = "negative"  # start at full marks; items deduct (Gradescope's default)
SCORING_POSITIVE = "positive"  # start at zero; items add


class Conflict(Exception):
    """Someone else scored this task since the page was loaded: the write was refused, nothing changed."""

    def __init__(self, current: Grade | None, item: RubricItem | None = None) -> None:
        super().__init__("conflict")
        self.current = current
        self.item = item


class WebBookError(ValueError):
    """A request the gradebook cannot honour: an unknown task, item or submission, or points out of range."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class RubricItem:
    id: int
    task: str
    position: int
    description: str
    points: float
    version: int

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "task": self.task, "position": self.position, "description": self.description,
                "points": self.points, "version": self.version}


@dataclass(frozen=True)
class Grade:
    """The score in force for one (submission, task), with what it was made of."""

    version: int  # the manual_scores row id
    points: float
    items: tuple[int, ...]
    adjustment: float
    note: str  # the TA's free comment
    comment: str  # what manual_scores.comment holds: items and note in words
    graded_by: str
    graded_at: str

    def to_json(self) -> dict[str, object]:
        return {"version": self.version, "points": self.points, "items": list(self.items),
                "adjustment": self.adjustment, "note": self.note, "comment": self.comment,
                "graded_by": self.graded_by, "graded_at": self.graded_at}


def format_points(x: float) -> str:
    """Signed, as a rubric item reads: `−0.5`, `+1` (a real minus sign)."""
    text = f"{abs(x):g}"
    return ("−" if x < 0 else "+") + text


def compose_comment(items: list[RubricItem], note: str) -> str:
    """The words stored in manual_scores.comment, so reports and exports that know nothing of items still say why."""
    parts = [f"{format_points(i.points)}: {i.description}" for i in items]
    if note.strip():
        parts.append(note.strip())
    return "; ".join(parts)


def score_of(start: float, items: list[RubricItem], adjustment: float, top: float) -> float:
    return round(min(top, max(0.0, start + sum(i.points for i in items) + adjustment)), 6)


class WebBook:
    """The web app's view of one gradebook and one rubric. One per thread: sqlite3 connections are not shared."""

    def __init__(self, book: Gradebook, rubric: Rubric) -> None:
        self.book = book
        self.rubric = rubric
        self.db = book.connection
        self.db.executescript(_SCHEMA)
        self.db.execute("INSERT OR IGNORE INTO meta VALUES ('web_schema_version', ?)", (WEB_SCHEMA_VERSION,))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One writer at a time across threads, servers and `grader manual`: SQLite's IMMEDIATE lock."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    # --- tasks -------------------------------------------------------------------------------

    def task(self, task_id: str) -> TaskSpec:
        for t in self.rubric.tasks:
            if t.id == task_id:
                return t
        raise WebBookError(f"unknown task {task_id!r}; the rubric's tasks are {', '.join(self.task_ids)}")

    @property
    def task_ids(self) -> list[str]:
        return [t.id for t in self.rubric.tasks]

    def manual_tasks(self) -> list[TaskSpec]:
        return [t for t in self.rubric.tasks if t.grader == "manual"]

    def scoring(self, task_id: str) -> str:
        return self.setting(f"scoring:{self.rubric.id}:{task_id}") or SCORING_NEGATIVE

    def start_points(self, task_id: str) -> float:
        return self.task(task_id).points if self.scoring(task_id) == SCORING_NEGATIVE else 0.0

    # --- settings ----------------------------------------------------------------------------

    def setting(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM web_settings WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_setting(self, key: str, value: str, by: str) -> None:
        self.db.execute("INSERT INTO web_settings VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                        "value=excluded.value, changed_by=excluded.changed_by, changed_at=excluded.changed_at",
                        (key, value, by, now()))

    def blind(self) -> bool:
        return self.setting("blind") == "1"

    def set_blind(self, on: bool, by: str) -> None:
        self.set_setting("blind", "1" if on else "0", by)

    def related_tasks(self, task_id: str) -> list[str]:
        """Auto-graded tasks shown beside a manual task's answer: the TA's choice, else those reading the same file."""
        chosen = self.setting(f"related:{self.rubric.id}:{task_id}")
        if chosen is not None:
            return [t for t in chosen.split(",") if t in self.task_ids and t != task_id]
        spec = self.task(task_id)
        if spec.needs:
            return [t.id for t in self.rubric.tasks if t.id != task_id and set(t.needs) & set(spec.needs)]
        # a written answer in answers.md: the other answers in that file
        return [t.id for t in self.rubric.tasks if t.id != task_id and t.grader == "answers"]

    def set_related(self, task_id: str, related: list[str], by: str) -> None:
        self.task(task_id)
        unknown = [t for t in related if t not in self.task_ids]
        if unknown:
            raise WebBookError(f"unknown task(s) {', '.join(unknown)}")
        self.set_setting(f"related:{self.rubric.id}:{task_id}", ",".join(related), by)

    # --- submissions and pseudonyms ----------------------------------------------------------

    def submissions(self) -> list[str]:
        return self.book.submissions(self.rubric.id)

    def source(self, sub_id: str) -> str | None:
        row = self.db.execute("SELECT source FROM submissions WHERE id=?", (sub_id,)).fetchone()
        return row[0] if row else None

    def task_states(self, task_id: str) -> dict[str, tuple[str, float | None]]:
        """Each submission's autograder status and points for one task, from its newest run (one query)."""
        rows = self.db.execute(
            "SELECT r.submission, t.status, t.points FROM task_results t JOIN runs r ON r.id = t.run_id "
            "WHERE t.task=? AND r.id IN (SELECT max(id) FROM runs WHERE rubric=? GROUP BY submission)",
            (task_id, self.rubric.id))
        return {sub: (status, points) for sub, status, points in rows}

    def pseudonyms(self) -> dict[str, str]:
        """Submission id -> pseudonym, drawing one for each submission that has none yet."""
        known = dict(self.db.execute("SELECT submission, pseudonym FROM pseudonyms"))
        missing = [s for s in self.submissions() if s not in known]
        if missing:
            with self.transaction() as db:
                known = dict(db.execute("SELECT submission, pseudonym FROM pseudonyms"))
                taken = set(known.values())
                for sub in missing:
                    if sub in known:
                        continue
                    name = _draw_pseudonym(taken)
                    taken.add(name)
                    known[sub] = name
                    db.execute("INSERT INTO pseudonyms VALUES (?, ?)", (sub, name))
        return known

    # --- rubric items --------------------------------------------------------------------------

    def items(self, task_id: str) -> list[RubricItem]:
        rows = self.db.execute("SELECT id, task, position, description, points, version FROM rubric_items "
                               "WHERE rubric=? AND task=? AND deleted=0 ORDER BY position, id",
                               (self.rubric.id, task_id))
        return [RubricItem(*r) for r in rows]

    def item(self, item_id: int) -> RubricItem:
        row = self.db.execute("SELECT id, task, position, description, points, version FROM rubric_items "
                              "WHERE id=? AND rubric=? AND deleted=0", (item_id, self.rubric.id)).fetchone()
        if row is None:
            raise WebBookError(f"no rubric item {item_id}")
        return RubricItem(*row)

    def _check_item(self, task_id: str, description: str, points: float) -> None:
        top = self.task(task_id).points
        if not description.strip():
            raise WebBookError("a rubric item needs a description (what the student did or missed)")
        if not -top <= points <= top:
            raise WebBookError(f"{task_id}: an item's points must lie within −{top:g}..+{top:g}, got {points:g}")

    def add_item(self, task_id: str, description: str, points: float, by: str) -> RubricItem:
        self._check_item(task_id, description, points)
        with self.transaction() as db:
            position = db.execute("SELECT coalesce(max(position), 0) + 1 FROM rubric_items WHERE rubric=? AND task=?",
                                  (self.rubric.id, task_id)).fetchone()[0]
            cur = db.execute("INSERT INTO rubric_items (rubric, task, position, description, points, created_by, "
                             "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (self.rubric.id, task_id, position, description.strip(), float(points), by, now()))
            item_id = int(cur.lastrowid or 0)
            db.execute("INSERT INTO rubric_item_history VALUES (?, 1, ?, ?, 0, ?, ?, 0)",
                       (item_id, description.strip(), float(points), by, now()))
        return self.item(item_id)

    def edit_item(self, item_id: int, description: str, points: float, by: str, base_version: int, *,
                  delete: bool = False) -> tuple[RubricItem | None, list[str]]:
        """Change (or delete) an item and re-score, in the same transaction, every grade in force that applies it.

        Returns the item (None once deleted) and the submissions re-scored, whose pages must be redrawn.
        """
        with self.transaction() as db:
            row = db.execute("SELECT id, task, position, description, points, version FROM rubric_items "
                             "WHERE id=? AND rubric=? AND deleted=0", (item_id, self.rubric.id)).fetchone()
            if row is None:
                raise WebBookError(f"no rubric item {item_id}")
            old = RubricItem(*row)
            if old.version != base_version:
                raise Conflict(None, old)
            if not delete:
                self._check_item(old.task, description, points)
            description = description.strip() if not delete else old.description
            points = float(points) if not delete else old.points
            version = old.version + 1
            db.execute("UPDATE rubric_items SET description=?, points=?, version=?, deleted=? WHERE id=?",
                       (description, points, version, int(delete), item_id))
            affected = self._rescore(db, old.task, item_id, by)
            db.execute("INSERT INTO rubric_item_history VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (item_id, version, description, points, int(delete), by, now(), len(affected)))
        return (None if delete else self.item(item_id)), affected

    def _rescore(self, db: sqlite3.Connection, task_id: str, item_id: int, by: str) -> list[str]:
        """A new score row for every grade in force whose items include `item_id` (inside the caller's transaction)."""
        rows = db.execute(
            "SELECT m.submission, d.items, d.adjustment, d.note FROM manual_scores m JOIN manual_grade_items d "
            "ON d.score_id = m.id WHERE m.task=? AND m.id IN "
            "(SELECT max(id) FROM manual_scores WHERE task=? GROUP BY submission)", (task_id, task_id)).fetchall()
        live = {i.id: i for i in self.items(task_id)}
        start, top = self.start_points(task_id), self.task(task_id).points
        known = set(self.submissions())
        affected = []
        for sub, items_json, adjustment, note in rows:
            ids = json.loads(items_json)
            if item_id not in ids or sub not in known:
                continue
            kept = [live[i] for i in ids if i in live]
            self._insert(db, sub, task_id, kept, adjustment, note, by, score_of(start, kept, adjustment, top))
            affected.append(sub)
        return affected

    # --- grades ----------------------------------------------------------------------------------

    @staticmethod
    def _insert(db: sqlite3.Connection, sub: str, task_id: str, items: list[RubricItem], adjustment: float,
                note: str, by: str, points: float) -> int:
        cur = db.execute("INSERT INTO manual_scores (submission, task, points, comment, graded_by, graded_at) "
                         "VALUES (?, ?, ?, ?, ?, ?)", (sub, task_id, points, compose_comment(items, note), by, now()))
        score_id = int(cur.lastrowid or 0)
        db.execute("INSERT INTO manual_grade_items VALUES (?, ?, ?, ?)",
                   (score_id, json.dumps([i.id for i in items]), float(adjustment), note))
        return score_id

    def grade(self, sub_id: str, task_id: str) -> Grade | None:
        row = self.db.execute(
            "SELECT m.id, m.points, m.comment, m.graded_by, m.graded_at, d.items, d.adjustment, d.note "
            "FROM manual_scores m LEFT JOIN manual_grade_items d ON d.score_id = m.id "
            "WHERE m.submission=? AND m.task=? ORDER BY m.id DESC LIMIT 1", (sub_id, task_id)).fetchone()
        return None if row is None else self._grade(task_id, row)

    def _grade(self, task_id: str, row: tuple) -> Grade:
        score_id, points, comment, by, at, items_json, adjustment, note = row
        if items_json is None:  # scored with `grader manual` (or a CSV import): no items, the comment is the note
            return Grade(score_id, points, (), points - self.start_points(task_id), comment, comment, by, at)
        return Grade(score_id, points, tuple(json.loads(items_json)), adjustment, note, comment, by, at)

    def grades(self, task_id: str) -> dict[str, Grade]:
        """Every submission's grade in force for one task, in one query (the queue's sidebar)."""
        rows = self.db.execute(
            "SELECT m.submission, m.id, m.points, m.comment, m.graded_by, m.graded_at, d.items, d.adjustment, d.note "
            "FROM manual_scores m LEFT JOIN manual_grade_items d ON d.score_id = m.id WHERE m.task=? AND m.id IN "
            "(SELECT max(id) FROM manual_scores WHERE task=? GROUP BY submission)", (task_id, task_id))
        return {r[0]: self._grade(task_id, r[1:]) for r in rows}

    def history(self, sub_id: str, task_id: str) -> list[Grade]:
        rows = self.db.execute(
            "SELECT m.id, m.points, m.comment, m.graded_by, m.graded_at, d.items, d.adjustment, d.note "
            "FROM manual_scores m LEFT JOIN manual_grade_items d ON d.score_id = m.id "
            "WHERE m.submission=? AND m.task=? ORDER BY m.id DESC", (sub_id, task_id))
        return [self._grade(task_id, r) for r in rows]

    def save_grade(self, sub_id: str, task_id: str, item_ids: list[int], adjustment: float, note: str, by: str,
                   base_version: int) -> Grade:
        """Record a TA's grade, unless the grade in force is no longer the one the TA saw (Conflict)."""
        spec = self.task(task_id)
        if sub_id not in set(self.submissions()):
            raise WebBookError(f"no graded submission {sub_id!r} in this gradebook")
        with self.transaction() as db:
            current = db.execute("SELECT coalesce(max(id), 0) FROM manual_scores WHERE submission=? AND task=?",
                                 (sub_id, task_id)).fetchone()[0]
            if current != base_version:
                raise Conflict(self.grade(sub_id, task_id))
            live = {i.id: i for i in self.items(task_id)}
            unknown = [i for i in item_ids if i not in live]
            if unknown:
                raise WebBookError(f"rubric item(s) {unknown} do not exist (any more) for {task_id}: reload the page")
            items = [live[i] for i in dict.fromkeys(item_ids)]
            points = score_of(self.start_points(task_id), items, adjustment, spec.points)
            self._insert(db, sub_id, task_id, items, adjustment, note, by, points)
        grade = self.grade(sub_id, task_id)
        assert grade is not None
        return grade

    # --- the comment bank ------------------------------------------------------------------------

    def bank(self, task_id: str) -> list[str]:
        rows = self.db.execute("SELECT text FROM comment_bank WHERE rubric=? AND task=? ORDER BY uses DESC, id",
                               (self.rubric.id, task_id))
        return [r[0] for r in rows]

    def bank_add(self, task_id: str, text: str, by: str) -> None:
        self.task(task_id)
        text = text.strip()
        if not text:
            raise WebBookError("an empty comment cannot go into the bank")
        self.db.execute("INSERT INTO comment_bank (rubric, task, text, uses, created_by, created_at) "
                        "VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT DO NOTHING", (self.rubric.id, task_id, text, by, now()))

    def bank_used(self, task_id: str, text: str) -> None:
        self.db.execute("UPDATE comment_bank SET uses = uses + 1 WHERE rubric=? AND task=? AND text=?",
                        (self.rubric.id, task_id, text.strip()))


def _draw_pseudonym(taken: set[str]) -> str:
    for _ in range(200):
        name = f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_ANIMALS)}"
        if name not in taken:
            return name
    while True:  # a class larger than the word lists allow: add a number
        name = f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_ANIMALS)}-{secrets.randbelow(10000):04d}"
        if name not in taken:
            return name
