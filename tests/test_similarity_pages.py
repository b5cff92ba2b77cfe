"""Similarity's pair pages as drawn cheaply: the code's lines built in Python, the tokens' positions
stored by the workers (no second lexing), the starter's record cached, pages redrawn only when
missing, torn or stale. tests/test_similarity.py checks what the pages show on the corpus."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from grader import similarity as sim
from grader.execution.workspace import content_hash
from grader.judgement import rubric as rubric_mod
from grader.judgement.similarity.documents import CodeDocument
from grader.judgement.similarity.fingerprint import Fingerprints, K, TokenSpans, tokens
from grader.judgement.similarity.index import _covered, _regions
from grader.presentation.similarity_pages import _code_lines, render_pair_page
from grader.results import Status, SubmissionResult, TaskResult
from grader.similarity_results import DocumentView, PairScore, PairView, Segment, SimilarityReport
from grader.store import GRADEBOOK_FILE, Gradebook

from .conftest import SOLUTION_CODE, STARTER

SCRIPT = 'BANNER = "<script>alert(1)</script>"\n'


def test_code_lines_escape_the_code_and_mark_each_line_of_a_match() -> None:
    doc = DocumentView("m.py", (
        Segment("x = 1\n"),
        Segment("y = '<script>'\nz", 1),  # a match across a line end: marked on both lines
        Segment("\n\n"),
        Segment("w", 0),  # a region the other side could not number
        Segment("q", 1),  # region 1 again: no second anchor
        Segment("\n"),
    ))
    drawn = _code_lines(doc, "a", set())
    link = '<a href="#b-m1" title="region 1">'
    assert str(drawn.html).split("\n") == [
        '<span class="l" data-n="1">x = 1</span>',
        f'<span class="l hit" data-n="2"><mark class="c1" id="a-m1">{link}'
        "y = &#39;&lt;script&gt;&#39;</a></mark></span>",
        f'<span class="l hit" data-n="3"><mark class="c1">{link}z</a></mark></span>',
        '<span class="l" data-n="4"></span>',
        f'<span class="l hit" data-n="5"><mark class="c-none">w</mark><mark class="c1">{link}q</a></mark></span>',
    ]
    assert (drawn.n_lines, drawn.matched_lines) == (5, 3)
    right = _code_lines(DocumentView("m.py", (Segment("v", 9),)), "b", set())
    assert str(right.html) == ('<span class="l hit" data-n="1"><mark class="c1" id="b-m9">'
                               '<a href="#a-m9" title="region 9">v</a></mark></span>')  # colours cycle over 8

    pair = PairScore("<b>x</b>", "y", 0.9, 10, 10, 10)
    page = render_pair_page(PairView(pair, (doc,), (DocumentView("m.py", (Segment("y = 2\n", 1),)),), 1),
                            SimilarityReport("hw4", 0.6, (pair,)))
    assert "<script" not in page and "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert "(3 of 5 lines marked)" in page and "(1 of 1 lines marked)" in page
    assert f'{link}q</a></mark></span>\n</div>' in page  # the lines sit inside the file's box


def _naive_covered(prints: Fingerprints, wanted: set[int], n: int) -> tuple[np.ndarray, np.ndarray]:
    covered, owner = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.uint64)
    for h, s in zip(prints.hashes.tolist(), prints.starts.tolist(), strict=True):
        if h in wanted:
            covered[s:s + K] = True
            span = owner[s:s + K]
            span[span == 0] = h
    return covered, owner


def _naive_regions(covered: np.ndarray, docs: list[int]) -> list[tuple[int, int]]:
    out, i = [], 0
    while i < len(covered):
        if covered[i]:
            j = i
            while j + 1 < len(covered) and covered[j + 1] and docs[j + 1] == docs[i]:
                j += 1
            out.append((i, j))
            i = j + 1
        else:
            i += 1
    return out


@pytest.mark.parametrize("seed", range(6))
def test_covered_tokens_and_regions_match_the_token_by_token_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(K, 400))
    starts = np.unique(rng.integers(0, n - K + 1, size=int(rng.integers(1, 60)))).astype(np.int32)
    hashes = rng.integers(1, 12, size=len(starts)).astype(np.uint64)  # repeats, as in real code
    prints = Fingerprints(hashes, starts, n)
    wanted = set(rng.choice(np.arange(1, 12), size=int(rng.integers(0, 8)), replace=False).tolist())
    covered, owner = _covered(prints, np.array(sorted(wanted), dtype=np.uint64), n)
    expected_covered, expected_owner = _naive_covered(prints, wanted, n)
    assert np.array_equal(covered, expected_covered) and np.array_equal(owner, expected_owner)
    docs = np.sort(rng.integers(0, 3, size=n)).astype(np.int32)
    assert _regions(covered, docs) == _naive_regions(covered, docs.tolist())


def test_a_record_carries_its_token_positions_and_an_older_one_is_lexed_again() -> None:
    docs = [CodeDocument("cattern/neural_net.py", SOLUTION_CODE), CodeDocument("extra.py", "x = [1,\n  2]\n")]
    record = sim.record_of(docs, ["a note"])
    lexed = tokens(docs).spans()
    again = sim.CodeRecord.from_bytes(record.to_bytes())
    assert again.spans is not None and len(again.spans) == record.prints.n_tokens
    for column in ("docs", "starts", "ends"):
        assert np.array_equal(getattr(again.spans, column), getattr(lexed, column))
    assert again.documents == record.documents and again.notes == ("a note",)
    older = sim.CodeRecord.from_bytes(dataclasses.replace(record, spans=None).to_bytes())
    assert older.spans is None and np.array_equal(older.token_spans().ends, lexed.ends)
    assert np.array_equal(older.prints.hashes, record.prints.hashes)
    plain = dataclasses.replace(record, spans=None).to_bytes()
    with pytest.raises(ValueError, match="cut short"):  # a torn cache entry is never read as fewer fingerprints
        sim.CodeRecord.from_bytes(plain[:-5])
    wrong = dataclasses.replace(record, spans=TokenSpans(*(np.zeros(3, dtype=np.int32),) * 3))
    assert np.array_equal(wrong.token_spans().starts, lexed.starts)  # does not add up: lexed again


@pytest.fixture
def small_class(tmp_path: Path) -> Path:
    """Three copies of the solution, each recorded as `grader grade` leaves it (run plus the worker's record)."""
    out = tmp_path / "out"
    hw4 = rubric_mod.load("hw4")
    with Gradebook(out / GRADEBOOK_FILE) as book:
        for i in range(3):
            source = tmp_path / "subs" / f"s{i}"
            (source / "cattern").mkdir(parents=True)
            (source / "cattern/neural_net.py").write_text(SOLUTION_CODE.replace("import numpy as np\n",
                                                                                 "import numpy as np\n" + SCRIPT, 1)
                                                          + f"\n# {i}\n")
            digest = content_hash(source)
            task = TaskResult("T5", "Forward", Status.PASS, 1.0, 1.0, "ok")
            book.record(SubmissionResult(f"s{i}", "hw4", "1", (task,), content_hash=digest), str(source))
            code = sim.worker_fingerprints(source, hw4, digest)
            assert code is not None
            book.save_fingerprints(*code)
    return out


def test_pages_are_drawn_without_lexing_and_redrawn_only_when_missing_torn_or_stale(
        small_class: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hw4 = rubric_mod.load("hw4")
    monkeypatch.setenv("GRADER_CACHE_DIR", str(small_class.parent / "cache"))
    assert sim.cached_starter_record(sim.settings_for(hw4)) is not None  # as any earlier run leaves it
    drawn: list[str] = []
    real_render, real_starter = sim.render_pair_page, sim.starter_record
    monkeypatch.setattr(sim, "render_pair_page",
                        lambda view, report: drawn.append(view.pair.a) or real_render(view, report))
    starters: list[int] = []
    monkeypatch.setattr(sim, "starter_record", lambda settings: starters.append(1) or real_starter(settings))

    def no_lexing(documents: object) -> None:
        raise AssertionError("the workers stored the tokens' positions")

    monkeypatch.setattr(sim, "tokens", no_lexing)
    folder = small_class / sim.SIMILARITY_DIR
    folder.mkdir(parents=True)
    (folder / ".pair-0123456789abcdef.html.key").write_text("a key file from before")
    with Gradebook(small_class / GRADEBOOK_FILE) as book:
        report = sim.run_similarity(small_class, hw4, book)
        pages = sorted(folder.glob("pair-*.html"))
        assert len(drawn) == len(pages) == len(report.flagged) == 3 and starters == []  # from the cache
        assert not list(folder.glob(".*"))  # no key files, no temporary files left
        page = pages[0].read_text()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
        assert 'id="a-m1"' in page and 'href="#b-m1"' in page
        assert re.search(r'<mark class="c\d"[^>]*><a [^>]*>BANNER = &#34;&lt;script', page)  # inside the match
        assert re.search(r"<!-- similarity page key [0-9a-f]{64} -->\n\Z", page)

        drawn.clear()
        sim.run_similarity(small_class, hw4, book)
        assert drawn == []  # nothing changed: nothing drawn

        pages[0].write_text(page[:len(page) // 2])  # torn, as a page may be after a power cut
        pages[1].unlink()
        sim.run_similarity(small_class, hw4, book)
        assert len(drawn) == 2 and pages[0].read_text() == page and pages[1].is_file()

        drawn.clear()
        book.record(SubmissionResult("s2", "hw4", "1", (), content_hash=content_hash(
            _edit(small_class.parent / "subs/s2"))), str(small_class.parent / "subs/s2"))
        monkeypatch.setattr(sim, "tokens", tokens)  # s2's new code is fingerprinted here, no worker ran
        sim.run_similarity(small_class, hw4, book)
        assert len(drawn) == 3 and starters == []  # s2's two pages; the summary in every page's key changed


def _edit(source: Path) -> Path:
    module = source / "cattern/neural_net.py"
    module.write_text(module.read_text() + "\nEXTRA = 1\n")
    return source


def test_the_starters_record_is_cached_by_its_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    starter = tmp_path / "starter"
    (starter / "cattern").mkdir(parents=True)
    (starter / "cattern/neural_net.py").write_text((STARTER / "cattern/neural_net.py").read_text())
    (starter / "big.bin").write_bytes(b"data the key does not read")
    settings = dataclasses.replace(sim.settings_for(rubric_mod.load("hw4")), starter=starter,
                                   files=("cattern/neural_net.py",))
    entry = sim._starter_cache_file(settings)
    (starter / "big.bin").write_bytes(b"other data")
    assert sim._starter_cache_file(settings) == entry
    computed: list[int] = []
    real = sim.starter_record
    monkeypatch.setattr(sim, "starter_record", lambda s: computed.append(1) or real(s))
    first = sim.cached_starter_record(settings)
    assert first is not None and entry.is_file() and computed == [1]
    second = sim.cached_starter_record(settings)
    assert second is not None and np.array_equal(second.prints.hashes, first.prints.hashes) and computed == [1]
    entry.write_bytes(entry.read_bytes()[:40])  # torn: computed again
    assert sim.cached_starter_record(settings) is not None and computed == [1, 1]
    (starter / "cattern/neural_net.py").write_text("x = 1\n")
    assert sim._starter_cache_file(settings) != entry
    changed = sim.cached_starter_record(settings)
    assert changed is not None and changed.prints.n_tokens == 3 and computed == [1, 1, 1]
