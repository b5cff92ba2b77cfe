"""Tools for course staff writing a rubric: `grader rubric new` (a working skeleton) and
`grader rubric check` (the solution earns every point, the starter none, and mutants of the
solution are caught)."""
