"""Tasks judged from the written-answers file: values with a tolerance (`answers`) and text a TA
reads (`manual`). Pure: the file is parsed by the orchestration and handed in."""

from __future__ import annotations

from grader.judgement import answers as answers_mod
from grader.judgement.rubric import TaskSpec
from grader.judgement.verdict import from_checks
from grader.results import CheckResult, Status, TaskResult, Visibility


def grade_answers(task: TaskSpec, doc: answers_mod.AnswersDoc | None, answers_file: str) -> TaskResult:
    if doc is None:
        return TaskResult(task.id, task.title, Status.MISSING, 0.0, task.points,
                          f"no answers file: expected {answers_file} at the top of the submission")
    section = doc.section(task.section or task.id)
    if section is None or not section.values:
        return TaskResult(task.id, task.title, Status.MISSING, 0.0, task.points,
                          f"{answers_file} has no filled-in '## {task.section or task.id}' section")
    checks = []
    for spec in task.answers:
        keys = [answers_mod.normalise_key(k) for k in (spec.key, *spec.aliases)]
        raw = next((section.values[k] for k in keys if k in section.values), None)
        if raw is None:
            checks.append(CheckResult(spec.label, Visibility.PUBLIC, False, spec.expected, None,
                                      f"no line '{spec.key} = ...' in section {section.name}"))
            continue
        try:
            value = float(answers_mod.parse_number(raw))
        except (answers_mod.NumberError, OverflowError) as exc:
            checks.append(CheckResult(spec.label, Visibility.PUBLIC, False, spec.expected, raw[:200], str(exc)))
            continue
        tol = max(spec.abs_tol, spec.rel_tol * abs(spec.expected))
        ok = abs(value - spec.expected) <= tol
        checks.append(CheckResult(spec.label, Visibility.PUBLIC, ok, spec.expected, value,
                                  "" if ok else f"read {raw.strip()[:80]!r} as {value:g}"))
    return from_checks(task, tuple(checks))


def grade_manual(task: TaskSpec, doc: answers_mod.AnswersDoc | None, answers_file: str) -> TaskResult:
    section = doc.section(task.section or task.id) if doc else None
    text = section.text if section else ""
    body = "\n".join(line for line in text.splitlines() if line.strip()).strip()
    if not body:
        return TaskResult(task.id, task.title, Status.MISSING, 0.0, task.points,
                          f"nothing written in the '## {task.section or task.id}' section of {answers_file}")
    return TaskResult(task.id, task.title, Status.MANUAL, None, task.points,
                      task.message or "awaits a TA: the submitted text is shown below", submitted_text=text[:20000])


def parse_answers(text: str, template: str, section_ids: set[str]) -> answers_mod.AnswersDoc:
    """The student's answers file with the handed-out template's own lines left out."""
    return answers_mod.parse(answers_mod.without_template(text, template), section_ids)
