"""Grade files in the course systems' import formats, drawn from rows the course layer joined.

Canvas (Instructor Guide, "How do I import grades in the Gradebook?"): the header `Student, ID,
SIS User ID, SIS Login ID, Section`, then one column per assignment named `Assignment name (id)`
(an exact name without the id also maps), and an optional second row `Points Possible`. Canvas
finds a student by ID, SIS User ID or SIS Login ID.

Moodle (docs, "Grade import", CSV): any header row; at import the teacher maps one identity column
(email, ID number, username or user id) and each grade or feedback column to a grade item. Grades
and feedback are sent together, because importing feedback overwrites what is linked to a grade.

A blank grade is never a zero: a student whose grade cannot be stated (no submission, a grader
failure, a late submission whose time is unknown) gets an empty cell, which both systems leave alone.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from grader.presentation.gradebook import neutralise_formula

CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_IDENTITY = {"email": "Email address", "idnumber": "ID number", "username": "Username"}


@dataclass(frozen=True)
class GradeRow:
    name: str
    canvas_id: str
    sis_user_id: str
    sis_login_id: str
    section: str
    email: str
    grade: float | None  # None: leave the course system's cell as it is
    feedback: str


def _number(x: float | None) -> str:
    if x is None:
        return ""
    x = round(float(x), 4)
    return str(int(x)) if x.is_integer() else repr(x)


def canvas_csv_text(rows: list[GradeRow], column: str, points_possible: float | None) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*CANVAS_IDENTITY, column])
    if points_possible is not None:
        writer.writerow(["Points Possible", "", "", "", "", _number(points_possible)])
    for row in rows:
        writer.writerow([neutralise_formula(row.name), row.canvas_id, neutralise_formula(row.sis_user_id),
                         neutralise_formula(row.sis_login_id), neutralise_formula(row.section), _number(row.grade)])
    return buf.getvalue()


def moodle_identity(row: GradeRow, identity: str) -> str:
    return {"email": row.email, "idnumber": row.sis_user_id, "username": row.sis_login_id}[identity]


def moodle_csv_text(rows: list[GradeRow], identity: str, grade_column: str) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([MOODLE_IDENTITY[identity], grade_column, "Feedback"])
    for row in rows:
        writer.writerow([moodle_identity(row, identity), _number(row.grade), neutralise_formula(row.feedback)])
    return buf.getvalue()
