"""A batch that must stop before it is done: Ctrl-C, SIGTERM, or a disk that fills up.

Every submission is committed to the gradebook the moment its files are written (see
grader/pipeline.py), so stopping loses at most the submissions still being graded, which the
rerun grades. What this module adds is a stop that is prompt, leaves no worker behind, and says
so: SIGTERM is turned into the same orderly stop as Ctrl-C, and a full disk into a message that
says what to do instead of a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import signal
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM reached the grader; `signum` says which (the exit code is 128 + signum)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class BatchStopped(Exception):
    """The batch could not write its results (a full disk); what is committed stays, a rerun resumes."""


def _raise(signum: int, frame: object) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise `Interrupted` in the main thread, so that the batch
    unwinds (workers stopped, the gradebook closed) instead of dying with its workers orphaned."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def disk_full(exc: BaseException) -> bool:
    """Whether writing failed because the disk (or the user's quota) is full."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, sqlite3.OperationalError):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    return False


def disk_full_message(out: Path, exc: BaseException, saved: int) -> str:
    return (f"stopped: the disk holding {out} is full ({exc}). {saved} submission(s) graded in this run are "
            "saved in the gradebook; nothing written before is lost. Free some space (or choose another --out) "
            "and run the same command again: it grades only what is not saved yet.")


def interrupted_message(signum: int, saved: int) -> str:
    name = signal.Signals(signum).name
    return (f"stopped by {name}: {saved} submission(s) graded in this run are saved in the gradebook; the ones "
            "still being graded are not. Run the same command again to grade the rest; nothing is graded twice.")
