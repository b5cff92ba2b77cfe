"""The project as a TA gets it: an sdist and a wheel built the way PyPI would, installed into a
virtualenv of their own, `grader check` run from an unrelated folder.

The installed venv is a copy of the test venv (its dependencies, already installed) into which
the wheel is force-installed without dependencies, replacing the editable install: a full install
from the registry takes about a minute here, over this file's budget. Set
GRADER_TEST_FRESH_VENV=1 to install into an empty venv with the dependencies from the registry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from grader.execution import sandbox as sandbox_mod

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = PROJECT / "submissions"
DEV_ONLY = ("tests/", "submissions/", "benchmarks/", ".venv/", ".ci/", ".git/")


def _run(argv: list[str], cwd: Path, timeout: float = 300,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """sdist, then the wheel built from that sdist (`python -m build`), from a copy of the tree
    that also holds a stray virtualenv and caches, which must not be packed."""
    base = tmp_path_factory.mktemp("dists")
    tree = base / "tree"
    shutil.copytree(PROJECT, tree, ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "reports",
                                                                  "*.egg-info", "__pycache__", ".*_cache"))
    (tree / ".venv" / "lib").mkdir(parents=True)
    (tree / ".venv" / "lib" / "stray.py").write_text("")
    (tree / "rubrics" / "hw4" / "__pycache__").mkdir()
    (tree / "rubrics" / "hw4" / "__pycache__" / "checks.cpython-311.pyc").write_bytes(b"stale")
    out = base / "dist"
    done = _run([sys.executable, "-m", "build", "--outdir", str(out), str(tree)], cwd=base)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


def test_wheel_carries_the_rubrics_and_the_reference(dists: dict[str, Path]) -> None:
    names = set(zipfile.ZipFile(dists["wheel"]).namelist())
    data = "grader/_data/"
    for needed in ("rubrics/hw4/rubric.toml", "rubrics/hw4/checks.py", "rubrics/hw4/probes.py",
                   "rubrics/hw4/notebook_final_cell.py",
                   "reference/hw4/solution/cattern/neural_net.py",
                   "reference/hw4/starter/answers.md", "reference/hw4/starter/Simple_Neural_Network_Lab.ipynb",
                   "reference/hw4/starter/cattern/neural_net.py",
                   "reference/hw4/starter/mnist_data/train-images-idx3-ubyte.gz",
                   "reference/hw4/starter/mnist_data/t10k-labels-idx1-ubyte.gz"):
        assert data + needed in names, needed
    assert "grader/presentation/templates/report.html.j2" in names
    # nothing is left out: every file of the three shipped trees is in the wheel, at its mapped place
    shipped = {f"grader/{p.relative_to(PROJECT / 'grader')}" for p in (PROJECT / "grader").rglob("*.py")}
    # the web app's templates and the static files it serves (KaTeX and its fonts: no CDN)
    shipped |= {f"grader/{p.relative_to(PROJECT / 'grader')}" for p in (PROJECT / "grader" / "web").rglob("*")
                if p.is_file() and "__pycache__" not in p.parts}
    for top in ("rubrics", "reference"):
        shipped |= {f"{data}{p.relative_to(PROJECT)}" for p in (PROJECT / top).rglob("*")
                    if p.is_file() and "__pycache__" not in p.parts}
    assert not shipped - names, f"missing from the wheel: {sorted(shipped - names)}"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith(DEV_ONLY)]


def test_sdist_has_the_sources_and_not_the_development_tree(dists: dict[str, Path]) -> None:
    with tarfile.open(dists["sdist"]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"pyproject.toml", "rubrics/hw4/rubric.toml", "reference/hw4/solution/cattern/neural_net.py",
            "grader/judgement/rubric.py"} <= names
    leaked = sorted(n for n in names if n.startswith(DEV_ONLY) or n.endswith(".pyc"))
    assert not leaked, leaked


@pytest.fixture(scope="module")
def installed(dists: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv whose grader is the wheel, not this checkout."""
    venv = tmp_path_factory.mktemp("installed") / "venv"
    wheel = str(dists["wheel"])
    if os.environ.get("GRADER_TEST_FRESH_VENV") == "1":
        assert _run([sys.executable, "-m", "venv", str(venv)], cwd=venv.parent).returncode == 0
        argv = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", wheel]
    else:
        if sys.prefix == sys.base_prefix:
            pytest.skip("the tests are not running in a virtualenv to copy (set GRADER_TEST_FRESH_VENV=1)")
        shutil.copytree(sys.prefix, venv, symlinks=True)
        argv = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", wheel]
    done = _run(argv, cwd=venv.parent, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    where = _run([str(venv / "bin" / "python"), "-c", "import grader; print(grader.__file__)"], cwd=venv.parent)
    assert Path(where.stdout.strip()).is_relative_to(venv / "lib"), where.stdout + where.stderr
    return venv


def _check(venv: Path, submission: Path, cwd: Path) -> tuple[int, dict[str, dict], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_") and k != "PYTHONPATH"}
    out = cwd / f"out-{submission.name}"
    done = _run([str(venv / "bin" / "grader"), "check", str(submission), "--out", str(out)], cwd=cwd, env=env)
    written = out / submission.name / "result.json"
    assert written.is_file(), f"grader check wrote no result (exit {done.returncode}):\n{done.stdout}{done.stderr}"
    result = json.loads(written.read_text())
    return done.returncode, {t["id"]: t for t in result["tasks"]}, done.stdout + done.stderr


def _module_only(sample: str, dest: Path) -> Path:
    """A sample without its notebook, so `check` runs the module checks only (seconds, not minutes)."""
    shutil.copytree(SAMPLES / sample, dest, ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
    return dest


def test_installed_check_grades_from_any_folder(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    good = _module_only("reference-solution", tmp_path / "good")
    code, tasks, output = _check(installed, good, elsewhere)
    failing = sorted(t for t, r in tasks.items() if r["status"] not in ("pass", "manual", "pending"))
    # a quick check leaves T12 (it needs the notebook run) for after submission: every public check passes
    assert failing == [], output
    assert code == 0, output
    assert tasks["T12"]["status"] == "pending"
    assert tasks["T7"]["status"] == "pass" and tasks["T7"]["checks"]  # the probes ran in the installed sandbox

    buggy = _module_only("mistake-forward-no-bias", tmp_path / "buggy")
    code, tasks, output = _check(installed, buggy, elsewhere)
    assert code == 1, output
    # the published toy net starts with zero biases, so only the public gradient check sees the missing b1
    assert tasks["T7"]["status"] == "fail" and tasks["T6"]["status"] == "pass", output
    assert "not passing: T7" in output


def test_installed_reference_is_out_of_the_sandbox_reach(installed: Path, tmp_path: Path) -> None:
    """In a wheel install the reference solution sits in site-packages, which the sandbox binds
    (it is the Python installation): it must still be hidden from student code."""
    level, _ = sandbox_mod.detect(sys.executable)
    if not level.isolates:
        pytest.skip(f"no filesystem isolation at sandbox level {level.level.name}")
    (stolen,) = installed.glob("lib/python3*/site-packages/grader/_data/reference/hw4/solution/cattern/neural_net.py")
    thief = _module_only("reference-solution", tmp_path / "thief")
    (thief / "cattern" / "neural_net.py").write_text(
        "import importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('stolen', {str(stolen)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "TwoLayerNet = module.TwoLayerNet\n")
    code, tasks, output = _check(installed, thief, tmp_path)
    assert code == 1, output
    assert all(tasks[t]["status"] == "error" for t in ("T5", "T6", "T7", "T11")), output
    assert "FileNotFoundError" in json.dumps(tasks["T5"]), tasks["T5"]
