"""Drawing a result's plots (kept as data in result.json) into PNGs the report embeds.

The data comes from result.json files and, through the numbers in it, from student code. So it is
validated strictly (types, sizes, finiteness) and anything unexpected gives None ("plot unavailable")
rather than an exception: a strange plot must never cost a TA the whole report. Figures are drawn
with the Agg canvas directly (no pyplot: no global figure registry, no GUI backend), so reports can
be rendered from several threads.
"""

from __future__ import annotations

import base64
import io
import math
import warnings
from collections.abc import Callable
from numbers import Real
from typing import Any

import numpy as np

from grader.presentation.plot_cache import cached_png
from grader.results import Plot


def Figure(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 - stands in for matplotlib's class
    """matplotlib's Figure, imported on first use: `grader check` prints no plot and starts faster."""
    from matplotlib.figure import Figure as _Figure

    return _Figure(*args, **kwargs)


def FigureCanvasAgg(fig: Any) -> Any:  # noqa: N802 - stands in for matplotlib's class
    from matplotlib.backends.backend_agg import FigureCanvasAgg as _Canvas

    return _Canvas(fig)

MAX_POINTS = 20_000  # all series of a line plot together
MAX_SERIES = 12
MAX_IMAGES = 64
MAX_IMAGE_SIDE = 64
MAX_MATRIX_SIDE = 50
_MAX_LABEL_CHARS = 80
_DPI = 100


class _Malformed(Exception):
    """The plot's data is not what its kind promises."""


def render_plot(plot: Plot) -> str | None:
    """The plot as a base64 PNG, or None when its data is malformed (never raises).

    Drawing is the slowest part of a report page, and a regrade draws the same plots again: PNGs
    are kept in the grader's cache, addressed by the plot's data and this module's code."""
    return cached_png(plot, _render_plot)


def _render_plot(plot: Plot) -> str | None:
    try:
        if not isinstance(plot, Plot) or not isinstance(plot.data, dict):
            return None
        draw = _KINDS.get(plot.kind) if isinstance(plot.kind, str) else None
        if draw is None:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. a glyph missing from the font
            fig = draw(plot.data)
            buf = io.BytesIO()
            FigureCanvasAgg(fig)
            fig.savefig(buf, format="png", dpi=_DPI)
            fig.clear()
        return base64.b64encode(buf.getvalue()).decode("ascii")
    except Exception:  # noqa: BLE001 - a plot is decoration: any failure degrades to "plot unavailable"
        return None


# --- validation -------------------------------------------------------------------------------


def _label(value: Any) -> str:
    """A label for matplotlib: plain text only (a `$` would switch on mathtext), short, one line."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Malformed("label is not a string")
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    if len(text) > _MAX_LABEL_CHARS:
        text = text[: _MAX_LABEL_CHARS - 1] + "…"
    return text.replace("$", r"\$")


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise _Malformed("not a number")
    return float(value)


def _list(value: Any, limit: int) -> list[Any]:
    if not isinstance(value, list | tuple) or not value or len(value) > limit:
        raise _Malformed("not a non-empty list within its size limit")
    return list(value)


# --- kinds ------------------------------------------------------------------------------------


def _line(data: dict[str, Any]) -> Figure:
    series = data.get("series")
    if not isinstance(series, dict) or not series or len(series) > MAX_SERIES:
        raise _Malformed("series")
    curves: list[tuple[str, np.ndarray]] = []
    total = 0
    for name, ys in series.items():
        ys = _list(ys, MAX_POINTS)
        total += len(ys)
        if total > MAX_POINTS:
            raise _Malformed("too many points")
        # a diverging loss (inf/nan) is a fact worth seeing: drawn as a gap, not a crash
        y = np.array([_number(v) for v in ys], dtype=np.float64)
        y[~np.isfinite(y)] = np.nan
        curves.append((_label(name), y))
    finite = np.concatenate([y[np.isfinite(y)] for _, y in curves])
    if finite.size == 0:
        raise _Malformed("no finite value")
    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = fig.add_subplot()
    for name, y in curves:
        ax.plot(np.arange(y.size), y, label=name or None, linewidth=1.2)
    low, high = float(finite.min()), float(finite.max())
    if low > 0 and high / low > 1e3:  # e.g. a loss that blew up: linear would flatten everything else
        ax.set_yscale("log")
    ax.set_xlabel(_label(data.get("xlabel")))
    ax.set_ylabel(_label(data.get("ylabel")))
    ax.grid(True, alpha=0.3)
    if len(curves) > 1 or curves[0][0]:
        ax.legend(loc="best", fontsize=9)
    return fig


def _matrix(data: dict[str, Any]) -> Figure:
    rows = _list(data.get("values"), MAX_MATRIX_SIDE)
    width = len(_list(rows[0], MAX_MATRIX_SIDE))
    values = np.array([[_number(v) for v in _list(row, MAX_MATRIX_SIDE)] for row in rows], dtype=np.float64)
    if values.shape != (len(rows), width) or not np.isfinite(values).all():
        raise _Malformed("matrix is ragged or not finite")
    n_rows, n_cols = values.shape
    side = min(6.0, max(3.0, 0.45 * max(n_rows, n_cols) + 1.2))
    fig = Figure(figsize=(side + 0.9, side), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="Blues", interpolation="nearest", aspect="equal")
    fig.colorbar(image, ax=ax, shrink=0.8)
    low, high = float(values.min()), float(values.max())
    if max(n_rows, n_cols) <= 20:  # numbers in cells while they stay readable
        integers = bool(np.all(values == np.round(values))) and high < 1e9
        size = 9 if max(n_rows, n_cols) <= 12 else 6
        for i in range(n_rows):
            for j in range(n_cols):
                v = values[i, j]
                text = str(int(v)) if integers else format(v, ".3g")
                dark = high > low and (v - low) / (high - low) > 0.55
                ax.text(j, i, text, ha="center", va="center", fontsize=size, color="white" if dark else "#1f2328")
    ax.set_xticks(range(n_cols), labels=[str(j) for j in range(n_cols)], fontsize=8)
    ax.set_yticks(range(n_rows), labels=[str(i) for i in range(n_rows)], fontsize=8)
    ax.set_xlabel(_label(data.get("xlabel")))
    ax.set_ylabel(_label(data.get("ylabel")))
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    return fig


def _images(data: dict[str, Any]) -> Figure:
    shape = _list(data.get("shape"), 2)
    if len(shape) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) for s in shape):
        raise _Malformed("shape")
    h, w = shape
    if not (1 <= h <= MAX_IMAGE_SIDE and 1 <= w <= MAX_IMAGE_SIDE):
        raise _Malformed("image size")
    images = _list(data.get("images"), MAX_IMAGES)
    pixels = []
    for img in images:
        img = _list(img, h * w)
        if len(img) != h * w:
            raise _Malformed("image does not match its shape")
        pixels.append([_number(v) for v in img])
    arr = np.array(pixels, dtype=np.float64)
    if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 255:
        raise _Malformed("pixel values outside 0..255")
    # one grid image with a 1-pixel gap, like the notebook's visualize_grid
    n = len(images)
    cols = math.ceil(math.sqrt(n))
    rows_n = math.ceil(n / cols)
    pad = 1
    grid = np.full((rows_n * (h + pad) + pad, cols * (w + pad) + pad), 255.0)
    for k in range(n):
        r, c = divmod(k, cols)
        y0, x0 = pad + r * (h + pad), pad + c * (w + pad)
        grid[y0 : y0 + h, x0 : x0 + w] = arr[k].reshape(h, w)
    zoom = max(1, min(8, 480 // max(grid.shape)))  # whole screen pixels per image pixel: crisp, even gaps
    fig = Figure(figsize=(grid.shape[1] * zoom / _DPI, grid.shape[0] * zoom / _DPI))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.set_axis_off()
    return fig


_KINDS: dict[str, Callable[[dict[str, Any]], Figure]] = {"line": _line, "matrix": _matrix, "images": _images}
