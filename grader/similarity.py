"""`grader similarity OUT`: which submissions of a graded class share code beyond the starter.

It works from the gradebook: each submission's newest content hash says which fingerprints to
use. Those are computed by the batch's workers as they grade (`worker_fingerprints`) and cached
in the gradebook by content hash and scheme; what is missing (a gradebook from before, or a
changed scheme) is computed here from the submission's recorded source, read as text and never
run. Then the inverted index finds the pairs, and the pages are written, all TA-only:

    OUT/similarity.csv                 a,b,score: one row per pair the index found (sharing at
                                       least one fingerprint that counts), highest first
    OUT/similarity/summary.json        the report the class overview's section is drawn from
    OUT/similarity/pair-<id>.html      one page per flagged pair, side by side, matches marked
                                       (ends with the key of what it was drawn from)

`grader grade` runs it at the end of every batch.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pygments

from grader.cache_dir import cache_root
from grader.execution.workspace import content_hash
from grader.judgement.rubric import Rubric, data_root
from grader.judgement.similarity import documents as documents_module
from grader.judgement.similarity import fingerprint as fingerprint_module
from grader.judgement.similarity.documents import CodeDocument, code_paths, documents_in, submission_documents
from grader.judgement.similarity.fingerprint import (
    SCHEME,
    Fingerprints,
    TokenSpans,
    fingerprint_tokens,
    prepare_lexer,
    tokens,
)
from grader.judgement.similarity.index import FingerprintIndex, clusters, pair_view
from grader.judgement.similarity.settings import SimilaritySettings, load_settings
from grader.presentation.atomic import sync_dir, write_bytes_atomic, write_text_atomic
from grader.presentation.similarity_pages import pairs_csv, render_pair_page
from grader.similarity_results import SimilarityReport
from grader.store import Gradebook

SIMILARITY_DIR = "similarity"
SIMILARITY_CSV = "similarity.csv"
SUMMARY_FILE = "summary.json"
MAX_PAGES = 100  # pair pages drawn per run, highest scores first: the rest are in the table and the CSV
PARALLEL_FROM = 16  # missing fingerprints computed in worker processes from this many on
# part of every pair page's key: a change to how pages are drawn (the code or the template) redraws them
_PAGE_SOURCES = (Path(__file__).with_name("presentation") / "similarity_pages.py",
                 Path(__file__).with_name("presentation") / "templates" / "similarity_pair.html.j2")
PAGE_VERSION = "2:" + hashlib.sha256(b"".join(p.read_bytes() for p in _PAGE_SOURCES)).hexdigest()[:16]


def settings_for(rubric: Rubric) -> SimilaritySettings:
    return load_settings(rubric.path, rubric.id, rubric.files, data_root())


def scheme_for(settings: SimilaritySettings) -> str:
    """The cache key besides the content: fingerprints change with the method and with what counts as code."""
    return f"{SCHEME};files={','.join(settings.files)}"


@dataclass(frozen=True)
class CodeRecord:
    """One submission's code as cached: its documents (for the pair pages), its fingerprints and
    where each token sits (`spans`, so the pages need no second lexing; None in a record cached
    before they were stored, which is read as before and lexed when a page needs it)."""

    documents: tuple[CodeDocument, ...]
    notes: tuple[str, ...]
    prints: Fingerprints
    spans: TokenSpans | None = None

    def to_bytes(self) -> bytes:
        head = zlib.compress(json.dumps({"documents": [[d.path, d.text] for d in self.documents],
                                         "notes": list(self.notes)}).encode())
        out = len(head).to_bytes(4, "little") + head + self.prints.to_bytes()
        if self.spans is not None:  # after the fingerprints, where a reader of the older format stops
            tail = self.spans.to_bytes()
            out += len(tail).to_bytes(4, "little") + tail
        return out

    @classmethod
    def from_bytes(cls, data: bytes) -> CodeRecord:
        size = int.from_bytes(data[:4], "little")
        head = json.loads(zlib.decompress(data[4:4 + size]))
        body = data[4 + size:]
        if len(body) < Fingerprints.size_of(body):
            raise ValueError("a code record cut short")
        prints = Fingerprints.from_bytes(body)
        rest = body[Fingerprints.size_of(body):]
        spans = None
        if len(rest) >= 4:
            tail = int.from_bytes(rest[:4], "little")
            spans = TokenSpans.from_bytes(rest[4:4 + tail])
        return cls(tuple(CodeDocument(p, t) for p, t in head["documents"]), tuple(head["notes"]), prints, spans)

    def token_spans(self) -> TokenSpans:
        """Where each token sits: as stored, else lexed again (a record from before, or one that does not add up)."""
        if self.spans is not None and len(self.spans) == self.prints.n_tokens:
            return self.spans
        return tokens(self.documents).spans()


def record_of(documents: list[CodeDocument], notes: list[str]) -> CodeRecord:
    stream = tokens(documents)
    return CodeRecord(tuple(documents), tuple(notes), fingerprint_tokens(stream), stream.spans())


def code_record(source: Path, settings: SimilaritySettings) -> CodeRecord:
    return record_of(*submission_documents(source, settings.files))


def worker_fingerprints(source: Path, rubric: Rubric, known_hash: str = "") -> tuple[str, str, bytes] | None:
    """(content hash, scheme, cached record) for the gradebook, computed where the submission was graded.

    Never raises: similarity is an extra, and the grade must reach the gradebook regardless.
    """
    try:
        settings = settings_for(rubric)
        return (known_hash or content_hash(source), scheme_for(settings),
                code_record(source, settings).to_bytes())
    except Exception:  # noqa: BLE001 - `grader similarity` computes it again and reports what failed
        return None


def _compute(job: tuple[str, SimilaritySettings]) -> bytes | str:
    source, settings = job
    try:
        return code_record(Path(source), settings).to_bytes()
    except Exception as exc:  # noqa: BLE001 - one unreadable submission is left out, with the reason
        return f"{type(exc).__name__}: {exc}"


def _compute_all(jobs: dict[str, tuple[str, SimilaritySettings]]) -> dict[str, bytes | str]:
    if len(jobs) < PARALLEL_FROM:
        return {key: _compute(job) for key, job in jobs.items()}
    workers = max(1, min(os.cpu_count() or 1, 8))
    prepare_lexer()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return dict(zip(jobs, pool.map(_compute, jobs.values(), chunksize=8), strict=True))


def starter_record(settings: SimilaritySettings) -> CodeRecord | None:
    if settings.starter is None:
        return None
    notes: list[str] = []
    documents = documents_in(settings.starter, settings.files, notes)
    return record_of(documents, notes)


def _starter_cache_file(settings: SimilaritySettings) -> Path:
    """Where the starter's record is cached: named by the bytes of the files `documents_in` reads
    (not the whole folder, which holds the data), the scheme, and the code and lexer that make it."""
    assert settings.starter is not None
    digest = hashlib.sha256(f"{scheme_for(settings)}\0pygments {pygments.__version__}\0".encode())
    for module in (fingerprint_module, documents_module):
        digest.update(Path(module.__file__).read_bytes())
    for _, path in code_paths(settings.starter, settings.files):
        digest.update(str(path.relative_to(settings.starter)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return cache_root() / "similarity" / f"starter-{digest.hexdigest()}.bin"


def cached_starter_record(settings: SimilaritySettings) -> CodeRecord | None:
    """`starter_record`, kept in the grader's cache (grader/cache_dir.py): reading and lexing the
    starter, its notebook included, cost about 0.3 s of every run, warm ones too. An entry that
    cannot be read is computed again; a cache that cannot be written costs only the time."""
    if settings.starter is None:
        return None
    path = _starter_cache_file(settings)
    try:
        return CodeRecord.from_bytes(path.read_bytes())
    except Exception:  # noqa: BLE001 - absent, or torn: compute it
        pass
    record = starter_record(settings)
    assert record is not None
    with contextlib.suppress(OSError):  # durably: once per starter, and cheap
        write_bytes_atomic(path, record.to_bytes())
    return record


def load_records(book: Gradebook, rubric: Rubric, settings: SimilaritySettings
                 ) -> tuple[dict[str, CodeRecord], dict[str, str]]:
    """Each graded submission's code record (from the cache, else computed and cached), and why some have none."""
    scheme = scheme_for(settings)
    hashes: dict[str, str] = {}
    missing_why: dict[str, str] = {}
    for sub in book.submissions(rubric.id):
        run = book.latest_run(sub, rubric.id)
        source = book.source_of(sub)
        digest = run.content_hash if run and run.content_hash else ""
        if not digest and source and Path(source).exists():
            digest = content_hash(Path(source))
        if digest:
            hashes[sub] = digest
        else:
            missing_why[sub] = "its source is gone and no fingerprints were cached"
    cached = book.fingerprints(scheme, hashes.values())
    jobs: dict[str, tuple[str, SimilaritySettings]] = {}
    for sub, digest in hashes.items():
        if digest in cached or digest in jobs:
            continue
        source = book.source_of(sub)
        if source and Path(source).exists():
            jobs[digest] = (source, settings)
    for digest, outcome in _compute_all(jobs).items():
        if isinstance(outcome, bytes):
            book.save_fingerprints(digest, scheme, outcome)
            cached[digest] = outcome
        else:
            missing_why.update({s: f"its code could not be read ({outcome})" for s, h in hashes.items() if h == digest})
    records: dict[str, CodeRecord] = {}
    decoded: dict[str, CodeRecord] = {}  # one object per content: the pages lex (if they must) once per object
    for sub, digest in hashes.items():
        if digest in cached:
            if digest not in decoded:
                decoded[digest] = CodeRecord.from_bytes(cached[digest])
            records[sub] = decoded[digest]
        elif sub not in missing_why:
            missing_why[sub] = f"its source {book.source_of(sub)} is gone and no fingerprints were cached"
    return records, missing_why


def _page_name(a: str, b: str) -> str:
    """Stable across runs, and safe whatever the submission ids hold."""
    key = "\t".join((a, b)).encode()
    return f"pair-{hashlib.sha256(key).hexdigest()[:16]}.html"


def compare(records: dict[str, CodeRecord], settings: SimilaritySettings, rubric_id: str,
            not_compared: dict[str, str] | None = None, starter: CodeRecord | None = None
            ) -> tuple[SimilarityReport, FingerprintIndex]:
    """The report over `records`: the library entry point, without files (tests and benchmarks use it).

    `starter` is the starter's record if the caller has it (from the gradebook); else it is read."""
    not_compared = dict(not_compared or {})
    with_code = {}
    files = ", ".join(settings.files) or "none named in the rubric"
    for sub, record in records.items():
        if record.documents and record.prints.n_tokens:
            with_code[sub] = record.prints
        else:
            not_compared[sub] = f"no code found ({files})" + (f"; {'; '.join(record.notes)}" if record.notes else "")
    if starter is None:
        starter = starter_record(settings)
    ignore = starter.prints.distinct if starter else None
    index = FingerprintIndex(with_code, ignore, settings.common_cutoff(len(with_code)))
    pairs = index.pairs()
    report = SimilarityReport(
        rubric_id, settings.threshold, tuple(pairs), tuple(clusters(pairs, settings.threshold)),
        tuple(index.ids), dict(sorted(not_compared.items())),
        str(settings.starter) if settings.starter else None, index.cutoff,
        {f"{p.a}\t{p.b}": _page_name(p.a, p.b) for p in pairs[:MAX_PAGES] if p.score >= settings.threshold})
    return report, index


def _page_key(record_keys: tuple[bytes, bytes], summary_key: bytes) -> str:
    return hashlib.sha256(PAGE_VERSION.encode() + b"".join(record_keys) + summary_key).hexdigest()


def _key_line(key: str) -> str:
    return f"<!-- similarity page key {key} -->\n"


def _page_is_current(path: Path, key: str) -> bool:
    tail = _key_line(key).encode()
    try:
        with open(path, "rb") as fh:
            fh.seek(-len(tail), os.SEEK_END)
            return fh.read() == tail
    except OSError:  # missing, or shorter than its key line
        return False


def write_pages(out: Path, report: SimilarityReport, index: FingerprintIndex,
                records: dict[str, CodeRecord]) -> None:
    """similarity.csv, the summary, and a page per flagged pair that is missing or stale.

    A page is a function of the two records and the report, so it ends with a key of them: a
    regrade that changed no code (a rubric edit) draws nothing again.

    The pages are derived data, drawn again from the gradebook on any run that finds them missing
    or stale, so each is written atomically (temporary file, then rename: a reader never sees half
    a page) but not fsynced on its own; one fsync of the folder at the end makes the renames
    durable. With an fsync of each page and of its key file, 100 pages took 0.7 s of fsyncs. After
    a power cut, a page that did not reach the disk whole lacks its key line (it is what the page
    ends with) and is drawn again by the next `grader similarity` or `grader grade`.
    similarity.csv and summary.json, which other tools and the class overview read, are written
    durably as before.
    """
    folder = out / SIMILARITY_DIR
    folder.mkdir(parents=True, exist_ok=True)
    wanted = set(report.pages.values())
    for old in folder.glob("pair-*.html"):  # pages of pairs no longer flagged
        if old.name not in wanted:
            old.unlink()
    for stamp in folder.glob(".pair-*.html.key"):  # where keys were kept before they moved into the pages
        stamp.unlink(missing_ok=True)
    spans: dict[int, TokenSpans] = {}  # by record: a submission in several flagged pairs is looked at once
    record_keys: dict[int, bytes] = {}
    summary = report.dumps()  # once: it feeds every page's key (per page, it made 1,000 take minutes)
    summary_key = hashlib.sha256(summary.encode()).digest()
    drawn = False
    for pair in report.flagged:
        name = report.page_for(pair)
        if name is None:
            continue
        pair_records = (records[pair.a], records[pair.b])
        for record in pair_records:
            if id(record) not in record_keys:
                record_keys[id(record)] = hashlib.sha256(record.to_bytes()).digest()
        key = _page_key((record_keys[id(pair_records[0])], record_keys[id(pair_records[1])]), summary_key)
        if _page_is_current(folder / name, key):
            continue
        sides = []
        for record in pair_records:
            if id(record) not in spans:
                spans[id(record)] = record.token_spans()
            sides.append((list(record.documents), spans[id(record)], record.prints))
        view = pair_view(pair, sides[0], sides[1], index.counted[pair.a])
        write_text_atomic(folder / name, render_pair_page(view, report) + _key_line(key), durable=False)
        drawn = True
    if drawn:
        sync_dir(folder)
    write_text_atomic(out / SIMILARITY_CSV, pairs_csv(report.pairs))
    write_text_atomic(folder / SUMMARY_FILE, summary)


def run_similarity(out: Path, rubric: Rubric, book: Gradebook) -> SimilarityReport:
    """Compare every graded submission in `out` and write the CSV, the pair pages and the summary."""
    settings = settings_for(rubric)
    records, not_compared = load_records(book, rubric, settings)
    report, index = compare(records, settings, rubric.id, not_compared, cached_starter_record(settings))
    write_pages(out, report, index, records)
    return report


def similarity_after_batch(out: Path, rubric: Rubric, book: Gradebook) -> SimilarityReport:
    """`run_similarity` for the batch: a failure here is reported on the overview, never ends the batch."""
    try:
        return run_similarity(out, rubric, book)
    except Exception as exc:  # noqa: BLE001 - the grades are committed; the TA must still see them
        report = SimilarityReport(rubric.id, 0.0, (), error=f"{type(exc).__name__}: {exc}")
        (out / SIMILARITY_DIR).mkdir(parents=True, exist_ok=True)
        write_text_atomic(out / SIMILARITY_DIR / SUMMARY_FILE, report.dumps())
        return report


def load_report(out: Path) -> SimilarityReport | None:
    """The last run's report, for the class overview; None before the first run."""
    try:
        return SimilarityReport.from_json(json.loads((out / SIMILARITY_DIR / SUMMARY_FILE).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None
