"""Arrays a student's code saved (a trained model, say), read without ever unpickling.

A `.npz` or `.npy` file is student data like any other: it is read with `allow_pickle=False`,
after its declared size is checked, and any problem comes back as a message the student can
act on (a pickle inside, not a numpy file, too large), never as an exception.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np

MAX_UNPACKED_BYTES = 200 * 2**20
PICKLE_HINT = ("save plain numeric arrays, e.g. np.savez(path, W1=W1, b1=b1), and names as strings, "
               "never Python objects, lists of arrays of different shapes or dtype=object")


def read_npz(data: bytes) -> dict[str, np.ndarray] | str:
    """The arrays in an .npz file, or why they cannot be read."""
    if data[:2] != b"PK":
        if data[:1] == b"\x80":
            return f"it is a Python pickle, not an .npz file: {PICKLE_HINT}"
        return "it is not an .npz file (np.savez writes a zip archive of arrays)"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > MAX_UNPACKED_BYTES:
                return f"it unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB"
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {}
            for key in npz.files:
                try:
                    arrays[key] = np.array(npz[key])
                except ValueError as exc:
                    if "pickle" in str(exc):
                        return f"its array {key!r} holds pickled Python objects (dtype=object): {PICKLE_HINT}"
                    raise
            return arrays
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the student's to fix
        return f"it is not a readable .npz file ({type(exc).__name__}: {exc})"
