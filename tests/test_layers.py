"""Import direction between the layers, and what the student-side probes may hold.

Every module of the package has a layer (a new module without one fails here), and its own
imports, read from its source, may only reach its layer and the ones below it:

    foundation     grader, grader.results                      (plain result records)
    execution      grader.execution.*                          (sandbox, running student code)
    judgement      grader.judgement.*, grader.api              (checks against the reference)
    presentation   grader.presentation.*                       (reports, exports: results only)
    orchestration  grader.pipeline, grader.executors, grader.store, grader.workflows.*, grader.authoring.*
    commands       grader.cli

Like click's test_imports, a few modules are also imported in a fresh interpreter, and the test
looks at what ended up in sys.modules (third-party libraries included).
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

import grader

PROJECT = Path(__file__).resolve().parents[1]
PROBES = PROJECT / "rubrics/hw4/probes.py"
CHECKS = PROJECT / "rubrics/hw4/checks.py"

_SCRIPT = "import importlib, json, sys; importlib.import_module(sys.argv[1]); print(json.dumps(sorted(sys.modules)))"

# a layer's packages (every module inside belongs to it) and single modules
LAYERS: dict[str, tuple[str, ...]] = {
    "foundation": ("grader", "grader.results", "grader.lateness", "grader.similarity_results", "grader.cache_dir"),
    "execution": ("grader.execution",),
    "judgement": ("grader.judgement", "grader.api"),
    "presentation": ("grader.presentation",),
    "orchestration": ("grader.pipeline", "grader.executors", "grader.store", "grader.workflows", "grader.authoring",
                      "grader.course", "grader.similarity"),
    "web": ("grader.web",),  # grader serve: beside the command line, above the layers
    "commands": ("grader.cli",),
}
# what each layer may import from the grader (its own layer included)
MAY_IMPORT: dict[str, set[str]] = {
    "foundation": {"foundation"},
    "execution": {"foundation", "execution"},
    "judgement": {"foundation", "execution", "judgement"},
    "presentation": {"foundation", "presentation"},
    "orchestration": {"foundation", "execution", "judgement", "presentation", "orchestration"},
    "web": {"foundation", "execution", "judgement", "presentation", "orchestration", "web"},
    "commands": set(LAYERS),
}
PACKAGES = {"grader.execution", "grader.judgement", "grader.presentation", "grader.workflows", "grader.authoring",
            "grader.course", "grader.web"}


def layer_of(module: str) -> str | None:
    for layer, names in LAYERS.items():
        for name in names:
            if module == name or (name in PACKAGES and module.startswith(name + ".")):
                return layer
    return None


def all_modules() -> list[str]:
    found = ["grader"]
    for info in pkgutil.walk_packages(grader.__path__, "grader."):
        if not info.name.startswith("grader._data"):  # an installed wheel's rubrics: not grader code
            found.append(info.name)
    return sorted(found)


def _source(module: str) -> Path:
    base = PROJECT / module.replace(".", "/")
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def grader_imports(module: str) -> set[str]:
    """Every grader module that `module`'s source imports, at the top or inside a function."""
    path = _source(module)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    known = set(all_modules())
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found.update(n for n in names if n.split(".")[0] == "grader")
    return found


def test_every_module_has_a_layer() -> None:
    modules = all_modules()
    assert {"grader.cli", "grader.api", "grader.judgement.verdict", "grader.execution.zygote"} <= set(modules)
    assert [m for m in modules if layer_of(m) is None] == []


def test_a_module_outside_every_layer_would_be_caught() -> None:
    assert layer_of("grader.something_new") is None
    assert layer_of("grader.execution.something_new") == "execution"  # a layer's package takes it in


@pytest.mark.parametrize("module", all_modules())
def test_imports_go_down_the_layers(module: str) -> None:
    layer = layer_of(module)
    assert layer is not None
    wrong = sorted(m for m in grader_imports(module) if layer_of(m) not in MAY_IMPORT[layer])
    assert wrong == [], f"{module} ({layer}) imports {wrong}"


def test_the_static_import_check_sees_a_wrong_import(tmp_path: Path) -> None:
    # the CLI imports everything; presentation importing it would go up three layers
    assert "grader.pipeline" in grader_imports("grader.cli")
    assert layer_of("grader.cli") not in MAY_IMPORT["presentation"]
    assert "grader.judgement.context" in grader_imports("grader.judgement.submission")


EXECUTION = ["grader.execution.session", "grader.execution.wire", "grader.execution.zygote",
             "grader.execution.workspace", "grader.execution.probe_api"]
PRESENTATION = ["grader.presentation.html", "grader.presentation.gradebook", "grader.presentation.similarity_pages"]
SIMILARITY = ["grader.judgement.similarity.fingerprint", "grader.judgement.similarity.index",
              "grader.judgement.similarity.documents", "grader.judgement.similarity.settings"]
RULES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(EXECUTION, ("grader.judgement", "grader.presentation", "grader.web", "jinja2", "rich")),
    "grader.judgement.submission": ("grader.presentation", "jinja2", "rich"),
    "grader.judgement.verdict": ("grader.presentation", "jinja2", "rich"),
    "grader.api": ("grader.presentation", "grader.pipeline", "jinja2", "rich", "click"),
    # similarity reads code as text: no pages, no gradebook, and nothing that runs student code
    **dict.fromkeys(SIMILARITY, ("grader.presentation", "jinja2", "rich", "grader.store", "grader.execution.session",
                                 "grader.execution.sandbox", "grader.execution.zygote")),
    **dict.fromkeys(PRESENTATION, ("grader.execution", "grader.judgement", "grader.course", "grader.web")),
    # a batch never loads the web app's server
    "grader.pipeline": ("grader.web", "starlette", "uvicorn"),
    # deadline arithmetic is shared data, like grader.results: it loads no layer and no parser of downloads
    "grader.lateness": ("grader.execution", "grader.judgement", "grader.presentation", "grader.course",
                        "yaml", "dulwich"),
}
CONTROLS: dict[str, tuple[str, ...]] = {
    # modules that do reach across layers, to show the check can see it
    "grader.pipeline": ("grader.presentation", "grader.judgement", "jinja2"),
    "grader.course.importers": ("grader.execution", "grader.judgement", "yaml", "dulwich"),
    "grader.course.exports": ("grader.presentation", "grader.judgement", "grader.store"),
    "grader.similarity": ("grader.presentation", "grader.judgement.similarity", "grader.store"),
    "grader.web.app": ("grader.judgement", "grader.presentation", "grader.store", "starlette"),
}


@cache
def _all_imports() -> dict[str, list[str]]:
    """sys.modules after importing each module alone, in its own fresh interpreter (run side by side)."""
    procs = {
        name: subprocess.Popen([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(PROJECT)!r}); "
                                + _SCRIPT, name], cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for name in dict.fromkeys([*RULES, *CONTROLS])
    }
    loaded = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"importing {name} failed:\n{err.decode()}"
        loaded[name] = json.loads(out)
    return loaded


def _hits(modules: list[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules for f in forbidden if m == f or m.startswith(f + "."))


@pytest.mark.parametrize("module", list(RULES))
def test_module_does_not_import_the_layers_above_it(module: str) -> None:
    loaded = _all_imports()[module]
    assert module in loaded
    assert _hits(loaded, RULES[module]) == []


@pytest.mark.parametrize("module", list(CONTROLS))
def test_the_import_check_sees_a_module_that_reaches_across(module: str) -> None:
    loaded = _all_imports()[module]
    for forbidden in CONTROLS[module]:
        assert _hits(loaded, (forbidden,)), f"{module} should visibly import {forbidden}"


def test_zygote_imports_only_the_stdlib_numpy_and_its_own_helpers() -> None:
    grader_modules = [m for m in _all_imports()["grader.execution.zygote"] if m.split(".")[0] == "grader"]
    assert sorted(grader_modules) == ["grader", "grader.execution", "grader.execution.probe_api",
                                      "grader.execution.wire", "grader.execution.zygote"]


# --- the probes run next to student code: no answers in them ----------------------------------


@cache
def _published_numbers() -> tuple[str, ...]:
    """Every number literal in the checks module's PUBLISHED_* constants, as written there."""
    source = CHECKS.read_text()
    tree = ast.parse(source)
    numbers = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id.startswith("PUBLISHED")
                                                for t in node.targets):
            for const in ast.walk(node.value):
                if isinstance(const, ast.Constant) and isinstance(const.value, float):
                    numbers.append(ast.get_source_segment(source, const))
    return tuple(numbers)


def test_the_published_values_are_found_where_they_belong() -> None:
    published = _published_numbers()
    assert "1.30378789133" in published and "0.81233741" in published
    checks = CHECKS.read_text()
    assert "1.30378789133" in checks and "-0.81233741" in checks


def test_probes_hold_none_of_the_published_values() -> None:
    probes = PROBES.read_text()
    for literal in ["1.30378789133", "-0.81233741", *_published_numbers()]:
        assert literal not in probes, f"probes.py contains the published value {literal}"


def _imported_names(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__", "spec_from_file_location", "load_module_from"):
            names.extend(ast.unparse(arg) for arg in node.args)
    return names


def test_probes_do_not_import_the_reference_solution_or_the_judge() -> None:
    names = _imported_names(PROBES)
    assert "numpy" in names  # the walk does see the probes' imports
    for name in names:
        assert "reference" not in name.lower() and "solution" not in name.lower(), name
        assert not name.startswith(("grader.judgement", "grader.presentation")), name


def test_the_import_walk_would_see_a_reference_import(tmp_path: Path) -> None:
    fake = tmp_path / "probes.py"
    fake.write_text("import importlib\nref = importlib.import_module('reference.hw4.solution')\n"
                    "from grader.judgement import rubric\n")
    names = _imported_names(fake)
    assert any("reference" in n for n in names)
    assert "grader.judgement" in names
