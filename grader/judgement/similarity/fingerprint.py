"""Code text -> normalised tokens -> winnowed k-gram fingerprints (Schleimer, Wilkerson & Aiken 2003).

Normalising is what makes disguises useless: comments, docstrings and whitespace are dropped,
every string literal is one token `S`, names the student chose (variables, parameters, their
own functions and classes) become `V` or `F`. What the student cannot rename without changing
what the code does stays as written: keywords, operators, numbers, builtins, attribute and
method names after a dot (`np.maximum`, `.T`, `.sum`) and keyword-argument names (`axis=`).
That last part is why two independent solutions of the same short function still look
different: they call different things, in a different order.

A fingerprint is a 64-bit hash of k consecutive tokens; winnowing keeps the smallest hash of
every window of w hashes, so any match of at least w + k - 1 tokens is always found, and a
document of n tokens keeps about 2n / (w + 1) fingerprints. Token values are hashed with
BLAKE2b and k-grams with a polynomial over 64-bit integers, so a fingerprint computed in a
worker process (or last week) equals the one computed here: nothing depends on Python's
per-process string hash.
"""

from __future__ import annotations

import functools
import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pygments.lexers import PythonLexer
from pygments.token import Comment, Keyword, Name, String, Text, _TokenType

from grader.judgement.similarity.documents import CodeDocument

K = 12  # tokens per k-gram: a short statement (`dscores[np.arange(N), y] -= 1` is 13)
W = 6  # winnowing window: every match of K + W - 1 = 17 tokens or more is found
SCHEME = f"tokens-v1-k{K}-w{W}"  # changes whenever fingerprints would: the cache key

_BASE = np.uint64(1_000_003)


@dataclass
class TokenStream:
    """Normalised tokens of a submission's documents, in order, with where each came from."""

    texts: list[str] = field(default_factory=list)  # `V`, `F`, `S`, or the source text
    docs: list[int] = field(default_factory=list)  # index of the document
    starts: list[int] = field(default_factory=list)  # character offsets in that document's text
    ends: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def spans(self) -> TokenSpans:
        return TokenSpans(np.asarray(self.docs, dtype=np.int32), np.asarray(self.starts, dtype=np.int32),
                          np.asarray(self.ends, dtype=np.int32))


@dataclass(frozen=True)
class TokenSpans:
    """Where each token sits: its document and its characters. All a pair page needs of the tokens.

    The worker that fingerprints a submission stores these with the fingerprints, so the parent
    draws the pages without lexing the code again (Pygments, about 55 ms per HW4 module). Stored
    as three int32 columns (document, start minus the previous start, length), zlib-compressed:
    about 1.2 bytes per token (HW4's solution: 783 tokens, 0.95 KB).
    """

    docs: np.ndarray  # int32, index of the document
    starts: np.ndarray  # int32, first character in that document's text
    ends: np.ndarray  # int32, one past the last

    def __len__(self) -> int:
        return len(self.starts)

    def to_bytes(self) -> bytes:
        step = np.diff(self.starts, prepend=np.int32(0))
        columns = np.stack([self.docs, step, self.ends - self.starts]).astype("<i4")
        return zlib.compress(columns.tobytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> TokenSpans:
        columns = np.frombuffer(zlib.decompress(data), dtype="<i4").reshape(3, -1).astype(np.int32)
        starts = np.cumsum(columns[1], dtype=np.int32)
        return cls(columns[0], starts, starts + columns[2])


@dataclass(frozen=True)
class Fingerprints:
    """One submission's fingerprints: `hashes[i]` covers tokens `starts[i]` .. `starts[i] + K - 1`."""

    hashes: np.ndarray  # uint64, one per selected k-gram (positions ascending)
    starts: np.ndarray  # int32
    n_tokens: int

    def to_bytes(self) -> bytes:
        header = np.array([len(self.hashes), self.n_tokens], dtype="<i8").tobytes()
        return header + self.hashes.astype("<u8").tobytes() + self.starts.astype("<i4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprints:
        count, n_tokens = np.frombuffer(data[:16], dtype="<i8")
        hashes = np.frombuffer(data[16:16 + 8 * count], dtype="<u8").astype(np.uint64)
        starts = np.frombuffer(data[16 + 8 * count:16 + 12 * count], dtype="<i4").astype(np.int32)
        return cls(hashes, starts, int(n_tokens))

    @staticmethod
    def size_of(data: bytes) -> int:
        """How many bytes of `data` (which may go on) `from_bytes` reads."""
        return 16 + 12 * int(np.frombuffer(data[:8], dtype="<i8")[0])

    @property
    def distinct(self) -> np.ndarray:
        return np.unique(self.hashes)


_OPEN = frozenset("([{")
_CLOSE = frozenset(")]}")


@functools.cache
def _lexer() -> PythonLexer:
    """Built once per process: the first PythonLexer compiles its regular expressions (about 0.1 s)."""
    return PythonLexer(stripnl=False, ensurenl=False)


def prepare_lexer() -> None:
    """Build the lexer now, so that processes forked afterwards inherit it instead of each compiling its own."""
    _lexer()


def tokens(documents: Sequence[CodeDocument]) -> TokenStream:
    """The normalised tokens of every document, one stream (no fingerprint spans two files)."""
    out = TokenStream()
    for number, doc in enumerate(documents):
        raw = [(i, t, v) for i, t, v in _lexer().get_tokens_unprocessed(doc.text)
               if v.strip() and not (t in Text or t in Comment or t in String.Doc)]
        own = _own_names(raw)
        depth = 0
        in_signature = False
        previous = ""
        j = 0
        while j < len(raw):
            start, ttype, value = raw[j]
            end = start + len(value)
            if ttype in String:  # one literal, however it is quoted or split: `S`
                while j + 1 < len(raw) and raw[j + 1][1] in String:
                    j += 1
                    end = raw[j][0] + len(raw[j][2])
                text = "S"
            elif ttype in Name:
                if ttype in Name.Builtin or ttype in Name.Namespace or ttype in Name.Decorator:
                    text = value
                elif ttype in Name.Function or ttype in Name.Class:
                    text = "F"
                elif previous == ".":
                    # an attribute or method: np.maximum, X.T, scores.sum; unless the file defines it
                    text = "V" if value in own else value
                elif depth and not in_signature and j + 1 < len(raw) and raw[j + 1][2] == "=":
                    text = value  # a keyword argument: axis=, keepdims=
                else:
                    text = "V"
            else:
                text = value
                if ttype in Keyword:
                    if value == "def" or value == "lambda":
                        in_signature = True
                elif value in _OPEN:
                    depth += 1
                elif value in _CLOSE:
                    depth = max(0, depth - 1)
                    in_signature = in_signature and depth > 0
                elif value == ":" and not depth:
                    in_signature = False
            out.texts.append(text)
            out.docs.append(number)
            out.starts.append(start)
            out.ends.append(end)
            previous = text
            j += 1
    return out


def _own_names(raw: list[tuple[int, _TokenType, str]]) -> frozenset[str]:
    """Names the code defines itself (`def f`, `class C`, `self.cache = ...`): renamable, so never kept."""
    own = set()
    for j, (_, ttype, value) in enumerate(raw):
        defined = ttype in Name.Function or ttype in Name.Class
        self_attribute = (ttype in Name and 2 <= j < len(raw) - 1 and raw[j - 1][2] == "."
                          and raw[j - 2][2] == "self" and raw[j + 1][2] == "=")
        if defined or self_attribute:
            own.add(value)
    return frozenset(own)


@functools.lru_cache(maxsize=65536)
def _token_id(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def kgram_hashes(ids: np.ndarray, k: int = K) -> np.ndarray:
    """Hash of every run of k token ids: sum of id * BASE^(k-1-j), wrapping at 2^64."""
    n = len(ids) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * _BASE + ids[j:j + n]
    return h


def winnow(hashes: np.ndarray, w: int = W) -> np.ndarray:
    """Positions kept by winnowing: the rightmost minimum of every window of w hashes."""
    if len(hashes) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(hashes) <= w:
        return np.array([len(hashes) - 1 - int(np.argmin(hashes[::-1]))])
    windows = np.lib.stride_tricks.sliding_window_view(hashes, w)
    rightmost = w - 1 - np.argmin(windows[:, ::-1], axis=1)
    return np.unique(np.arange(len(windows)) + rightmost)


def fingerprint_tokens(stream: TokenStream, k: int = K, w: int = W) -> Fingerprints:
    ids = np.fromiter(map(_token_id, stream.texts), dtype=np.uint64, count=len(stream))
    hashes = kgram_hashes(ids, k)
    docs = np.asarray(stream.docs, dtype=np.int32)
    if len(hashes):  # a k-gram that spans two files is not code anyone wrote
        hashes = np.where(docs[:len(hashes)] == docs[k - 1:], hashes, np.uint64(0))
    keep = winnow(hashes, w)
    keep = keep[hashes[keep] != 0] if len(keep) else keep
    return Fingerprints(hashes[keep], keep.astype(np.int32), len(stream))


def fingerprint(documents: Sequence[CodeDocument]) -> Fingerprints:
    return fingerprint_tokens(tokens(documents))

