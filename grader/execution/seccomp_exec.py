"""Load a compiled seccomp filter into this process, then exec a command under it.

Usage: python -I -S seccomp_exec.py FILTER.bpf -- COMMAND [ARG...]

The `process` level has no bubblewrap to load the filter (`bwrap --seccomp`), so the student
process starts through this instead: the filter survives exec and binds everything the command
starts. It runs before any student code, so it imports only the stdlib (no grader package, no
libseccomp: the filter arrives already compiled).
"""

from __future__ import annotations

import ctypes
import os
import sys

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_INSTRUCTION_BYTES = 8  # struct sock_filter: u16 code, u8 jt, u8 jf, u32 k


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load(bpf: bytes) -> None:
    """Install `bpf` on this process (and every process it starts); raises OSError if refused."""
    if not bpf or len(bpf) % _INSTRUCTION_BYTES:
        raise ValueError(f"a seccomp filter of {len(bpf)} bytes is not a whole number of instructions")
    libc = ctypes.CDLL(None, use_errno=True)
    program = ctypes.create_string_buffer(bpf, len(bpf))
    fprog = _SockFprog(len(bpf) // _INSTRUCTION_BYTES, ctypes.cast(program, ctypes.c_void_p))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: seccomp_exec.py FILTER.bpf -- COMMAND [ARG...]")
    with open(argv[0], "rb") as f:
        load(f.read())
    os.execvp(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
