"""The grader's rebuildable caches: prepared data (decoded once, read-only) and drawn plots."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest

from grader.execution import data_cache
from grader.presentation import plots
from grader.results import Plot


def _prepare_sum(folder: Path) -> dict[str, np.ndarray]:
    calls.append(folder)
    return {"total": np.array([sum(len(p.read_bytes()) for p in folder.iterdir())]), "ones": np.ones(3)}


calls: list[Path] = []


def test_prepared_data_is_built_once_read_only_and_rebuilt_when_the_data_changes(tmp_path: Path) -> None:
    source = tmp_path / "data"
    source.mkdir()
    (source / "a.bin").write_bytes(b"12345")
    calls.clear()
    first = data_cache.prepared_folder("toy", source, _prepare_sum, root=tmp_path / "cache")
    again = data_cache.prepared_folder("toy", source, _prepare_sum, root=tmp_path / "cache")
    assert first == again and len(calls) == 1
    assert not os.access(first, os.W_OK) or os.geteuid() == 0  # root ignores modes: check them instead
    assert stat.S_IMODE(first.stat().st_mode) == 0o555
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o444 for p in first.iterdir())
    assert data_cache.load_prepared(first)["total"].tolist() == [5]
    (source / "a.bin").write_bytes(b"1234567")
    changed = data_cache.prepared_folder("toy", source, _prepare_sum, root=tmp_path / "cache")
    assert changed != first and len(calls) == 2
    assert data_cache.load_prepared(changed)["total"].tolist() == [7]
    for folder in (first, changed):  # leave it removable
        os.chmod(folder, 0o755)
    shutil.rmtree(tmp_path / "cache")


def test_prepared_arrays_are_never_unpickled(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    np.save(folder / "evil.npy", np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        data_cache.load_prepared(folder)


def test_hw4s_prepared_mnist_is_the_notebooks_preprocessing(hw4_full) -> None:
    from grader.judgement.prepared import prepared_arrays

    arrays = prepared_arrays(hw4_full, "mnist")
    assert arrays["val_images"].shape == (5000, 784) and arrays["val_images"].dtype == np.uint8
    assert arrays["train_images"].shape == (10_000, 784) and arrays["test_labels"].shape == (10_000,)
    assert arrays["mean"].shape == (784,) and 33.0 < float(arrays["mean"].mean()) < 34.0  # MNIST's mean pixel


def test_a_plot_is_drawn_once_then_read_from_the_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path))
    drawn: list[Plot] = []
    real = plots._render_plot
    monkeypatch.setattr(plots, "_render_plot", lambda p: drawn.append(p) or real(p))
    plot = Plot("line", "loss", {"series": {"loss": [3.0, 2.0, 1.0]}})
    first = plots.render_plot(plot)
    assert first and plots.render_plot(plot) == first and len(drawn) == 1
    other = plots.render_plot(Plot("line", "loss", {"series": {"loss": [3.0, 2.0, 0.5]}}))
    assert other and other != first and len(drawn) == 2
    assert plots.render_plot(Plot("nonsense", "x", {})) is None
