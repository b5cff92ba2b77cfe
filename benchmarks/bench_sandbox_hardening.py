"""What the seccomp filter and the memory cgroup cost per sandbox.

    python benchmarks/bench_sandbox_hardening.py [--rounds 7] [--calls 20]

For each configuration (the same sandbox level with and without the filter, and with the
memory cgroup), in interleaved rounds so that machine noise hits all of them alike: the time to
launch `/bin/true` in the sandbox (the launcher's own cost, without Python's start-up noise),
the time from starting a student process (fork server) to its first answer, and the time of one
trivial probe call after that. Also prints the one-off cost of compiling the filter (once per grader
process) and of making and removing one memory cgroup. Medians over the rounds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.execution import cgroup, seccomp  # noqa: E402
from grader.execution.sandbox import LEVELS, UIDS, Sandbox  # noqa: E402
from grader.execution.session import GRADER_SRC, Limits, ModuleSession, SessionConfig  # noqa: E402

PROBES = "import numpy as np\n\n\ndef probe_nothing(student):\n    return {'x': np.int64(1)}\n"
LIMITS = Limits(time_s=10, memory_mb=1024)


def _project(base: Path) -> Path:
    (base / "root/pkg").mkdir(parents=True)
    (base / "root/pkg/__init__.py").write_text("")
    (base / "root/pkg/mod.py").write_text("import numpy as np\n")
    (base / "probes.py").write_text(PROBES)
    for dirpath, _, files in os.walk(base):
        os.chmod(dirpath, 0o755)
        for name in files:
            os.chmod(os.path.join(dirpath, name), 0o644)
    return base


def _configs() -> dict[str, Sandbox]:
    configs = {"process, no filter": Sandbox(LEVELS["process"], sys.executable, seccomp=False),
               "process + filter": Sandbox(LEVELS["process"], sys.executable)}
    if shutil.which("bwrap") and shutil.which("setpriv") and os.geteuid() == 0:
        configs["bwrap+uid, no filter"] = Sandbox(LEVELS["bwrap+uid"], sys.executable, seccomp=False)
        configs["bwrap+uid + filter"] = Sandbox(LEVELS["bwrap+uid"], sys.executable)
        try:
            cgroup.find()
            configs["bwrap+uid+cgroup (filter + cgroup)"] = Sandbox(LEVELS["bwrap+uid+cgroup"], sys.executable)
        except cgroup.CgroupUnavailable as exc:
            print(f"(no memory cgroup here: {exc})")
    return configs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=20, help="trivial calls per round, after the start")
    args = parser.parse_args()

    builds = []
    for _ in range(5):
        started = time.perf_counter()
        seccomp.build_bpf()
        builds.append(time.perf_counter() - started)
    print(f"compiling the seccomp filter: {statistics.median(builds) * 1000:.1f} ms, once per grader process "
          f"({len(seccomp.build_bpf())} bytes of BPF)")
    try:
        groups = cgroup.find()
        times = []
        for _ in range(20):
            started = time.perf_counter()
            group = groups.create(1 << 30)
            group.remove()
            times.append(time.perf_counter() - started)
        print(f"making and removing one memory cgroup (v{groups.version}): {statistics.median(times) * 1000:.2f} ms")
    except cgroup.CgroupUnavailable as exc:
        print(f"no memory cgroup: {exc}")

    configs = _configs()
    for sandbox in configs.values():  # warm: python paths probed, filter file written
        sandbox.python_paths()
    seccomp.filter_file()
    launches: dict[str, list[float]] = {name: [] for name in configs}
    with tempfile.TemporaryDirectory(prefix="bench-hardening-") as tmp:
        project = _project(Path(tmp) / "project")
        for _ in range(args.rounds * 5):
            for name, sandbox in configs.items():
                uid = UIDS.acquire() if sandbox.drops_uid else None
                memory = sandbox.memory_group(1 << 30)
                try:
                    argv = sandbox.wrap(["/bin/true"], root=project / "root", probes=project / "probes.py",
                                        grader_src=GRADER_SRC, uid=uid, memory=memory)
                    started = time.perf_counter()
                    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)
                    launches[name].append(time.perf_counter() - started)
                finally:
                    if uid is not None:
                        UIDS.release(uid)
                    if memory is not None:
                        memory.remove()
    starts: dict[str, list[float]] = {name: [] for name in configs}
    calls: dict[str, list[float]] = {name: [] for name in configs}
    with tempfile.TemporaryDirectory(prefix="bench-hardening-") as tmp:
        project = _project(Path(tmp) / "project")
        for round_ in range(args.rounds):
            for name, sandbox in configs.items():
                config = SessionConfig(root=project / "root", probes=project / "probes.py", module="pkg.mod",
                                       workdir=Path(tmp) / f"home-{round_}-{len(starts[name])}", sandbox=sandbox)
                with ModuleSession(config) as session:
                    started = time.perf_counter()
                    assert session.call("nothing", LIMITS).ok
                    starts[name].append(time.perf_counter() - started)
                    started = time.perf_counter()
                    for _ in range(args.calls):
                        assert session.call("nothing", LIMITS).ok
                    calls[name].append((time.perf_counter() - started) / args.calls)
    print(f"\nmedians over interleaved rounds ({args.rounds * 5} launches, {args.rounds} sessions of "
          f"{args.calls} calls):")
    print(f"{'configuration':38} {'launch /bin/true':>16} {'start + first call':>18} {'one more call':>14}")
    for name in configs:
        print(f"{name:38} {statistics.median(launches[name]) * 1000:13.1f} ms "
              f"{statistics.median(starts[name]) * 1000:15.0f} ms {statistics.median(calls[name]) * 1000:11.1f} ms")
    for level in ("process", "bwrap+uid"):
        base, filtered = f"{level}, no filter", f"{level} + filter"
        if base in starts and filtered in starts:
            launch = statistics.median(launches[filtered]) - statistics.median(launches[base])
            extra = statistics.median(starts[filtered]) - statistics.median(starts[base])
            print(f"the filter adds {launch * 1000:+.1f} ms to a launch and {extra * 1000:+.0f} ms to a sandbox's "
                  f"start at {level}")
    cg = "bwrap+uid+cgroup (filter + cgroup)"
    if cg in starts:
        launch = statistics.median(launches[cg]) - statistics.median(launches["bwrap+uid + filter"])
        print(f"the memory cgroup adds {launch * 1000:+.1f} ms to a launch")
        extra = statistics.median(starts[cg]) - statistics.median(starts["bwrap+uid + filter"])
        per_call = statistics.median(calls[cg]) - statistics.median(calls["bwrap+uid + filter"])
        print(f"the memory cgroup adds {extra * 1000:+.0f} ms to a sandbox's start and {per_call * 1000:+.2f} ms "
              "to a call")


if __name__ == "__main__":
    main()
