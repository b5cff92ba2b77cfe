"""The raw-data protocol between the grader and the student process.

A frame is a JSON header plus raw array bytes. Arrays travel as (dtype, shape, bytes) and
are rebuilt on the receiving side with `np.frombuffer`, so nothing is ever unpickled and
whatever the student returns arrives as a plain ndarray of an allow-listed numeric dtype:
an ndarray subclass with a lying `__eq__` cannot survive the trip.

This module runs on both sides of the boundary, so it imports only the stdlib and numpy.
"""

from __future__ import annotations

import json
import math
import os
import select
import struct
import time
from typing import Any

import numpy as np

MAGIC = b"GRW1"
_HEAD = struct.Struct(">4sIQ")  # magic, header length, payload length
MAX_HEADER = 1 << 20
MAX_DIM = 1 << 40  # no real array has a dimension this long; numpy could not even represent some
# dtype strings a frame may carry; anything else (object, void, strings) is refused
ALLOWED_DTYPES = frozenset(
    f"{order}{kind}{size}"
    for order in "<>|"
    for kind, sizes in (("f", (4, 8)), ("i", (1, 2, 4, 8)), ("u", (1, 2, 4, 8)), ("b", (1,)))
    for size in sizes
)


class WireError(Exception):
    """A frame that is malformed, too large or carries a forbidden type."""


def encode(header: dict[str, Any], arrays: dict[str, Any] | None = None) -> bytes:
    """Serialise a header and named arrays. Refuses anything that is not plain numeric data."""
    specs = []
    chunks = []
    offset = 0
    for name, value in (arrays or {}).items():
        arr = np.asarray(value)
        if arr.dtype.hasobject or arr.dtype.str not in ALLOWED_DTYPES:
            raise WireError(f"{name!r} has type {arr.dtype} ({type(value).__name__}); expected numbers")
        raw = arr.tobytes(order="C")
        specs.append({"name": name, "dtype": arr.dtype.str, "shape": list(arr.shape),
                      "offset": offset, "nbytes": len(raw)})
        chunks.append(raw)
        offset += len(raw)
    head = json.dumps({"h": header, "arrays": specs}).encode()
    return _HEAD.pack(MAGIC, len(head), offset) + head + b"".join(chunks)


def decode(header_bytes: bytes, payload: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Rebuild a frame's header and arrays, validating every declared size against the bytes."""
    try:
        meta = json.loads(header_bytes)
        header = meta["h"]
        specs = meta["arrays"]
    except (ValueError, KeyError, TypeError) as exc:
        raise WireError(f"unreadable frame header: {exc}") from None
    except RecursionError:  # json recurses once per level of nesting
        raise WireError("unreadable frame header: nested too deeply") from None
    if not isinstance(header, dict) or not isinstance(specs, list):
        raise WireError("unreadable frame header: wrong structure")
    arrays: dict[str, np.ndarray] = {}
    for spec in specs:
        try:
            name, dtype_str, shape = str(spec["name"]), str(spec["dtype"]), tuple(int(s) for s in spec["shape"])
            offset, nbytes = int(spec["offset"]), int(spec["nbytes"])
        except (KeyError, TypeError, ValueError, OverflowError):
            raise WireError("malformed array description") from None
        if len(shape) > 32 or any(s > MAX_DIM for s in shape):
            raise WireError(f"{name!r}: implausible shape {shape}")
        if dtype_str not in ALLOWED_DTYPES:
            raise WireError(f"{name!r}: dtype {dtype_str} is not allowed")
        dtype = np.dtype(dtype_str)
        if any(s < 0 for s in shape) or math.prod(shape) * dtype.itemsize != nbytes:
            raise WireError(f"{name!r}: shape {shape} does not match {nbytes} bytes")
        if offset < 0 or offset + nbytes > len(payload):
            raise WireError(f"{name!r}: data outside the frame")
        arr = np.frombuffer(payload, dtype=dtype, count=math.prod(shape), offset=offset).reshape(shape)
        arrays[name] = np.array(arr, dtype=dtype.newbyteorder("="), copy=True)
    return header, arrays


def write_frame(fd: int, header: dict[str, Any], arrays: dict[str, Any] | None = None) -> None:
    data = memoryview(encode(header, arrays))
    while data:
        written = os.write(fd, data)
        data = data[written:]


class FrameReader:
    """Reads one frame from a file descriptor with a deadline and a size cap."""

    def __init__(self, fd: int, max_bytes: int) -> None:
        self.fd = fd
        self.max_bytes = max_bytes

    def _read_exact(self, n: int, deadline: float | None) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no complete frame before the deadline")
                ready, _, _ = select.select([self.fd], [], [], remaining)
                if not ready:
                    continue
            chunk = os.read(self.fd, min(n - len(buf), 1 << 20))
            if not chunk:
                raise EOFError(f"stream closed after {len(buf)} of {n} bytes")
            buf += chunk
        return bytes(buf)

    def read(self, deadline: float | None = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        magic, head_len, payload_len = _HEAD.unpack(self._read_exact(_HEAD.size, deadline))
        if magic != MAGIC:
            raise WireError("not a grader frame")
        if head_len > MAX_HEADER or head_len + payload_len > self.max_bytes:
            raise WireError(f"frame of {head_len + payload_len} bytes exceeds the {self.max_bytes}-byte cap")
        header = self._read_exact(head_len, deadline)
        payload = self._read_exact(payload_len, deadline)
        return decode(header, payload)
