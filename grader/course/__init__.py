"""The course's round trip: submissions in from the course system, deadlines, grades back out.

Orchestration, above the three layers: importers turn a course system's bulk download into
submission folders and a roster (importers/), lateness joins the roster with the rubric's
deadline (grader/lateness.py), and exports write the course system's grade files (exports.py).
"""
