"""What each `grader` command does, as library functions: the CLI (grader/cli.py) only gathers
options, calls one of these and prints. A script or a notebook can call them the same way."""


class UsageProblem(Exception):
    """The command was given something it cannot use (a bad rubric, a missing folder, a bad score).

    The CLI shows the message as a usage error (exit 2); it never means a student's code is wrong.
    """
