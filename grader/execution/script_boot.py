"""Runs one student script as `python script.py` would, with matplotlib headless and its figures kept.

This file runs inside the sandbox, in the student's process, before the student's script. It
adds nothing to the script's namespace: it only makes `plt.show()` and `savefig` leave a PNG
copy of each figure in the folder named by $GRADER_FIGURES, which the grader reads back and
shows in the report. matplotlib is patched only if the script imports pyplot, so a script that
draws nothing pays nothing. Only the standard library is imported here.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import io
import os
import re
import runpy
import sys
from typing import Any

MAX_FIGURES = 24
MAX_PNG_BYTES = 600 * 1024
_DPI = (80, 50)  # a figure too large at the first resolution is saved again at the second


class _Figures:
    """Writes each captured figure as NN-how[-name].png, at most MAX_FIGURES of them."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.count = 0

    def save(self, fig: Any, how: str, name: str = "", savefig: Any = None) -> None:
        if self.count >= MAX_FIGURES:
            return
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.splitext(os.path.basename(str(name)))[0])[:60] if name else ""
        for dpi in _DPI:
            buf = io.BytesIO()
            try:
                (savefig or fig.savefig)(buf, format="png", dpi=dpi)
            except Exception:  # noqa: BLE001 - a figure that cannot be drawn is the student's; the script goes on
                return
            if buf.tell() <= MAX_PNG_BYTES:
                break
        else:
            return
        self.count += 1
        path = os.path.join(self.folder, f"{self.count:02d}-{how}{'-' + stem if stem else ''}.png")
        with open(path, "wb") as f:
            f.write(buf.getvalue())


def _patch_pyplot(plt: Any, figures: _Figures) -> None:
    from matplotlib.figure import Figure

    original_savefig = Figure.savefig

    def savefig(self: Any, fname: Any, *args: Any, **kwargs: Any) -> Any:
        result = original_savefig(self, fname, *args, **kwargs)
        name = fname if isinstance(fname, (str, os.PathLike)) else ""
        figures.save(self, "savefig", str(name), lambda buf, **kw: original_savefig(self, buf, **kw))
        return result

    def show(*args: Any, **kwargs: Any) -> None:
        """What a window would have shown: every open figure, then closed as the windows would be."""
        for number in plt.get_fignums():
            fig = plt.figure(number)
            figures.save(fig, "show", "", lambda buf, fig=fig, **kw: original_savefig(fig, buf, **kw))
        plt.close("all")

    Figure.savefig = savefig
    plt.show = show


class _PyplotHook(importlib.abc.MetaPathFinder):
    """Patches matplotlib.pyplot right after the script imports it, and never imports it itself."""

    def __init__(self, figures: _Figures) -> None:
        self.figures = figures

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "matplotlib.pyplot":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module
        figures = self.figures

        def exec_and_patch(module: Any) -> None:
            exec_module(module)
            _patch_pyplot(module, figures)

        loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec


def main() -> None:
    script = sys.argv[1]
    figures = os.environ.get("GRADER_FIGURES")
    sys.argv = sys.argv[1:]
    sys.path[0] = os.path.dirname(os.path.abspath(script))  # as `python script.py` does
    if figures:
        sys.meta_path.insert(0, _PyplotHook(_Figures(figures)))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
