"""Similarity: the corpus of independent solutions and their disguises, the fingerprints, the index,
the cache in the gradebook and the pages a TA reads.

The corpus (benchmarks/similarity_corpus.py) holds 9 independent HW4 solutions written in
different styles and 5 deterministic disguises of each; nothing here is graded by the sandbox
(the corpus's own correctness is checked in-process against the reference), so the file runs in
seconds.
"""

from __future__ import annotations

import ast
import csv
import io
import itertools
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from grader import similarity as sim
from grader.cli import main
from grader.judgement import rubric as rubric_mod
from grader.judgement.similarity.documents import CodeDocument, notebook_code
from grader.judgement.similarity.fingerprint import Fingerprints, fingerprint, tokens
from grader.judgement.similarity.index import FingerprintIndex
from grader.judgement.similarity.settings import SimilaritySettings, SimilaritySettingsError, load_settings
from grader.results import Status as TaskStatus
from grader.results import SubmissionResult, TaskResult
from grader.store import GRADEBOOK_FILE, Gradebook

from .conftest import PROJECT, SOLUTION_CODE, STARTER
from .test_benchmarks import _load

MODULE = "cattern/neural_net.py"


@pytest.fixture(scope="module")
def corpus_module() -> types.ModuleType:
    return _load("similarity_corpus")


@pytest.fixture(scope="module")
def corpus(corpus_module: types.ModuleType) -> dict[str, str]:
    return corpus_module.corpus()


def family(sub: str) -> str:
    return sub.split("~")[0]


def records(codes: dict[str, str]) -> dict[str, sim.CodeRecord]:
    out = {}
    for sub, code in codes.items():
        docs = (CodeDocument(MODULE, code),)
        out[sub] = sim.CodeRecord(docs, (), fingerprint(docs))
    return out


@pytest.fixture(scope="module")
def hw4_settings() -> SimilaritySettings:
    rubric = rubric_mod.load("hw4")
    return sim.settings_for(rubric)


@pytest.fixture(scope="module")
def scored(corpus: dict[str, str], hw4_settings: SimilaritySettings) -> dict[tuple[str, str], float]:
    """Every pair's score over the corpus plus the untouched starter, as `grader similarity` computes it."""
    codes = {**corpus, "starter-unchanged": (STARTER / MODULE).read_text()}
    report, _ = sim.compare(records(codes), hw4_settings, "hw4")
    scores = {(p.a, p.b): p.score for p in report.pairs}
    return {(a, b): scores.get((a, b), 0.0) for a, b in itertools.combinations(sorted(codes), 2)}


# --- the corpus is what it claims to be ---------------------------------------------------------


def _load_code(code: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(code, name, "exec"), module.__dict__)  # our own corpus, not student code
    return module


def test_the_corpus_has_nine_independent_solutions_and_five_disguises_of_each(corpus: dict[str, str]) -> None:
    originals = [s for s in corpus if "~" not in s]
    assert len(originals) == 9
    assert len(corpus) == 9 * 6
    assert len({corpus[s] for s in corpus}) == len(corpus)  # every disguise changed something


def test_every_solution_and_every_disguise_is_correct(corpus: dict[str, str]) -> None:
    """Same scores, loss, gradients and labels as the reference; finite on huge scores; trains the toy net."""
    reference = _load_code(SOLUTION_CODE, "reference")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(7, 5)), rng.integers(0, 3, 7)
    for sub, code in corpus.items():
        module = _load_code(code, sub)
        nets = []
        for cls in (module.TwoLayerNet, reference.TwoLayerNet):
            np.random.seed(1)
            net = cls(5, 6, 3, std=0.5)
            net.params["b1"], net.params["b2"] = np.linspace(-0.3, 0.3, 6), np.array([0.1, -0.2, 0.3])
            nets.append(net)
        ours, ref = nets
        np.testing.assert_allclose(ours.loss(X), ref.loss(X), err_msg=sub)
        (loss, grads), (ref_loss, ref_grads) = ours.loss(X, y, reg=0.1), ref.loss(X, y, reg=0.1)
        assert loss == pytest.approx(ref_loss, rel=1e-10), sub
        for key in ref_grads:
            np.testing.assert_allclose(grads[key], ref_grads[key], rtol=1e-7, atol=1e-12, err_msg=f"{sub} {key}")
        assert (ours.predict(X) == ref.predict(X)).all(), sub
        assert np.isfinite(ours.loss(300 * X, y, reg=0.0)[0]), sub
        np.random.seed(1)
        toy_X, toy_y = 10 * np.random.randn(5, 4), np.array([0, 1, 2, 2, 1])
        np.random.seed(0)
        stats = module.TwoLayerNet(4, 10, 3, std=1e-1).train(toy_X, toy_y, toy_X, toy_y, learning_rate=1e-1,
                                                             reg=5e-6, num_iters=100, batch_size=10)
        assert stats["loss_history"][-1] < 0.05, sub


def _names(code: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}


def _defs(code: str) -> list[str]:
    return [n.name for n in ast.walk(ast.parse(code)) if isinstance(n, ast.FunctionDef)]


def _comments(code: str) -> list[str]:
    return [line.strip() for line in code.splitlines() if line.strip().startswith("#")]


def test_each_disguise_does_what_it_says(corpus: dict[str, str]) -> None:
    for name in (s for s in corpus if "~" not in s):
        original = corpus[name]
        renamed, reordered = corpus[f"{name}~renamed"], corpus[f"{name}~reordered"]
        assert len(_names(original) - _names(renamed)) >= 5, name
        assert _defs(reordered) != _defs(original) and sorted(_defs(reordered)) == sorted(_defs(original)), name
        assert _comments(corpus[f"{name}~comments"]) != _comments(original), name
        dead = corpus[f"{name}~deadcode"]
        assert len(list(ast.walk(ast.parse(dead)))) > len(list(ast.walk(ast.parse(original)))) + 20, name
        both = corpus[f"{name}~all"]
        assert "\n  def " in both and len(_names(original) - _names(both)) >= 5, name


# --- what the issue asks: copies above independents, the starter near zero -----------------------


def test_every_disguised_copy_ranks_above_every_independent_pair(scored: dict[tuple[str, str], float],
                                                                 hw4_settings: SimilaritySettings) -> None:
    pairs = [(a, b) for a, b in scored if "starter-unchanged" not in (a, b)]
    copies = {p: scored[p] for p in pairs if family(p[0]) == family(p[1]) and ("~" in p[0]) != ("~" in p[1])}
    independent = {p: scored[p] for p in pairs if family(p[0]) != family(p[1])}
    assert len(copies) == 9 * 5 and len(independent) == 54 * 53 // 2 - 9 * 15
    weakest_copy = min(copies.items(), key=lambda kv: kv[1])
    closest_independents = max(independent.items(), key=lambda kv: kv[1])
    assert weakest_copy[1] > closest_independents[1], (weakest_copy, closest_independents)
    # and the rubric's threshold separates them
    assert weakest_copy[1] >= hw4_settings.threshold > closest_independents[1]
    assert closest_independents[1] < 0.35


def test_the_starter_alone_scores_near_zero_against_everyone(scored: dict[tuple[str, str], float]) -> None:
    against_starter = [s for (a, b), s in scored.items() if "starter-unchanged" in (a, b)]
    assert len(against_starter) == 54 and max(against_starter) <= 0.02


def test_without_subtracting_the_starter_everyone_looks_alike(corpus: dict[str, str]) -> None:
    """The control for the test above: the subtraction is what keeps the starter's lines from counting."""
    codes = {"s01_dot": corpus["s01_dot"], "s02_loops": corpus["s02_loops"],
             "starter-unchanged": (STARTER / MODULE).read_text()}
    report, _ = sim.compare(records(codes), SimilaritySettings(threshold=0.5, starter=None), "hw4")
    scores = {(p.a, p.b): p.score for p in report.pairs}
    assert scores[("s01_dot", "starter-unchanged")] > 0.5 and scores[("s01_dot", "s02_loops")] > 0.5


def test_independent_solutions_stay_apart_even_without_the_common_code_filter(corpus: dict[str, str]) -> None:
    originals = {s: c for s, c in corpus.items() if "~" not in s}
    starter = fingerprint([CodeDocument(MODULE, (STARTER / MODULE).read_text())]).distinct
    index = FingerprintIndex({s: r.prints for s, r in records(originals).items()}, starter, common_cutoff=None)
    assert index.common.size == 0
    assert max(p.score for p in index.pairs()) < 0.35


# --- fingerprints and the index -----------------------------------------------------------------


def test_normalisation_ignores_names_comments_and_layout_but_keeps_what_code_calls() -> None:
    a = "def f(x):\n    # sum rows\n    total = np.sum(x, axis=1)\n    return total\n"
    b = "def g(values):\n\n    s=np.sum(values,axis=1)   # other\n    return s\n"
    c = "def f(x):\n    total = np.max(x, axis=1)\n    return total\n"
    assert tokens([CodeDocument("a", a)]).texts == tokens([CodeDocument("b", b)]).texts
    assert tokens([CodeDocument("a", a)]).texts != tokens([CodeDocument("c", c)]).texts
    assert "sum" in tokens([CodeDocument("a", a)]).texts and "axis" in tokens([CodeDocument("a", a)]).texts


def test_fingerprints_are_the_same_in_every_process_unlike_pythons_str_hash(tmp_path: Path) -> None:
    """Workers and later runs compute the same fingerprints, so they can be cached and compared."""
    solution = str(PROJECT / "reference/hw4/solution" / MODULE)
    script = ("import sys; from grader.judgement.similarity.fingerprint import fingerprint; "
              "from grader.judgement.similarity.documents import CodeDocument; "
              f"p = fingerprint([CodeDocument('m', open({solution!r}).read())]); "
              "print(hash('control'), p.hashes[:8].tolist())")
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
        control, prints = done.stdout.split(" ", 1)
        outputs.append((control, prints))
    assert outputs[0][0] != outputs[1][0]  # the control: Python's own string hash differs between these processes
    assert outputs[0][1] == outputs[1][1]


def test_fingerprints_survive_the_round_trip_through_bytes() -> None:
    prints = fingerprint([CodeDocument(MODULE, SOLUTION_CODE)])
    back = Fingerprints.from_bytes(prints.to_bytes())
    assert (back.hashes == prints.hashes).all() and (back.starts == prints.starts).all()
    assert back.n_tokens == prints.n_tokens and len(prints.hashes) > 100


def test_the_index_finds_exactly_the_pairs_a_full_comparison_would(corpus: dict[str, str]) -> None:
    some = {s: c for s, c in corpus.items() if s.startswith(("s01", "s02", "s05"))}
    prints = {s: r.prints for s, r in records(some).items()}
    index = FingerprintIndex(prints, None, common_cutoff=3)
    found = {(p.a, p.b): p.shared for p in index.pairs()}
    counts: dict[int, int] = {}
    for p in prints.values():
        for h in p.distinct.tolist():
            counts[h] = counts.get(h, 0) + 1
    kept = {s: {h for h in p.distinct.tolist() if counts[h] <= 3} for s, p in prints.items()}
    brute = {(a, b): len(kept[a] & kept[b]) for a, b in itertools.combinations(sorted(prints), 2)}
    assert found == {pair: n for pair, n in brute.items() if n}
    assert index.common.size > 0  # the cutoff did leave something out


def test_clusters_join_flagged_pairs() -> None:
    from grader.judgement.similarity.index import clusters
    from grader.similarity_results import PairScore

    pairs = [PairScore("a", "b", 0.9, 9, 10, 10), PairScore("b", "c", 0.7, 7, 10, 10),
             PairScore("d", "e", 0.4, 4, 10, 10), PairScore("f", "g", 0.8, 8, 10, 10)]
    found = clusters(pairs, 0.5)
    assert [c.members for c in found] == [("a", "b", "c"), ("f", "g")]
    assert found[0].top_score == 0.9


def test_notebook_code_cells_are_read_and_markdown_is_not() -> None:
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "id": "m", "metadata": {}, "source": "# Title\nprose"},
        {"cell_type": "code", "id": "a", "metadata": {}, "source": "x = 1\nprint(x)", "outputs": [],
         "execution_count": None},
        {"cell_type": "code", "id": "b", "metadata": {}, "source": "%matplotlib inline", "outputs": [],
         "execution_count": 1}]}
    code = notebook_code(json.dumps(nb))
    assert "x = 1\nprint(x)" in code and "%matplotlib inline" in code and "prose" not in code


# --- settings -----------------------------------------------------------------------------------


def test_settings_default_to_the_rubrics_starter_and_code_files(tmp_path: Path) -> None:
    hw4 = rubric_mod.load("hw4")
    settings = load_settings(hw4.path, "hw4", hw4.files)
    assert settings.threshold == 0.6 and settings.starter == STARTER.resolve()
    assert settings.files == ("cattern/neural_net.py", "Simple_Neural_Network_Lab.ipynb")
    bare = tmp_path / "rubric.toml"
    bare.write_text('[files]\nmodule = "m.py"\n')
    default = load_settings(bare, "nothing-here", {"module": "m.py", "answers": "a.md"})
    assert default.threshold == SimilaritySettings.threshold and default.starter is None and default.files == ("m.py",)


@pytest.mark.parametrize("section, message", [
    ("threshold = 1.5", "threshold"), ("treshold = 0.5", "unknown keys"), ('starter = "nowhere"', "not a folder"),
    ("common_min = 1", "common_min")])
def test_a_malformed_similarity_section_says_what_is_wrong(tmp_path: Path, section: str, message: str) -> None:
    path = tmp_path / "rubric.toml"
    path.write_text(f"[similarity]\n{section}\n")
    with pytest.raises(SimilaritySettingsError, match=message):
        load_settings(path, "x", {})


# --- the command, the cache and the pages -------------------------------------------------------


def _record_without_grading(book: Gradebook, sub: str, source: Path) -> None:
    """A graded-looking run, so `grader similarity` has a gradebook to read (grading is tested elsewhere)."""
    from grader.execution.workspace import content_hash

    result = SubmissionResult(sub, "hw4", "1", (TaskResult("T5", "Forward", TaskStatus.PASS, 1.0, 1.0, "ok"),),
                              content_hash=content_hash(source))
    book.record(result, str(source))


@pytest.fixture
def class_out(tmp_path: Path, corpus_module: types.ModuleType, corpus: dict[str, str]) -> Path:
    subs = {"alice": corpus["s01_dot"], "bob": corpus["s01_dot~all"], "carol": corpus["s04_einsum"],
            "dave": corpus["s03_helpers"], "eve": corpus["s03_helpers~renamed"],
            "<img src=x onerror=alert(1)>": corpus["s03_helpers~deadcode"]}
    out = tmp_path / "out"
    with Gradebook(out / GRADEBOOK_FILE) as book:
        for sub, code in subs.items():
            source = corpus_module.write_submission(tmp_path / "subs" / f"sub{len(sub)}-{sub[:3]}", code)
            _record_without_grading(book, sub, source)
    return out


def test_grader_similarity_writes_the_csv_the_pages_and_the_overview_section(class_out: Path) -> None:
    run = CliRunner().invoke(main, ["similarity", str(class_out)])
    assert run.exit_code == 0, run.output
    rows = list(csv.DictReader(io.StringIO((class_out / "similarity.csv").read_text())))
    assert list(rows[0]) == ["a", "b", "score"]
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True) and len(rows) <= 15
    top = {(r["a"], r["b"]) for r in rows[:4]}
    assert ("alice", "bob") in top and ("dave", "eve") in top
    index = (class_out / "index.html").read_text()
    assert 'id="similarity"' in index and "alice ~ bob" in index and "dave ~ eve" in index
    assert "<img src=x" not in index and "&lt;img src=x" in index  # ids are escaped
    pages = sorted((class_out / "similarity").glob("pair-*.html"))
    assert len(pages) == len([s for s in scores if s >= 0.6]) >= 4
    page = next(p.read_text() for p in pages if "alice ~ bob" in p.read_text())
    assert page.count("<mark class=\"c") > 10 and 'id="a-m1"' in page and 'href="#b-m1"' in page
    assert "<script" not in page
    assert not any("<img src=x" in p.read_text() for p in pages)  # nor in the pages that show that id


def test_the_cache_is_used_and_a_changed_scheme_recomputes(class_out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rubric = rubric_mod.load("hw4")
    with Gradebook(class_out / GRADEBOOK_FILE) as book:
        first = sim.run_similarity(class_out, rubric, book)
        calls: list[str] = []
        real = sim.code_record
        monkeypatch.setattr(sim, "code_record",
                            lambda source, settings: calls.append(str(source)) or real(source, settings))
        again = sim.run_similarity(class_out, rubric, book)
        assert calls == [] and again.pairs == first.pairs  # everything came from the gradebook
        monkeypatch.setattr(sim, "scheme_for", lambda settings: "another-scheme")
        sim.run_similarity(class_out, rubric, book)
        assert len(calls) == 6


def test_a_submission_without_code_is_listed_as_not_compared(class_out: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty-sub"
    (empty / "notes").mkdir(parents=True)
    (empty / "notes/readme.txt").write_text("nothing")
    with Gradebook(class_out / GRADEBOOK_FILE) as book:
        _record_without_grading(book, "frank", empty)
        report = sim.run_similarity(class_out, rubric_mod.load("hw4"), book)
    assert "frank" in report.not_compared and "no code found" in report.not_compared["frank"]
    assert all("frank" not in (p.a, p.b) for p in report.pairs)


def test_a_failing_similarity_run_is_reported_on_the_overview_and_ends_nothing(
        class_out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.pipeline import refresh_pages

    def broken(*args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sim, "run_similarity", broken)
    rubric = rubric_mod.load("hw4")
    with Gradebook(class_out / GRADEBOOK_FILE) as book:
        report = sim.similarity_after_batch(class_out, rubric, book)
        refresh_pages(class_out, rubric, book)
    assert report.error == "RuntimeError: disk on fire"
    index = (class_out / "index.html").read_text()
    assert "The similarity check failed" in index and "disk on fire" in index


def test_a_bad_similarity_section_is_a_usage_error(class_out: Path, tmp_path: Path) -> None:
    toy = tmp_path / "toy"
    import shutil

    shutil.copytree(PROJECT / "examples/vec", toy)
    (toy / "rubric.toml").write_text((toy / "rubric.toml").read_text() + "\n[similarity]\nthreshold = 2\n")
    run = CliRunner().invoke(main, ["similarity", str(class_out), "--rubric", str(toy)])
    assert run.exit_code == 2 and "threshold must be a number in (0, 1]" in run.output
