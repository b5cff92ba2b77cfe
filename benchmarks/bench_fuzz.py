"""Fuzz every parser of untrusted input with thousands of generated inputs.

    python benchmarks/bench_fuzz.py [--examples 3000] [--seed 0] [--only zip,npz]

Runs each target of `tests/fuzz_targets.py` (answers.md, notebooks, zips, .npz models, wire
frames, rubric TOML) for `--examples` generated inputs and prints, per parser, the inputs tried, the
distinct crashes found (an exception other than the parser's documented error, or a broken
invariant such as a file written outside the workspace) and the time taken. Each crash is
printed with its smallest input. Exits 1 if any crash was found. CI runs the same targets with
a small, derandomized count (tests/test_fuzz.py); this script is for the thousands.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz_targets import TARGETS, Target  # noqa: E402 - after the path is set


def fuzz(target: Target, examples: int, at_seed: int) -> tuple[int, list[BaseException], float]:
    tried = [0]

    @seed(at_seed)
    @settings(max_examples=examples, deadline=None, database=None, report_multiple_bugs=True,
              phases=(Phase.explicit, Phase.generate, Phase.shrink),
              suppress_health_check=list(HealthCheck))
    @given(target.strategy)
    def run(value: object) -> None:
        tried[0] += 1
        target.check(value)

    started = time.monotonic()
    crashes: list[BaseException] = []
    try:
        run()
    except BaseExceptionGroup as group:
        crashes = list(group.exceptions)
    except Exception as exc:  # noqa: BLE001 - a single crash, reported below
        crashes = [exc]
    return tried[0], crashes, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=3000, help="generated inputs per parser")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", default="", help="comma-separated target names")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # nbformat and zipfile warn about what the generated inputs do on purpose
    wanted = {name for name in args.only.split(",") if name}
    targets = [t for t in TARGETS if not wanted or t.name in wanted]
    print(f"fuzzing {len(targets)} parsers, {args.examples} generated inputs each, seed {args.seed}")
    print(f"{'parser':10} {'inputs tried':>12} {'crashes':>8} {'seconds':>8}  what")
    total_tried = total_crashes = 0
    for target in targets:
        tried, crashes, seconds = fuzz(target, args.examples, args.seed)
        total_tried += tried
        total_crashes += len(crashes)
        print(f"{target.name:10} {tried:12d} {len(crashes):8d} {seconds:8.1f}  {target.parser}", flush=True)
        for crash in crashes:
            notes = "\n".join(getattr(crash, "__notes__", []))
            print(f"    crash: {type(crash).__name__}: {str(crash)[:300]}\n    {notes[:1500]}", flush=True)
    print(f"total: {total_tried} inputs tried, {total_crashes} crashes")
    return 1 if total_crashes else 0


if __name__ == "__main__":
    sys.exit(main())
