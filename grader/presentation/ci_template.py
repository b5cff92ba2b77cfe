"""The GitHub Actions workflow `grader ci-template` prints for an assignment repository.

It is a plain string template rather than YAML built from data, so what a course copies is
readable and commented; the values put into it are checked to be one line each.
"""

from __future__ import annotations

DEFAULT_INSTALL = "git+https://github.com/YOUR-COURSE/grader.git"

_WORKFLOW = """\
# Checks the homework with the course's grader on every push: public checks only (hidden
# checks are graded after submission). Made by `grader ci-template`.
name: grader check
on: [push, pull_request, workflow_dispatch]
jobs:
  check:
    runs-on: ubuntu-latest
    timeout-minutes: 15
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "{python_version}"
      - name: Install the grader
        # until the grader is on PyPI, it is installed from the course's repository
        run: python -m pip install "{install_spec}"
      - name: grader check
        # annotations and the job summary come from $GITHUB_ACTIONS; exit 1 when a task fails
        run: grader check "{directory}" --rubric "{rubric}" --junit grader-junit.xml
      - name: Keep the JUnit report
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: grader-junit
          path: grader-junit.xml
          if-no-files-found: ignore
"""


def workflow_yaml(*, install_spec: str = DEFAULT_INSTALL, rubric: str = "hw4", directory: str = ".",
                  python_version: str = "3.11") -> str:
    """The workflow file, with the given install source, rubric, homework folder and Python."""
    values = {"install_spec": install_spec, "rubric": rubric, "directory": directory, "python_version": python_version}
    for name, value in values.items():
        if not value or any(ch in value for ch in '"\n\r'):
            raise ValueError(f"{name} must be one non-empty line without double quotes, not {value!r}")
    return _WORKFLOW.format(**values)
