"""Why the grader fingerprints code itself rather than with copydetect: the figures docs/similarity.md quotes.

Run: pip install copydetect==0.5.0 && python benchmarks/compare_copydetect.py

On the similarity corpus (9 independent solutions, 5 disguises of each; the starter subtracted
in both), it prints for copydetect (its defaults: noise threshold 25 characters, guarantee 30,
so k = 25 and a window of 6; a pair's score is the larger of its two per-file similarities) and
for the grader's engine (without the class-wide common-code filter, which copydetect lacks;
then with it): the weakest disguised copy, the closest independent pair, and the time per file.
It also shows that copydetect's fingerprints differ between two processes: they are Python's
salted `hash()` of each k-gram, so they cannot be computed in a worker or cached.
"""

from __future__ import annotations

import io
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import similarity_corpus as corpus  # noqa: E402

from grader.judgement.similarity.documents import CodeDocument  # noqa: E402
from grader.judgement.similarity.fingerprint import fingerprint  # noqa: E402
from grader.judgement.similarity.index import FingerprintIndex  # noqa: E402
from grader.judgement.similarity.settings import SimilaritySettings  # noqa: E402


def family(sub: str) -> str:
    return sub.split("~")[0]


def summary(name: str, scores: dict[tuple[str, str], float], per_file_ms: float) -> None:
    copies = [v for (a, b), v in scores.items() if family(a) == family(b) and ("~" in a) != ("~" in b)]
    independent = sorted(((v, a, b) for (a, b), v in scores.items() if family(a) != family(b)), reverse=True)
    above = sum(1 for v, *_ in independent if v >= min(copies))
    print(f"{name}: weakest copy {min(copies):.2f}, closest independent pair {independent[0][0]:.2f} "
          f"{independent[0][1:]}, independent pairs at or above the weakest copy: {above} of {len(independent)}; "
          f"{per_file_ms:.0f} ms per file")


def main() -> None:
    from copydetect import CodeFingerprint, compare_files

    codes = corpus.corpus()
    starter = (corpus.STARTER / corpus.MODULE).read_text()
    start = time.perf_counter()
    boiler = CodeFingerprint("starter.py", 25, 6, fp=io.StringIO(starter))
    prints = {k: CodeFingerprint(f"{k}.py", 25, 6, boilerplate=list(boiler.hashes), fp=io.StringIO(v))
              for k, v in codes.items()}
    per_file = (time.perf_counter() - start) / (len(codes) + 1) * 1000
    scores = {}
    for a, b in itertools.combinations(sorted(codes), 2):
        _, (s1, s2), _ = compare_files(prints[a], prints[b])
        scores[(a, b)] = float(max(s1, s2))
    summary("copydetect 0.5.0", scores, per_file)

    start = time.perf_counter()
    ours = {k: fingerprint([CodeDocument(corpus.MODULE, v)]) for k, v in codes.items()}
    ignore = fingerprint([CodeDocument(corpus.MODULE, starter)]).distinct
    per_file = (time.perf_counter() - start) / (len(codes) + 1) * 1000
    default = SimilaritySettings().common_cutoff(len(codes))
    for label, cutoff in (("grader, no common-code filter", None), (f"grader, default filter ({default})", default)):
        found = {(p.a, p.b): p.score for p in FingerprintIndex(ours, ignore, cutoff).pairs()}
        summary(label, {pair: found.get(pair, 0.0) for pair in itertools.combinations(sorted(codes), 2)}, per_file)

    solution = str(corpus.ROOT / "reference/hw4/solution/cattern/neural_net.py")
    probe = ("import io; from copydetect import CodeFingerprint; "
             f"print(sorted(CodeFingerprint('a.py', 25, 6, fp=io.StringIO(open({solution!r}).read())).hashes)[:2])")
    outs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2")]
    same = "equal" if outs[0] == outs[1] else "DIFFERENT"
    print(f"copydetect fingerprints of the same file in two processes are {same}")


if __name__ == "__main__":
    main()
