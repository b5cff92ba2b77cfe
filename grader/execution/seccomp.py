"""The seccomp filter every sandbox level puts around student code.

bubblewrap already gives the student process its own namespaces, a minimal read-only
filesystem and no capabilities, but two kernel features undo its limits from the inside: a
nested user namespace hands student code a fresh set of capabilities in which it can mount a
tmpfs of any size (past the 64 MB cap on /tmp), and memory held in memfd files is not counted by
RLIMIT_AS. The filter closes those, and the rest of the kernel surface coursework never needs:

- new namespaces: `unshare`, `setns`, and `clone` with any namespace flag. `clone3` passes its
  flags in a struct that seccomp cannot read, so it fails with ENOSYS, the answer glibc (2.34+)
  takes as "old kernel" and falls back to `clone`: threads, fork and posix_spawn keep working;
- mounts, old API and new: `mount`, `umount2`, `pivot_root`, `fsopen`, `fsconfig`, `fsmount`,
  `fspick`, `move_mount`, `open_tree`, `open_tree_attr`, `mount_setattr`;
- other processes' memory: `ptrace`, `process_vm_readv`, `process_vm_writev`;
- the kernel keyring: `keyctl`, `add_key`, `request_key`;
- `bpf`, `perf_event_open`, `userfaultfd` and io_uring (kernel attack surface, no use here);
- anonymous memory files: `memfd_create`, `memfd_secret`.

Each refused call fails with EPERM (ENOSYS for clone3), never a kill, so student code gets a
plain `PermissionError` that the report can show. Everything else is allowed: the filter is a
short deny list on top of the other layers, not an allow list.

The filter is compiled once per process by libseccomp (through pyseccomp's ctypes bindings)
into classic BPF, written to a private content-addressed file, and handed to `bwrap --seccomp`
(or loaded by `seccomp_exec.py` at the `process` level). Numbers of syscalls newer than
libseccomp's tables are the same on every architecture from 424 on, so they are given here.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
import threading
from pathlib import Path

# x86-64 numbering would differ for old syscalls; these are >= 424, unified across architectures
_UNIFIED_NUMBERS = {"open_tree_attr": 467, "mount_setattr": 442, "memfd_secret": 447}

NAMESPACE_FLAGS = {
    "CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}  # CLONE_NEWTIME (0x80) exists only for unshare/clone3: in clone's flags that bit is the exit signal

# family -> syscalls refused outright with EPERM (the tests probe each family)
DENIED: dict[str, tuple[str, ...]] = {
    "namespaces": ("unshare", "setns"),
    "mount": ("mount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
              "open_tree", "open_tree_attr", "mount_setattr"),
    "ptrace": ("ptrace", "process_vm_readv", "process_vm_writev"),
    "keyring": ("keyctl", "add_key", "request_key"),
    "bpf": ("bpf",),
    "perf": ("perf_event_open",),
    "userfaultfd": ("userfaultfd",),
    "io_uring": ("io_uring_setup", "io_uring_enter", "io_uring_register"),
    "memfd": ("memfd_create", "memfd_secret"),
}


class SeccompUnavailable(Exception):
    """The filter cannot be built here (no libseccomp, or no pyseccomp)."""


def _syscall_number(name: str) -> int | None:
    import pyseccomp

    number = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)
    if number >= 0:
        return number
    return _UNIFIED_NUMBERS.get(name)  # unknown to this libseccomp: a syscall newer than its tables


def build_bpf() -> bytes:
    """Compile the filter to classic BPF for this machine's architecture."""
    try:
        import pyseccomp
    except (ImportError, RuntimeError, OSError) as exc:  # RuntimeError: pyseccomp found no libseccomp
        raise SeccompUnavailable(f"libseccomp cannot be loaded ({exc}); apt-get install libseccomp2") from None
    deny = pyseccomp.ERRNO(errno.EPERM)
    filt = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    filt.set_attr(pyseccomp.Attr.CTL_NNP, 1)
    # syscalls of another ABI (i386's int 0x80 from a 64-bit process) bypass a native-only rule
    # table: the default for a foreign architecture kills the process, which no Python code meets
    for names in DENIED.values():
        for name in names:
            number = _syscall_number(name)
            if number is not None:
                filt.add_rule(deny, number)
    clone = _syscall_number("clone")
    for flag in NAMESPACE_FLAGS.values():
        filt.add_rule(deny, clone, pyseccomp.Arg(0, pyseccomp.MASKED_EQ, flag, flag))
    clone3 = _syscall_number("clone3")
    if clone3 is not None:
        filt.add_rule(pyseccomp.ERRNO(errno.ENOSYS), clone3)
    with tempfile.TemporaryFile() as out:
        filt.export_bpf(out)
        out.seek(0)
        return out.read()


_LOCK = threading.Lock()
_CACHE: dict[int, Path] = {}  # pid -> the filter file (a forked worker builds its own once)


def _private_dir() -> Path:
    """A folder only this user can write, checked the way ssh checks ~/.ssh: /tmp is shared."""
    folder = Path(tempfile.gettempdir()) / f"grader-seccomp-{os.geteuid()}"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise SeccompUnavailable(f"{folder} is not a private folder of this user; remove it")
    return folder


def filter_file() -> Path:
    """The compiled filter on disk, built once per process: bwrap reads it from a descriptor
    the launching shell opens, and a file is what outlives the call that built it."""
    with _LOCK:
        cached = _CACHE.get(os.getpid())
        if cached is not None and cached.exists():
            return cached
        bpf = build_bpf()
        path = _private_dir() / f"{hashlib.sha256(bpf).hexdigest()[:24]}.bpf"
        if not path.exists() or path.read_bytes() != bpf:
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(bpf)
            os.replace(tmp, path)
        _CACHE[os.getpid()] = path
        return path
