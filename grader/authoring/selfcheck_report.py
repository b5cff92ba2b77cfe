"""A `grader rubric check` result as Markdown: readable in a terminal and pasted into docs as is."""

from __future__ import annotations

from grader.authoring.selfcheck import SelfCheck
from grader.judgement.rubric import Rubric


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def markdown(report: SelfCheck, rubric: Rubric, *, diffs: bool = True) -> str:
    out = [f"## `grader rubric check {rubric.id}`", ""]
    if report.solution is None:
        out.append("- the solution could not be graded")
    elif report.solution_problems:
        out.append(f"- **the solution does not earn every auto-graded point** ({report.solution.score:g}/"
                   f"{report.solution.max_score:g}):")
        out += [f"  - {p}" for p in report.solution_problems]
    else:
        manual = [t.id for t in report.solution.tasks if t.points is None]
        out.append(f"- the solution earns every auto-graded point: {report.solution.score:g}/"
                   f"{report.solution.max_score:g}" + (f" ({', '.join(manual)} left for a TA)" if manual else ""))
    if report.starter is None:
        out.append("- the starter could not be graded")
    elif report.starter_problems:
        out.append("- **the starter earns code points:**")
        out += [f"  - {p}" for p in report.starter_problems]
    else:
        out.append(f"- the starter as handed out earns no code point (total {report.starter.score:g})")
    if report.mutants_found:
        graded = len(report.outcomes)
        caught = sum(o.caught for o in report.outcomes)
        failed = sum(o.grader_failed for o in report.outcomes)
        out.append(f"- mutants: {report.mutants_found} made from the lines a student writes, {report.mutants_sampled} "
                   f"sampled, {graded} graded; {caught} caught ({_pct(caught / graded if graded else None)})"
                   + (f"; {failed} ended in a grader failure (not counted)" if failed else ""))
    out += [f"- {note}" for note in report.notes]
    timings = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.timings.items())
    out += [f"- took {timings}", ""]
    rows = [[s.task, s.title, str(s.mutants), str(s.caught), _pct(s.score)] for s in report.task_scores(rubric.tasks)]
    if rows:
        out += _table(["task", "title", "mutants in its code", "caught by its checks", "score"], rows) + [""]
    if report.not_measured:
        out += ["Not measured by mutants:", ""]
        out += [f"- {task}: {why}" for task, why in report.not_measured.items()] + [""]
    failed = [o for o in report.outcomes if o.grader_failed]
    if failed:
        out += [f"### {len(failed)} mutant(s) the grader failed on (not counted)", ""]
        out += [f"- #{o.mutant.number} {o.mutant.where}: {o.mutant.edit.description}: {o.detail[:300]}" for o in failed]
        out.append("")
    survivors = report.survivors
    if survivors:
        out += [f"### {len(survivors)} surviving mutant(s)", ""]
        for outcome in survivors:
            m = outcome.mutant
            owners = ", ".join(outcome.owners) or "no task"
            out.append(f"- #{m.number} ({owners}) {m.where}: {m.edit.kind}, {m.edit.description}")
            if diffs:
                out += ["", "  ```diff"] + [f"  {line}" for line in m.diff.rstrip().splitlines()] + ["  ```", ""]
    return "\n".join(out).rstrip() + "\n"
