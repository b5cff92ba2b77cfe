"""What a similarity run finds, as plain typed data: judgement produces it, presentation draws it.

It is TA-only by construction: nothing here is part of a `SubmissionResult`, so no student view,
report, result.json or export can carry it (tests/test_leaks.py checks that).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class PairScore:
    """Two submissions that share fingerprints beyond the starter and the class's common code.

    `score` is the share of the smaller submission's own code (its fingerprints) found in the
    other one: a copy with dead code added still scores near 1 against its original.
    """

    a: str
    b: str
    score: float
    shared: int  # fingerprints in both
    size_a: int  # fingerprints of each side that count (starter and common code left out)
    size_b: int


@dataclass(frozen=True)
class Cluster:
    """Submissions joined by flagged pairs (A ~ B ~ C): each is linked to another by at least the threshold."""

    members: tuple[str, ...]
    top_score: float


@dataclass(frozen=True)
class SimilarityReport:
    rubric: str
    threshold: float
    pairs: tuple[PairScore, ...]  # every pair that shares a counted fingerprint, highest score first
    clusters: tuple[Cluster, ...] = ()
    compared: tuple[str, ...] = ()  # submissions whose code was fingerprinted
    not_compared: dict[str, str] = field(default_factory=dict)  # submission -> why (no code, unreadable)
    starter: str | None = None  # what was subtracted, as the TA should read it
    common_cutoff: int = 0  # fingerprints found in more submissions than this were ignored
    pages: dict[str, str] = field(default_factory=dict)  # "a\tb" -> page file name, for flagged pairs
    error: str | None = None  # the run itself failed: say so rather than show "no pairs"
    n_pairs: int | None = None  # all pairs found, when `pairs` holds only the top (a stored summary)
    n_flagged: int | None = None

    SUMMARY_PAIRS = 1000  # pairs kept in summary.json: the overview shows the top; the CSV has them all

    @property
    def pair_count(self) -> int:
        return self.n_pairs if self.n_pairs is not None else len(self.pairs)

    @property
    def flagged_count(self) -> int:
        return self.n_flagged if self.n_flagged is not None else len(self.flagged)

    @property
    def flagged(self) -> tuple[PairScore, ...]:
        return tuple(p for p in self.pairs if p.score >= self.threshold)

    def page_for(self, pair: PairScore) -> str | None:
        return self.pages.get(f"{pair.a}\t{pair.b}")

    def to_json(self) -> dict[str, Any]:
        """The summary the overview is drawn from: every count, but only the top pairs (a class of 1,000
        can have 10^5 pairs sharing something; similarity.csv lists them all)."""
        # not asdict(self): it would deep-copy every pair (10^5 of them) only to drop all but the top
        plain = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("pairs", "clusters")}
        return {**plain, "pairs": [asdict(p) for p in self.pairs[:self.SUMMARY_PAIRS]],
                "clusters": [asdict(c) for c in self.clusters], "n_pairs": self.pair_count,
                "n_flagged": self.flagged_count}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SimilarityReport:
        return cls(data["rubric"], float(data["threshold"]),
                   tuple(PairScore(**p) for p in data["pairs"]),
                   tuple(Cluster(tuple(c["members"]), c["top_score"]) for c in data["clusters"]),
                   tuple(data.get("compared", ())), dict(data.get("not_compared", {})), data.get("starter"),
                   int(data.get("common_cutoff", 0)), dict(data.get("pages", {})), data.get("error"),
                   data.get("n_pairs"), data.get("n_flagged"))

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Segment:
    text: str
    match: int | None = None  # the matching region's number, the same on both sides


@dataclass(frozen=True)
class DocumentView:
    path: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class PairView:
    """One flagged pair, side by side: each side's code cut into plain and matching segments."""

    pair: PairScore
    left: tuple[DocumentView, ...]
    right: tuple[DocumentView, ...]
    matches: int  # regions numbered 1..matches
