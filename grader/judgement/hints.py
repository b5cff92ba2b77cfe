"""Plain-language hints for the errors students hit most, so a message says what to do."""

from __future__ import annotations

_PY2_SIGNS = (
    "Missing parentheses in call to 'print'",
    "Missing parentheses in call to 'exec'",
    "multiple exception types must be parenthesized",
    "leading zeros in decimal integer literals",
    "name 'xrange' is not defined",
    "name 'raw_input' is not defined",
    "name 'unicode' is not defined",
    "name 'basestring' is not defined",
    "has no attribute 'iteritems'",
    "has no attribute 'has_key'",
)


def hint_for(error_type: str, message: str) -> str:
    if any(sign in message for sign in _PY2_SIGNS):
        return "This looks like Python 2 code; the grader runs Python 3. Port it (print(...), range, etc.)."
    if error_type == "TabError" or "inconsistent use of tabs" in message:
        return "Indent with spaces only (mixed tabs and spaces)."
    if error_type in ("ModuleNotFoundError", "ImportError"):
        return "Only the libraries of the starter code (numpy) can be relied on; remove other imports."
    if error_type == "MemoryError":
        return "The code used more memory than a task allows."
    return ""
