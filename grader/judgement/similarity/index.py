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

from collections.abc import Mapping

import numpy as np
from scipy import sparse

from grader.judgement.similarity.documents import CodeDocument
from grader.judgement.similarity.fingerprint import Fingerprints, K, TokenStream
from grader.similarity_results import Cluster, DocumentView, PairScore, PairView, Segment

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
    """Per token: covered by a wanted fingerprint? and the first wanted hash covering it (0 if none)."""
    covered = np.zeros(n_tokens, dtype=bool)
    owner = np.zeros(n_tokens, dtype=np.uint64)
    for h, s in zip(prints.hashes.tolist(), prints.starts.tolist(), strict=True):
        if h in wanted:
            covered[s:s + K] = True
            span = owner[s:s + K]
            span[span == 0] = h
    return covered, owner


def _regions(covered: np.ndarray, stream: TokenStream) -> list[tuple[int, int]]:
    """Runs of covered tokens within one document: (first token, last token)."""
    out = []
    i = 0
    while i < len(covered):
        if covered[i]:
            j = i
            while j + 1 < len(covered) and covered[j + 1] and stream.docs[j + 1] == stream.docs[i]:
                j += 1
            out.append((i, j))
            i = j + 1
        else:
            i += 1
    return out


def _spans(region: tuple[int, int], stream: TokenStream, text: str) -> list[tuple[int, int]]:
    """A region's characters, cut wherever a line break falls between two of its tokens, so the
    comments and blank lines in between (never compared) are not marked."""
    first, last = region
    spans = [[stream.starts[first], stream.ends[first]]]
    for t in range(first + 1, last + 1):
        if "\n" in text[spans[-1][1]:stream.starts[t]]:
            spans.append([stream.starts[t], stream.ends[t]])
        else:
            spans[-1][1] = stream.ends[t]
    return [(a, b) for a, b in spans]


def _side(docs: list[CodeDocument], stream: TokenStream, regions: list[tuple[int, int]],
          numbers: list[int]) -> tuple[DocumentView, ...]:
    views = []
    for d, doc in enumerate(docs):
        segments = []
        at = 0
        for region, number in zip(regions, numbers, strict=True):
            if stream.docs[region[0]] != d:
                continue
            for start, end in _spans(region, stream, doc.text):
                if start > at:
                    segments.append(Segment(doc.text[at:start]))
                segments.append(Segment(doc.text[start:end], number))
                at = end
        if at < len(doc.text):
            segments.append(Segment(doc.text[at:]))
        views.append(DocumentView(doc.path, tuple(segments)))
    return tuple(views)


def pair_view(pair: PairScore, left: tuple[list[CodeDocument], TokenStream, Fingerprints],
              right: tuple[list[CodeDocument], TokenStream, Fingerprints], counted: np.ndarray) -> PairView:
    """Both sides cut into segments; a matching region carries the same number on both sides."""
    (docs_a, stream_a, prints_a), (docs_b, stream_b, prints_b) = left, right
    wanted = set(np.intersect1d(np.intersect1d(prints_a.hashes, prints_b.hashes), counted).tolist())
    cov_a, own_a = _covered(prints_a, wanted, len(stream_a))
    cov_b, own_b = _covered(prints_b, wanted, len(stream_b))
    regions_a, regions_b = _regions(cov_a, stream_a), _regions(cov_b, stream_b)
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
    return PairView(pair, _side(docs_a, stream_a, regions_a, numbers_a),
                    _side(docs_b, stream_b, regions_b, numbers_b), len(regions_a))
