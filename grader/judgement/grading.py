"""Where grading lived before it was split along its seams; kept so older imports still work.

Rubric authors import from `grader.api`. Inside the grader: `verdict.py` (check results to task
results), `submission.py` (one submission, the one place a failure becomes a result),
`context.py` (TaskContext), `probe_cache.py` and `submission_run.py` (the notebook thread).
"""

from grader.judgement.context import (  # noqa: F401
    STUDENT_FULL,
    STUDENT_QUICK,
    TA_MODE,
    GradingMode,
    ProbeFailure,
    TaskContext,
    TaskEnded,
)
from grader.judgement.submission import grade_submission  # noqa: F401
from grader.judgement.written import grade_answers, grade_manual  # noqa: F401
from grader.results import AFTER_SUBMISSION  # noqa: F401
