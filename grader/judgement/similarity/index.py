"""An inverted index fingerprint -> submissions: the pairs that share code, without comparing every pair.

Each submission contributes its distinct fingerprints, less the starter's and less those found in
more than `common_cutoff` submissions (code everyone writes, such as the loop the starter's
comments dictate). The index is a sparse submissions x fingerprints matrix M whose columns are the
posting lists; M·Mᵀ walks each posting list once and counts, for every pair of submissions on a
common list, how many fingerprints they share. Work grows with the sum of the squared lengths of
the posting lists (bounded by the cutoff), not with the number of pairs in the class, and pairs
sharing nothing are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
from scipy import sparse

from grader.judgement.similarity.documents import CodeDocument
from grader.judgement.similarity.fingerprint import Fingerprints, K, TokenSpans
from grader.similarity_results import Cluster, DocumentView, PairScore, PairView, Segment

_NEWLINE = re.compile("\n")
MIN_SIZE = 8  # a side with fewer counted fingerprints is scored as if it had this many: 3 lines are no copy


class FingerprintIndex:
    def __init__(self, prints: Mapping[str, Fingerprints], ignore: np.ndarray | None = None,
                 common_cutoff: int | None = None) -> None:
        self.ids = sorted(prints)
        ignore = np.unique(ignore) if ignore is not None else np.zeros(0, dtype=np.uint64)
        per_sub = [np.setdiff1d(prints[i].distinct, ignore, assume_unique=True) for i in self.ids]
        rows = np.repeat(np.arange(len(self.ids)), [len(h) for h in per_sub])
        hashes = np.concatenate(per_sub) if per_sub else np.zeros(0, dtype=np.uint64)
        vocab, cols, counts = np.unique(hashes, return_inverse=True, return_counts=True)
        self.cutoff = common_cutoff if common_cutoff is not None else len(self.ids)
        self.common = vocab[counts > self.cutoff]
        keep = counts[cols] <= self.cutoff
        matrix = sparse.csr_matrix((np.ones(int(keep.sum()), dtype=np.int32), (rows[keep], cols[keep])),
                                   shape=(len(self.ids), len(vocab)))
        self._matrix = matrix
        self.sizes = np.asarray(matrix.sum(axis=1)).ravel().astype(int)
        self.counted = {i: np.setdiff1d(h, self.common, assume_unique=True) for i, h in zip(self.ids, per_sub,
                                                                                          strict=True)}

    def pairs(self) -> list[PairScore]:
        """Every pair sharing at least one counted fingerprint, highest score first (ties by name)."""
        shared = sparse.triu(self._matrix @ self._matrix.T, k=1).tocoo()
        out = []
        for i, j, n in zip(shared.row.tolist(), shared.col.tolist(), shared.data.tolist(), strict=True):
            size_i, size_j = int(self.sizes[i]), int(self.sizes[j])
            score = n / max(min(size_i, size_j), MIN_SIZE)
            out.append(PairScore(self.ids[i], self.ids[j], round(min(1.0, score), 4), int(n), size_i, size_j))
        out.sort(key=lambda p: (-p.score, -p.shared, p.a, p.b))
        return out


def clusters(pairs: list[PairScore] | tuple[PairScore, ...], threshold: float) -> list[Cluster]:
    """Connected groups of flagged pairs (union-find), biggest and most similar first."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    top: dict[str, float] = {}
    for p in pairs:
        if p.score >= threshold:
            parent[root(p.a)] = root(p.b)
    for p in pairs:
        if p.score >= threshold:
            r = root(p.a)
            top[r] = max(top.get(r, 0.0), p.score)
    groups: dict[str, list[str]] = {}
    for x in parent:
        groups.setdefault(root(x), []).append(x)
    found = [Cluster(tuple(sorted(m)), top[r]) for r, m in groups.items() if len(m) > 1]
    return sorted(found, key=lambda c: (-len(c.members), -c.top_score, c.members))


def _covered(prints: Fingerprints, wanted: np.ndarray, n_tokens: int) -> tuple[np.ndarray, np.ndarray]:
    """Per token: covered by a wanted fingerprint? and the first wanted hash covering it (0 if none).

    "First" is the wanted fingerprint that starts earliest (fingerprints are kept in ascending
    start order), which is what numbers a region; done with arrays, as pages are drawn per pair.
    """
    keep = np.isin(prints.hashes, wanted)
    starts, hashes = prints.starts[keep].astype(np.int64), prints.hashes[keep]
    owner = np.zeros(n_tokens, dtype=np.uint64)
    if not len(starts):
        return np.zeros(n_tokens, dtype=bool), owner
    tokens = np.arange(n_tokens)
    # the earliest wanted fingerprint that could cover token t starts at t - K + 1 or later
    first = np.searchsorted(starts, tokens - K + 1, side="left")
    inside = first < len(starts)
    inside[inside] = starts[first[inside]] <= tokens[inside]
    owner[inside] = hashes[first[inside]]
    return inside, owner


def _regions(covered: np.ndarray, docs: np.ndarray) -> list[tuple[int, int]]:
    """Runs of covered tokens within one document: (first token, last token)."""
    if not len(covered):
        return []
    new_doc = np.ones(len(covered), dtype=bool)
    new_doc[1:] = docs[1:] != docs[:-1]
    begins = covered & (new_doc | ~np.concatenate(([False], covered[:-1])))
    ends = covered & (np.concatenate((new_doc[1:], [True])) | ~np.concatenate((covered[1:], [False])))
    return list(zip(np.flatnonzero(begins).tolist(), np.flatnonzero(ends).tolist(), strict=True))


def line_breaks(spans: TokenSpans, docs: list[CodeDocument]) -> np.ndarray:
    """Per token: does a line break fall between it and the token before it in the same document?"""
    breaks = np.zeros(len(spans), dtype=bool)
    for d, doc in enumerate(docs):
        mine = np.flatnonzero(spans.docs == d)
        if len(mine) < 2:
            continue
        newlines = np.array([m.start() for m in _NEWLINE.finditer(doc.text)], dtype=np.int64)
        before_start = np.searchsorted(newlines, spans.starts[mine[1:]], side="left")
        before_end = np.searchsorted(newlines, spans.ends[mine[:-1]], side="left")
        breaks[mine[1:]] = before_start > before_end  # a "\n" between the previous token and this one
    return breaks


def _spans(region: tuple[int, int], spans: TokenSpans, breaks: np.ndarray) -> list[tuple[int, int]]:
    """A region's characters, cut wherever a line break falls between two of its tokens, so the
    comments and blank lines in between (never compared) are not marked."""
    first, last = region
    cuts = first + 1 + np.flatnonzero(breaks[first + 1:last + 1])
    heads = np.concatenate(([first], cuts))
    tails = np.concatenate((cuts - 1, [last]))
    return list(zip(spans.starts[heads].tolist(), spans.ends[tails].tolist(), strict=True))


def _side(docs: list[CodeDocument], spans: TokenSpans, regions: list[tuple[int, int]],
          numbers: list[int]) -> tuple[DocumentView, ...]:
    breaks = line_breaks(spans, docs)
    region_doc = [int(spans.docs[first]) for first, _ in regions]
    views = []
    for d, doc in enumerate(docs):
        segments = []
        at = 0
        for region, number, where in zip(regions, numbers, region_doc, strict=True):
            if where != d:
                continue
            for start, end in _spans(region, spans, breaks):
                if start > at:
                    segments.append(Segment(doc.text[at:start]))
                segments.append(Segment(doc.text[start:end], number))
                at = end
        if at < len(doc.text):
            segments.append(Segment(doc.text[at:]))
        views.append(DocumentView(doc.path, tuple(segments)))
    return tuple(views)


def pair_view(pair: PairScore, left: tuple[list[CodeDocument], TokenSpans, Fingerprints],
              right: tuple[list[CodeDocument], TokenSpans, Fingerprints], counted: np.ndarray) -> PairView:
    """Both sides cut into segments; a matching region carries the same number on both sides."""
    (docs_a, spans_a, prints_a), (docs_b, spans_b, prints_b) = left, right
    wanted = np.intersect1d(np.intersect1d(prints_a.hashes, prints_b.hashes), counted)
    cov_a, own_a = _covered(prints_a, wanted, len(spans_a))
    cov_b, own_b = _covered(prints_b, wanted, len(spans_b))
    regions_a, regions_b = _regions(cov_a, spans_a.docs), _regions(cov_b, spans_b.docs)
    number_of_hash: dict[int, int] = {}
    numbers_a = []
    for n, (first, last) in enumerate(regions_a, start=1):
        numbers_a.append(n)
        for h in own_a[first:last + 1].tolist():
            number_of_hash.setdefault(h, n)
    numbers_b = []
    for first, last in regions_b:
        votes = [number_of_hash[h] for h in own_b[first:last + 1].tolist() if h in number_of_hash]
        numbers_b.append(max(set(votes), key=votes.count) if votes else 0)
    return PairView(pair, _side(docs_a, spans_a, regions_a, numbers_a),
                    _side(docs_b, spans_b, regions_b, numbers_b), len(regions_a))
