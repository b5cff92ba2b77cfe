"""The raw-data wire format: only plain numeric arrays cross the process boundary."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from grader.execution import wire


def roundtrip(arrays: dict, header: dict | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    frame = wire.encode(header or {"k": 1}, arrays)
    magic, head_len, payload_len = wire._HEAD.unpack_from(frame)
    assert magic == wire.MAGIC
    start = wire._HEAD.size
    assert len(frame) == start + head_len + payload_len
    return wire.decode(frame[start:start + head_len], frame[start + head_len:])


def header_bytes(specs: object, header: object = None) -> bytes:
    return json.dumps({"h": header if header is not None else {}, "arrays": specs}).encode()


def spec(shape: list, nbytes: int, dtype: str = "<f8", offset: int = 0, name: str = "a") -> dict:
    return {"name": name, "dtype": dtype, "shape": shape, "offset": offset, "nbytes": nbytes}


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    np.array([[1.5, -2.25], [np.pi, 1e-300]], dtype=np.float64),
    np.arange(-5, 7, dtype=np.int64).reshape(3, 4),
    np.array([True, False, True]),
    np.array(3.25),  # 0-d
    np.array(7, dtype=np.int64),  # 0-d int
    np.zeros((0,), dtype=np.float64),  # empty
    np.zeros((3, 0, 2), dtype=np.int64),  # empty with a shape
    np.array([1, 2, 3], dtype=np.uint8),
    np.array([1.0, 2.0], dtype=np.float32),
], ids=lambda v: f"{v.dtype}-{v.shape}")
def test_round_trip_keeps_dtype_shape_and_values(value: np.ndarray) -> None:
    header, arrays = roundtrip({"x": value}, {"status": "ok", "n": 3})
    assert header == {"status": "ok", "n": 3}
    got = arrays["x"]
    assert type(got) is np.ndarray
    assert got.dtype == value.dtype
    assert got.shape == value.shape
    assert np.array_equal(got, value)


def test_round_trip_of_several_arrays_keeps_each_one_apart() -> None:
    _, arrays = roundtrip({"a": np.arange(3.0), "b": np.array([[1, 2]], dtype=np.int64), "c": np.array(True)})
    assert sorted(arrays) == ["a", "b", "c"]
    assert arrays["a"].tolist() == [0.0, 1.0, 2.0]
    assert arrays["b"].tolist() == [[1, 2]]
    assert arrays["c"].item() is True


def test_python_scalars_and_lists_are_sent_as_arrays() -> None:
    _, arrays = roundtrip({"f": 2.5, "i": 3, "l": [[1.0, 2.0]]})
    assert arrays["f"].dtype == np.float64 and arrays["f"].shape == () and arrays["f"] == 2.5
    assert arrays["i"].dtype.kind == "i" and arrays["i"] == 3
    assert arrays["l"].shape == (1, 2)


def test_big_endian_data_arrives_in_native_byte_order() -> None:
    value = np.array([1.0, -2.5, 1e10], dtype=">f8")
    _, arrays = roundtrip({"x": value})
    got = arrays["x"]
    assert got.dtype.isnative
    assert got.dtype == np.float64
    assert got.tolist() == [1.0, -2.5, 1e10]
    # the comparison above would be meaningless if the frame had not carried big-endian bytes
    frame = wire.encode({}, {"x": value})
    assert value.tobytes() in frame and np.array([1.0, -2.5, 1e10]).tobytes() not in frame


def test_non_contiguous_and_fortran_arrays_are_sent_in_logical_order() -> None:
    base = np.arange(24.0).reshape(4, 6)
    _, arrays = roundtrip({"t": base.T, "s": base[::2, 1::3], "f": np.asfortranarray(base)})
    assert np.array_equal(arrays["t"], base.T)
    assert np.array_equal(arrays["s"], base[::2, 1::3])
    assert np.array_equal(arrays["f"], base)


# --- what encode refuses -------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    np.array([1, "a"], dtype=object),
    np.array([object()]),
    np.array(["abc", "de"]),
    np.array([b"abc"]),
    "a string",
    np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]),  # structured
    np.zeros(2, dtype="V8"),  # void
    np.array([1 + 2j]),  # complex
    np.array(["2024-01-01"], dtype="datetime64[D]"),
    {"nested": 1},
], ids=["object-mixed", "object", "str", "bytes", "python-str", "structured", "void", "complex", "datetime", "dict"])
def test_encode_refuses_anything_but_plain_numbers(value: object) -> None:
    with pytest.raises(wire.WireError, match="'x'"):
        wire.encode({}, {"x": value})


def test_encode_accepts_the_numeric_control_case() -> None:
    assert wire.encode({}, {"x": np.array([1.0])}).startswith(wire.MAGIC)


class Liar(np.ndarray):
    """A student's array that claims to equal anything."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = None


def test_ndarray_subclass_with_lying_eq_arrives_as_plain_ndarray() -> None:
    liar = np.array([1.0, 2.0, 3.0]).view(Liar)
    assert liar == np.array([9.0, 9.0, 9.0])  # the lie works before the trip
    _, arrays = roundtrip({"x": liar})
    got = arrays["x"]
    assert type(got) is np.ndarray
    assert not np.array_equal(got, np.array([9.0, 9.0, 9.0]))
    assert (got == np.array([9.0, 9.0, 9.0])).tolist() == [False, False, False]
    assert got.tolist() == [1.0, 2.0, 3.0]


# --- what decode refuses -------------------------------------------------------------------


def test_decode_accepts_a_well_formed_hand_built_frame() -> None:
    payload = np.array([1.0, 2.0]).astype("<f8").tobytes()
    header, arrays = wire.decode(header_bytes([spec([2], 16)], {"status": "ok"}), payload)
    assert header == {"status": "ok"}
    assert arrays["a"].tolist() == [1.0, 2.0]


def test_decode_refuses_a_huge_declared_shape_without_allocating() -> None:
    # 8 TB claimed: honest nbytes, but the data is not there
    with pytest.raises(wire.WireError, match="outside the frame"):
        wire.decode(header_bytes([spec([10**12], 8 * 10**12)]), b"\0" * 8)
    # a shape that does not match the bytes it says it has
    with pytest.raises(wire.WireError, match="does not match"):
        wire.decode(header_bytes([spec([10**12], 8)]), b"\0" * 8)


@pytest.mark.parametrize(("shape", "nbytes"), [([3], 16), ([2, 2], 16), ([-1], 8), ([-2, -1], 16), ([], 16)])
def test_decode_refuses_a_shape_that_does_not_match_the_bytes(shape: list, nbytes: int) -> None:
    with pytest.raises(wire.WireError, match="does not match"):
        wire.decode(header_bytes([spec(shape, nbytes)]), b"\0" * 16)


@pytest.mark.parametrize(("offset", "nbytes", "size"), [(0, 16, 8), (8, 16, 16), (-8, 8, 16), (17, 0, 16)])
def test_decode_refuses_data_outside_the_payload(offset: int, nbytes: int, size: int) -> None:
    with pytest.raises(wire.WireError, match="outside the frame"):
        wire.decode(header_bytes([spec([nbytes // 8], nbytes, offset=offset)]), b"\0" * size)


def test_decode_reads_data_at_an_offset_inside_the_payload() -> None:
    payload = b"\xff" * 8 + np.array([4.0]).tobytes()
    _, arrays = wire.decode(header_bytes([spec([1], 8, offset=8)]), payload)
    assert arrays["a"].tolist() == [4.0]


@pytest.mark.parametrize("dtype", ["|O", "<U1", "|S8", "|V8", "<c16", "<f2", "<M8[D]", "float64", "bogus"])
def test_decode_refuses_unknown_or_forbidden_dtypes(dtype: str) -> None:
    with pytest.raises(wire.WireError, match="not allowed"):
        wire.decode(header_bytes([spec([1], 8, dtype=dtype)]), b"\0" * 8)


@pytest.mark.parametrize("head", [
    b"", b"not json", b"\xff\xfe\x00", b"[]", b"{}", b'{"h": {}}', b'{"arrays": []}', b"null", b'"text"',
])
def test_decode_refuses_a_garbage_header(head: bytes) -> None:
    with pytest.raises(wire.WireError, match="unreadable frame header"):
        wire.decode(head, b"")


@pytest.mark.parametrize("bad_spec", [
    {"dtype": "<f8", "shape": [1], "offset": 0, "nbytes": 8},  # no name
    {"name": "a", "dtype": "<f8", "shape": 1, "offset": 0, "nbytes": 8},  # shape not a list
    {"name": "a", "dtype": "<f8", "shape": ["x"], "offset": 0, "nbytes": 8},
    {"name": "a", "dtype": "<f8", "shape": [1], "offset": "zero", "nbytes": 8},
    "not a dict",
])
def test_decode_refuses_a_malformed_array_description(bad_spec: object) -> None:
    with pytest.raises(wire.WireError, match="malformed"):
        wire.decode(header_bytes([bad_spec]), b"\0" * 8)


@pytest.mark.parametrize("head", [
    header_bytes([spec([0, 10**20], 0)]),  # zero bytes, but a dimension numpy cannot represent
    header_bytes([spec([0, 2**62], 0)]),  # zero bytes, but 'array is too big'
    b'{"h": {}, "arrays": [{"name": "a", "dtype": "<f8", "shape": [Infinity], "offset": 0, "nbytes": 8}]}',
    header_bytes(5),  # 'arrays' is not a list
], ids=["dim-too-large", "array-too-big", "infinite-dim", "arrays-not-list"])
def test_decode_refuses_every_malformed_frame_with_wire_error(head: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.decode(head, b"\0" * 8)


# --- FrameReader on a pipe -------------------------------------------------------------------


@pytest.fixture
def pipe():
    r, w = os.pipe()
    yield r, w
    for fd in (r, w):
        try:
            os.close(fd)
        except OSError:
            pass


def test_frame_reader_reads_frames_written_to_a_pipe(pipe) -> None:
    r, w = pipe
    wire.write_frame(w, {"n": 1}, {"x": np.arange(4.0)})
    wire.write_frame(w, {"n": 2})
    reader = wire.FrameReader(r, max_bytes=1 << 20)
    header, arrays = reader.read(deadline=time.monotonic() + 5)
    assert header == {"n": 1} and arrays["x"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert reader.read(deadline=time.monotonic() + 5) == ({"n": 2}, {})


def test_frame_reader_refuses_a_frame_over_its_size_cap(pipe) -> None:
    r, w = pipe
    wire.write_frame(w, {}, {"x": np.zeros(1000)})  # 8000 bytes of payload
    with pytest.raises(wire.WireError, match="exceeds"):
        wire.FrameReader(r, max_bytes=4000).read(deadline=time.monotonic() + 5)


def test_frame_reader_refuses_a_forged_length_before_reading_it(pipe) -> None:
    r, w = pipe
    os.write(w, wire._HEAD.pack(wire.MAGIC, 10, 2**60))  # claims an exabyte; only the header is there
    with pytest.raises(wire.WireError, match="exceeds"):
        wire.FrameReader(r, max_bytes=1 << 20).read(deadline=time.monotonic() + 5)


def test_frame_reader_refuses_a_foreign_stream(pipe) -> None:
    r, w = pipe
    os.write(w, b"HTTP/1.1 200 OK\r\n\r\n")
    with pytest.raises(wire.WireError, match="not a grader frame"):
        wire.FrameReader(r, max_bytes=1 << 20).read(deadline=time.monotonic() + 5)


def test_frame_reader_raises_eof_when_the_stream_closes_mid_frame(pipe) -> None:
    r, w = pipe
    frame = wire.encode({"n": 1}, {"x": np.arange(10.0)})
    os.write(w, frame[:-5])
    os.close(w)
    with pytest.raises(EOFError, match="stream closed"):
        wire.FrameReader(r, max_bytes=1 << 20).read(deadline=time.monotonic() + 5)


def test_frame_reader_raises_eof_on_a_closed_empty_stream(pipe) -> None:
    r, w = pipe
    os.close(w)
    with pytest.raises(EOFError):
        wire.FrameReader(r, max_bytes=1 << 20).read()


def test_frame_reader_gives_up_at_the_deadline(pipe) -> None:
    r, w = pipe
    frame = wire.encode({"n": 1}, {"x": np.arange(10.0)})
    os.write(w, frame[:20])  # a partial frame; the writer stays open and silent
    with pytest.raises(TimeoutError):
        wire.FrameReader(r, max_bytes=1 << 20).read(deadline=time.monotonic() + 0.2)


def test_frame_reader_with_a_passed_deadline_still_reads_nothing_more(pipe) -> None:
    r, w = pipe
    with pytest.raises(TimeoutError):
        wire.FrameReader(r, max_bytes=1 << 20).read(deadline=time.monotonic() - 1)
