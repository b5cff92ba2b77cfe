"""`grader rubric check`: is this rubric right, and how strong is it?

Three measurements, all through the same workers and sandbox as real grading:

1. the solution (laid over the starter, as a student would hand it in) must earn every
   auto-graded point;
2. the starter, as handed out, must earn no point on a code task;
3. mutants of the solution (grader/authoring/mutation.py), each one plausible bug in the lines a
   student writes, are graded; a mutant is *caught* when it earns fewer points than the unmutated
   solution does in the same run. Per task: the share of the mutants in that task's code that its
   checks catch, and the diff of every survivor.

A mutant is graded on the tasks whose code it is in (all the measured tasks when it is in no
task's code), plus the tasks their `depends_on` checks need (graded only so those checks count):
that is the figure that says how strong each task's checks are, and it keeps a notebook mutant
to a few probes. Only tasks that read the mutated file are measured, without the
slow parameters `[selftest] without_params` names, and a notebook is run with the cells
`[selftest] keep_cells` does not match emptied: a task the unmutated solution does not pass that way (it needs a
training cell) is listed as not measured. The run stops starting new mutants after
`--budget` seconds and samples at most `--max-mutants`, the same ones every run.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import nbformat

from grader.authoring.mutation import Mutant, changed_lines, mutate_source, sample, unified_diff
from grader.executors import GradeJob, LocalExecutor
from grader.judgement.rubric import Rubric, TaskSpec
from grader.judgement.sections import SelftestSection
from grader.results import AUTO_GRADED, SubmissionResult
from grader.workflows import UsageProblem

SELFTEST_SECRET = b"grader rubric check: the self-test's own secret"
_TASK_ID_CHARS = r"[A-Za-z0-9_.-]"


@dataclass(frozen=True)
class MutantOutcome:
    mutant: Mutant
    owners: tuple[str, ...]  # tasks whose code the mutant is in
    caught_by: tuple[str, ...]  # tasks that gave it fewer points than the solution
    grader_failed: bool = False
    detail: str = ""  # the grader failure's message, when there was one

    @property
    def caught(self) -> bool:
        return bool(self.caught_by)


@dataclass(frozen=True)
class TaskScore:
    task: str
    title: str
    mutants: int
    caught: int

    @property
    def score(self) -> float | None:
        return self.caught / self.mutants if self.mutants else None


@dataclass
class SelfCheck:
    rubric: str
    solution: SubmissionResult | None = None
    starter: SubmissionResult | None = None
    solution_problems: list[str] = field(default_factory=list)  # tasks short of full marks, and why
    starter_problems: list[str] = field(default_factory=list)  # code tasks the starter earns points on
    measured: list[str] = field(default_factory=list)
    not_measured: dict[str, str] = field(default_factory=dict)
    outcomes: list[MutantOutcome] = field(default_factory=list)
    mutants_found: int = 0
    mutants_sampled: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.solution is not None and not self.solution_problems and not self.starter_problems

    @property
    def grader_failed(self) -> bool:
        return any(r is not None and r.grader_failures for r in (self.solution, self.starter))

    def task_scores(self, tasks: tuple[TaskSpec, ...]) -> list[TaskScore]:
        rows = []
        for task in tasks:
            if task.id not in self.measured:
                continue
            mine = [o for o in self.outcomes if task.id in o.owners and not o.grader_failed]
            rows.append(TaskScore(task.id, task.title, len(mine), sum(task.id in o.caught_by for o in mine)))
        loose = [o for o in self.outcomes if not o.owners and not o.grader_failed]
        if loose:
            rows.append(TaskScore("—", "in no task's code (graded on every task)", len(loose),
                                  sum(o.caught for o in loose)))
        return rows

    @property
    def survivors(self) -> list[MutantOutcome]:
        return [o for o in self.outcomes if not o.caught and not o.grader_failed]


# --- the submissions the self-test grades ----------------------------------------------------------


def _selftest(rubric: Rubric) -> SelftestSection:
    config = rubric.section(SelftestSection)
    if config is None or config.solution is None or config.starter is None:
        raise UsageProblem(f"{rubric.path}: add a [selftest] section with solution = \"<folder>\" and starter = "
                           "\"<folder>\" (each laid out as a submission) so `grader rubric check` can grade them")
    return config


def _copy(source: Path, dest: Path, skip: set[str]) -> None:
    """Copy a folder, leaving out top-level folders the grader links itself ([data])."""
    shutil.copytree(source, dest, dirs_exist_ok=True,
                    ignore=lambda folder, names: [n for n in names if Path(folder) == source and n in skip])


def build_submissions(rubric: Rubric, into: Path) -> tuple[Path, Path]:
    """The solution as a student would hand it in (laid over the starter), and the starter as handed out."""
    config = _selftest(rubric)
    assert config.solution is not None and config.starter is not None
    skip = set(rubric.data)
    starter, solution = into / "starter", into / "solution"
    _copy(config.starter, starter, skip)
    _copy(config.starter, solution, skip)
    _copy(config.solution, solution, skip)
    return solution, starter


def _grade(jobs: list[GradeJob], rubric: Rubric, workers: int | None) -> dict[str, SubmissionResult]:
    return {p.sub_id: p.submission_result for p in LocalExecutor(workers).run(jobs, rubric)}


def _job(sub_id: str, source: Path, rubric: Rubric) -> GradeJob:
    return GradeJob(sub_id, str(source), rubric, SELFTEST_SECRET, render=False)


def _full_marks_problems(result: SubmissionResult, rubric: Rubric) -> list[str]:
    problems = []
    for task in result.tasks:
        spec = next(t for t in rubric.tasks if t.id == task.id)
        if spec.grader in ("answers", "checks") and (task.points is None or task.points < task.max_points):
            problems.append(f"{task.id} {task.status.value} {task.points if task.points is not None else '—'}"
                            f"/{task.max_points:g}: {task.message}")
    return problems


def _starter_problems(result: SubmissionResult, rubric: Rubric) -> list[str]:
    code = {t.id for t in rubric.tasks if t.grader == "checks"}
    return [f"{t.id} earns {t.points:g}/{t.max_points:g}: {t.message}" for t in result.tasks
            if t.id in code and t.points]


# --- mutants ---------------------------------------------------------------------------------------------


def _owners(mutant: Mutant, text: str, rubric: Rubric) -> tuple[str, ...]:
    """The tasks a mutant's code belongs to: the task whose banner comment comes last before it inside its
    function (HW4's `# T5: ...`), else the tasks whose `function` names the def or class it is in."""
    ids = [t.id for t in rubric.tasks if t.grader == "checks"]
    lines = text.splitlines()
    first = 1
    pattern = re.compile(rf"(?<!{_TASK_ID_CHARS})({'|'.join(map(re.escape, ids))})(?!{_TASK_ID_CHARS})")
    for number in range(mutant.edit.line - 1, first - 1, -1):
        line = lines[number - 1] if number - 1 < len(lines) else ""
        if re.match(r"\s*(def|class)\s", line):
            break
        comment = line.partition("#")[2]
        found = pattern.findall(comment)
        if found:
            return (found[-1],)
    names = set(mutant.owner_names)
    names |= {".".join(mutant.owner_names[i:i + 2]) for i in range(len(mutant.owner_names) - 1)}
    return tuple(t.id for t in rubric.tasks if t.grader == "checks" and names & set(t.functions))


def _mutated_files(rubric: Rubric, config: SelftestSection) -> tuple[str, ...]:
    if config.mutate:
        unknown = [k for k in config.mutate if k not in rubric.files]
        if unknown:
            raise UsageProblem(f"{rubric.path}: [selftest] mutate names {unknown}, not names from [files]")
        return config.mutate
    return ("module",) if "module" in rubric.files else ("notebook",) if "notebook" in rubric.files else ()


def _keep(config: SelftestSection) -> Callable[[str], bool]:
    if not config.keep_cells:
        return lambda source: True
    pattern = re.compile(config.keep_cells)
    return lambda source: bool(pattern.search(source))


def notebook_mutants(solution_nb: Path, starter_nb: Path | None, relpath: str, keep: Callable[[str], bool]
                     ) -> tuple[nbformat.NotebookNode, list[tuple[int, Mutant]]]:
    """The notebook mutants run from (cells `keep` rejects emptied) and its mutants, by cell index."""
    nb = nbformat.read(solution_nb, as_version=4)
    starter = nbformat.read(starter_nb, as_version=4) if starter_nb and starter_nb.is_file() else None
    starter_cells = starter.cells if starter is not None and len(starter.cells) == len(nb.cells) else None
    found: list[tuple[int, Mutant]] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if not keep(cell.source):
            cell.source = "pass"
            cell.outputs = []
            continue
        before = starter_cells[index].source if starter_cells is not None else None
        for edit, mutated, owners in mutate_source(cell.source, changed_lines(before, cell.source)):
            label = f"{relpath} cell {index + 1}"
            found.append((index, Mutant(0, relpath, index + 1, edit, mutated, unified_diff(cell.source, mutated, label),
                                        owners)))
    return nb, found


def _mutants(rubric: Rubric, config: SelftestSection, base: Path, starter: Path
             ) -> Iterator[tuple[Mutant, tuple[str, ...], Callable[[Path], None]]]:
    """Each mutant, the tasks whose code it is in, and a function that writes it into a copy of the base."""
    keep = _keep(config)
    for key in _mutated_files(rubric, config):
        relpath = rubric.files[key]
        target = base / relpath
        if not target.is_file():
            raise UsageProblem(f"the solution has no {relpath} ([files] {key}) to mutate")
        if relpath.endswith(".ipynb"):
            nb, found = notebook_mutants(target, starter / relpath, relpath, keep)
            nbformat.write(nb, target)  # the base keeps only the kept cells too
            for index, mutant in found:
                def write(root: Path, index: int = index, source: str = mutant.source, relpath: str = relpath) -> None:
                    copy = nbformat.read(root / relpath, as_version=4)
                    copy.cells[index].source = source
                    nbformat.write(copy, root / relpath)
                yield mutant, _owners(mutant, nb.cells[index].source, rubric), write
        else:
            text = target.read_text()
            before = (starter / relpath).read_text() if (starter / relpath).is_file() else None
            for edit, mutated, owners in mutate_source(text, changed_lines(before, text)):
                mutant = Mutant(0, relpath, None, edit, mutated, unified_diff(text, mutated, relpath), owners)

                def write(root: Path, source: str = mutated, relpath: str = relpath) -> None:
                    (root / relpath).write_text(source)
                yield mutant, _owners(mutant, text, rubric), write


def _mutation_rubric(rubric: Rubric, config: SelftestSection, keys: tuple[str, ...]) -> Rubric:
    tasks = tuple(t for t in rubric.tasks if t.grader == "checks" and set(t.needs) & set(keys))
    lean = replace(rubric, tasks=tasks, notebook=rubric.notebook if "notebook" in keys else None)
    for name in config.without_params:
        lean = lean.without_param(name)
    return lean


def check_rubric(rubric: Rubric, *, workers: int | None = None, budget_s: float | None = None,
                 max_mutants: int | None = None, mutants: bool = True,
                 progress: Callable[[str], None] = lambda line: None) -> SelfCheck:
    """Grade the solution, the starter and mutants of the solution; see the module's docstring."""
    config = _selftest(rubric)
    budget = budget_s if budget_s is not None else config.budget_s
    limit = max_mutants if max_mutants is not None else config.max_mutants
    report = SelfCheck(rubric.id)
    rubric.load_judges()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="grader-selftest-") as tmp:
        root = Path(tmp)
        solution, starter = build_submissions(rubric, root / "given")
        progress("grading the solution and the starter")
        graded = _grade([_job("solution", solution, rubric), _job("starter", starter, rubric)], rubric, workers)
        report.solution, report.starter = graded.get("solution"), graded.get("starter")
        if report.solution is not None:
            report.solution_problems = _full_marks_problems(report.solution, rubric)
        if report.starter is not None:
            report.starter_problems = _starter_problems(report.starter, rubric)
        report.timings["solution and starter"] = time.monotonic() - started
        if mutants:
            _run_mutants(rubric, config, solution, starter, root, report, workers, budget, limit, progress)
    report.timings["total"] = time.monotonic() - started
    return report


def _run_mutants(rubric: Rubric, config: SelftestSection, solution: Path, starter: Path, root: Path,
                 report: SelfCheck, workers: int | None, budget: float, limit: int,
                 progress: Callable[[str], None]) -> None:
    began = time.monotonic()
    keys = _mutated_files(rubric, config)
    lean = _mutation_rubric(rubric, config, keys)
    if not lean.tasks:
        report.notes.append(f"no checks task reads {', '.join(keys) or 'a mutable file'}: no mutants graded")
        return
    base = root / "base"
    shutil.copytree(solution, base)
    found = list(_mutants(rubric, config, base, starter))  # also strips the base notebook's cells
    report.mutants_found = len(found)
    owners_of = {id(m): owners for m, owners, _ in found}
    picked = {id(m) for m in sample([m for m, _, _ in found], limit, group=lambda m: owners_of[id(m)])}
    chosen = [entry for entry in found if id(entry[0]) in picked]
    report.mutants_sampled = len(chosen)
    progress(f"grading the unmutated baseline, then {len(chosen)} of {len(found)} mutants")
    baseline = _grade([_job("baseline", base, lean)], lean, 1)["baseline"]
    points = {t.id: t.points for t in baseline.tasks}
    for task in lean.tasks:
        done = baseline.task(task.id)
        if done.points == done.max_points and done.status in AUTO_GRADED:
            report.measured.append(task.id)
        else:
            report.not_measured[task.id] = f"the unmutated solution gets {done.status.value} here ({done.message})"
    measured_ids = {t.id for t in lean.tasks}
    for task in rubric.tasks:
        if task.grader == "checks" and task.id not in measured_ids:
            report.not_measured.setdefault(task.id, f"it does not read {', '.join(keys)}")
    report.timings["baseline"] = time.monotonic() - began
    if not report.measured:
        return
    jobs, by_id = [], {}
    # a check that depends_on other tasks counts only when they pass: grade those tasks too
    needs = {t.id: {d for c in t.checks for d in c.depends_on if d != t.id} for t in baseline.tasks}
    lean_for: dict[tuple[str, ...], Rubric] = {}
    for number, (mutant, owners, write) in enumerate(chosen, 1):
        folder = root / "mutants" / f"m{number:04d}"
        shutil.copytree(base, folder)
        write(folder)
        graded = {t for t in owners if t in report.measured} or set(report.measured)
        while any(needs.get(t, set()) - graded for t in list(graded)):
            graded |= {d for t in list(graded) for d in needs.get(t, set())}
        graded_on = tuple(t.id for t in lean.tasks if t.id in graded)
        if graded_on not in lean_for:
            lean_for[graded_on] = replace(lean, tasks=tuple(t for t in lean.tasks if t.id in graded_on))
        by_id[folder.name] = (replace(mutant, number=number), owners)
        jobs.append(_job(folder.name, folder, lean_for[graded_on]))
    mutants_started = time.monotonic()
    # started in turn from each task's code, so a run the budget stops still covers every task
    groups: dict[tuple[str, ...], list[GradeJob]] = {}
    for job in jobs:
        groups.setdefault(by_id[job.sub_id][1], []).append(job)
    order = [job for rank in range(max(map(len, groups.values()), default=0))
             for group in groups.values() if rank < len(group) for job in [group[rank]]]
    for payload in LocalExecutor(workers).run(order, lean):
        result = payload.submission_result
        mutant, owners = by_id[payload.sub_id]
        scored = set(owners) & set(report.measured) or set(report.measured)  # dependencies only enable checks
        caught = tuple(t.id for t in result.tasks if t.id in scored
                       and not t.grader_failed and (t.points or 0.0) < (points.get(t.id) or 0.0))
        failed = [t for t in result.tasks if t.grader_failed]
        report.outcomes.append(MutantOutcome(mutant, owners, caught, grader_failed=bool(failed) and not caught,
                                             detail=f"{failed[0].id}: {failed[0].message}" if failed else ""))
        if len(report.outcomes) % 20 == 0:
            progress(f"{len(report.outcomes)}/{len(jobs)} mutants graded")
        if time.monotonic() - began > budget:
            report.notes.append(f"stopped after {len(report.outcomes)} of {len(jobs)} mutants: the budget of "
                                f"{budget:g} s was spent")
            break
    report.outcomes.sort(key=lambda o: o.mutant.number)
    elapsed = time.monotonic() - mutants_started
    report.timings["mutants"] = elapsed
    if report.outcomes:
        report.timings["per mutant (wall)"] = elapsed / len(report.outcomes)
