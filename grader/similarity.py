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

`grader grade` runs it at the end of every batch.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from grader.execution.workspace import content_hash
from grader.judgement.rubric import Rubric, data_root
from grader.judgement.similarity.documents import CodeDocument, documents_in, submission_documents
from grader.judgement.similarity.fingerprint import SCHEME, Fingerprints, TokenStream, fingerprint, tokens
from grader.judgement.similarity.index import FingerprintIndex, clusters, pair_view
from grader.judgement.similarity.settings import SimilaritySettings, load_settings
from grader.presentation.atomic import write_text_atomic
from grader.presentation.similarity_pages import pairs_csv, render_pair_page
from grader.similarity_results import SimilarityReport
from grader.store import Gradebook

SIMILARITY_DIR = "similarity"
SIMILARITY_CSV = "similarity.csv"
SUMMARY_FILE = "summary.json"
MAX_PAGES = 100  # pair pages drawn per run, highest scores first: the rest are in the table and the CSV
PARALLEL_FROM = 16  # missing fingerprints computed in worker processes from this many on


def settings_for(rubric: Rubric) -> SimilaritySettings:
    return load_settings(rubric.path, rubric.id, rubric.files, data_root())


def scheme_for(settings: SimilaritySettings) -> str:
    """The cache key besides the content: fingerprints change with the method and with what counts as code."""
    return f"{SCHEME};files={','.join(settings.files)}"


@dataclass(frozen=True)
class CodeRecord:
    """One submission's code as cached: its documents (for the pair pages) and its fingerprints."""

    documents: tuple[CodeDocument, ...]
    notes: tuple[str, ...]
    prints: Fingerprints

    def to_bytes(self) -> bytes:
        head = zlib.compress(json.dumps({"documents": [[d.path, d.text] for d in self.documents],
                                         "notes": list(self.notes)}).encode())
        return len(head).to_bytes(4, "little") + head + self.prints.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> CodeRecord:
        size = int.from_bytes(data[:4], "little")
        head = json.loads(zlib.decompress(data[4:4 + size]))
        return cls(tuple(CodeDocument(p, t) for p, t in head["documents"]), tuple(head["notes"]),
                   Fingerprints.from_bytes(data[4 + size:]))


def code_record(source: Path, settings: SimilaritySettings) -> CodeRecord:
    documents, notes = submission_documents(source, settings.files)
    return CodeRecord(tuple(documents), tuple(notes), fingerprint(documents))


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
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return dict(zip(jobs, pool.map(_compute, jobs.values(), chunksize=8), strict=True))


def starter_record(settings: SimilaritySettings) -> CodeRecord | None:
    if settings.starter is None:
        return None
    notes: list[str] = []
    documents = documents_in(settings.starter, settings.files, notes)
    return CodeRecord(tuple(documents), tuple(notes), fingerprint(documents))


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
    for sub, digest in hashes.items():
        if digest in cached:
            records[sub] = CodeRecord.from_bytes(cached[digest])
        elif sub not in missing_why:
            missing_why[sub] = f"its source {book.source_of(sub)} is gone and no fingerprints were cached"
    return records, missing_why


def _page_name(a: str, b: str) -> str:
    """Stable across runs, and safe whatever the submission ids hold."""
    key = "\t".join((a, b)).encode()
    return f"pair-{hashlib.sha256(key).hexdigest()[:16]}.html"


def compare(records: dict[str, CodeRecord], settings: SimilaritySettings, rubric_id: str,
            not_compared: dict[str, str] | None = None) -> tuple[SimilarityReport, FingerprintIndex]:
    """The report over `records`: the library entry point, without files (tests and benchmarks use it)."""
    not_compared = dict(not_compared or {})
    with_code = {}
    files = ", ".join(settings.files) or "none named in the rubric"
    for sub, record in records.items():
        if record.documents and record.prints.n_tokens:
            with_code[sub] = record.prints
        else:
            not_compared[sub] = f"no code found ({files})" + (f"; {'; '.join(record.notes)}" if record.notes else "")
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


def write_pages(out: Path, report: SimilarityReport, index: FingerprintIndex,
                records: dict[str, CodeRecord]) -> None:
    folder = out / SIMILARITY_DIR
    folder.mkdir(parents=True, exist_ok=True)
    wanted = set(report.pages.values())
    for old in folder.glob("pair-*.html"):  # pages of pairs no longer flagged
        if old.name not in wanted:
            old.unlink()
            (folder / f".{old.name}.key").unlink(missing_ok=True)
    streams: dict[str, TokenStream] = {}  # a submission in several flagged pairs is tokenised once
    summary = report.dumps()  # once: it feeds every page's key (per page, it made 1,000 take minutes)
    for pair in report.flagged:
        name = report.page_for(pair)
        if name is None:
            continue
        # the page is a function of the two records and the report: unchanged since it was drawn
        # (a regrade after a rubric edit), it is not tokenised and highlighted again
        key = hashlib.sha256(b"".join(records[sub].to_bytes() for sub in (pair.a, pair.b))
                             + summary.encode()).hexdigest()
        stamp = folder / f".{name}.key"
        if (folder / name).is_file() and stamp.is_file() and stamp.read_text() == key:
            continue
        sides = []
        for sub in (pair.a, pair.b):
            record = records[sub]
            if sub not in streams:
                streams[sub] = tokens(record.documents)
            sides.append((list(record.documents), streams[sub], record.prints))
        view = pair_view(pair, sides[0], sides[1], index.counted[pair.a])
        write_text_atomic(folder / name, render_pair_page(view, report))
        write_text_atomic(stamp, key)
    write_text_atomic(out / SIMILARITY_CSV, pairs_csv(report.pairs))
    write_text_atomic(folder / SUMMARY_FILE, summary)


def run_similarity(out: Path, rubric: Rubric, book: Gradebook) -> SimilarityReport:
    """Compare every graded submission in `out` and write the CSV, the pair pages and the summary."""
    settings = settings_for(rubric)
    records, not_compared = load_records(book, rubric, settings)
    report, index = compare(records, settings, rubric.id, not_compared)
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
