"""Summarising an executed notebook for the report: each cell's source, status and outputs.

Everything here is student output, kept as data (text escaped by the report, images accepted
only when they really are PNGs) and capped, so a notebook cannot bloat or script the report.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import nbformat

from grader.execution.notebook import NotebookRun
from grader.results import CellOutput, CellReport, NotebookReport

EXECUTED_FILE = "executed.ipynb"
_TEXT_CAP = 4000
_SOURCE_CAP = 3000
_PNG_CAP = 400 * 1024
_MAX_IMAGES = 12
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _clip(text: str, cap: int = _TEXT_CAP) -> str:
    text = _ANSI.sub("", text)
    return text if len(text) <= cap else text[:cap] + f"\n[... {len(text) - cap} more characters]"


def _png(data: Any) -> str | None:
    if not isinstance(data, str) or len(data) > _PNG_CAP * 4 // 3 + 16:
        return None
    try:
        raw = base64.b64decode(data.replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return None
    return base64.b64encode(raw).decode() if raw.startswith(_PNG_MAGIC) else None


def _outputs(cell: Any, images: list[int]) -> tuple[CellOutput, ...]:
    result = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            text = out.get("text", "")
            result.append(CellOutput("text", _clip(text if isinstance(text, str) else "".join(text))))
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            png = _png(data.get("image/png")) if images[0] < _MAX_IMAGES else None
            if png:
                images[0] += 1
                result.append(CellOutput("image", png=png))
            elif "text/plain" in data:
                text = data["text/plain"]
                result.append(CellOutput("text", _clip(text if isinstance(text, str) else "".join(text))))
        elif kind == "error":
            trace = "\n".join(str(line) for line in out.get("traceback", []))
            result.append(CellOutput("error", _clip(f"{out.get('ename')}: {out.get('evalue')}\n{trace}")))
    return tuple(result)


def notebook_report(run: NotebookRun | None) -> tuple[NotebookReport | None, dict[str, bytes]]:
    """The report's view of a run, and the executed notebook as an artifact to keep."""
    if run is None:
        return None, {}
    cells: list[CellReport] = []
    artifacts: dict[str, bytes] = {}
    if run.executed is not None:
        images = [0]
        student = [c for c in run.executed.cells if c.get("metadata", {}).get("grader") != "injected"]
        for index, cell in enumerate(student):
            if cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            outputs = _outputs(cell, images)
            if run.failed_cell == index and run.status in ("timeout", "dead"):
                status = run.status
            elif any(o.kind == "error" for o in outputs):
                status = "error"
            elif cell.get("execution_count") is None and not outputs:
                status = "not run"
            else:
                status = "ok"
            cells.append(CellReport(index + 1, _clip(source, _SOURCE_CAP), status, outputs))
        try:
            artifacts[EXECUTED_FILE] = nbformat.writes(run.executed).encode()
        except Exception:  # noqa: BLE001 - an unwritable notebook is not worth losing the result over
            pass
    report = NotebookReport(run.status, run.message, round(run.duration_s, 2), tuple(cells), tuple(run.notes),
                            EXECUTED_FILE if artifacts else None)
    return report, artifacts
