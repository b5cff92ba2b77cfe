"""grader: an autograding harness whose verdicts student code cannot fool."""

__version__ = "0.2.0"
