"""Drawn plots kept by content: a regrade, a redraw or a second page never draws the same figure twice.

The key hashes the plot's kind, title and data with the drawing code (plots.py) and matplotlib's
version, so a change to either draws afresh. Entries are files under `<cache>/plots/` written
atomically; an unreadable or absent entry is simply drawn again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from grader.cache_dir import cache_root
from grader.results import Plot

_code_digest: str | None = None


def _code() -> str:
    global _code_digest
    if _code_digest is None:
        try:
            from importlib.metadata import version

            mpl = version("matplotlib")
        except Exception:  # noqa: BLE001 - no version: the code alone keys the cache
            mpl = ""
        source = (Path(__file__).parent / "plots.py").read_bytes()
        _code_digest = hashlib.sha256(source + mpl.encode()).hexdigest()
    return _code_digest


def plot_key(plot: Plot) -> str | None:
    try:
        text = json.dumps([plot.kind, plot.title, plot.data], sort_keys=True, allow_nan=True)
    except (TypeError, ValueError):
        return None
    return hashlib.sha256((_code() + text).encode()).hexdigest()


def cached_png(plot: Plot, draw: Callable[[Plot], str | None]) -> str | None:
    key = plot_key(plot) if isinstance(plot, Plot) else None
    if key is None:
        return draw(plot)
    path = cache_root() / "plots" / key[:2] / f"{key}.b64"
    try:
        return path.read_text(encoding="ascii") or None
    except OSError:
        pass
    png = draw(plot)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(png or "")
        os.replace(tmp, path)
    except OSError:  # a read-only cache: the plot is still drawn
        pass
    return png
