"""Generated inputs and the never-crash property for every parser of untrusted input.

Each `Target` pairs a Hypothesis strategy (well-formed inputs, near misses, mutated bytes and
plain junk) with a check that feeds one input to the parser and accepts exactly two outcomes:
a result, or the parser's documented error. Anything else (another exception, a file written
outside the workspace, an array of a type the grader does not expect) is a crash.

`tests/test_fuzz.py` runs every target a bounded, derandomized number of times in CI;
`benchmarks/bench_fuzz.py` runs thousands of inputs per target and prints the figures.

| target    | parser                                             | documented error         |
|-----------|----------------------------------------------------|--------------------------|
| answers   | judgement.answers.parse / parse_number             | NumberError (numbers)    |
| notebook  | execution.notebook.read_notebook, the run summary,  | ValueError (reading)     |
|           | judgement.notebook_report.notebook_report           |                          |
| zip       | execution.workspace.prepare                        | SubmissionError          |
| npz       | rubrics/hw4/checks.py _load_npz, _standard_params  | a reason string          |
| wire      | execution.wire FrameReader/decode, zygote _split,  | WireError, EOFError      |
|           | zygote _sanitise                                   |                          |
| rubric    | judgement.rubric.load (judgement.sections tables)  | RubricError              |
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import stat
import struct
import sys
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.execution import wire, workspace, zygote
from grader.execution.notebook import NotebookRun, _summary, read_notebook
from grader.judgement import answers
from grader.judgement.notebook_report import notebook_report

PROJECT = Path(__file__).resolve().parents[1]
CI_PROFILE = "grader-ci"
settings.register_profile(
    CI_PROFILE, max_examples=int(os.environ.get("GRADER_FUZZ_EXAMPLES", "60")), deadline=None, derandomize=True,
    database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


@dataclass(frozen=True)
class Target:
    name: str
    parser: str
    strategy: st.SearchStrategy[Any]
    check: Callable[[Any], None]


def _mutated(base: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """Well-formed bytes with a few bytes overwritten, a slice cut out, or the tail dropped."""

    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        data = bytearray(draw(base))
        for _ in range(draw(st.integers(0, 6))):
            if not data:
                break
            kind = draw(st.sampled_from(["set", "cut", "truncate", "insert"]))
            at = draw(st.integers(0, len(data) - 1))
            if kind == "set":
                data[at] = draw(st.integers(0, 255))
            elif kind == "cut":
                del data[at:at + draw(st.integers(1, 64))]
            elif kind == "truncate":
                del data[at:]
            else:
                data[at:at] = draw(st.binary(min_size=1, max_size=16))
        return bytes(data)

    return mutate()


_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=20))
json_values = st.recursive(_json_leaf, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=16)
_deep_json = st.integers(1, 100_000).map(lambda n: ("[" * n + "]" * n).encode())

# --- answers.md -----------------------------------------------------------------------------------

_numbers = st.one_of(
    st.integers(-10**40, 10**40).map(str), st.floats().map(repr), st.fractions().map(str),
    st.sampled_from(["-0.2", "\u22120.20", "-1/5", "\\frac{-1}{5}", "\\dfrac{1}{0}", "557,057", "31744 + 524800 + 513",
                     "2^10", "10**64**64", "9**9**9", "((10**64)**64)**64", "1e308*10", "1/0", "0**-1", "$-3$",
                     "(1", "1_000", "0x1F", "1j", "True", "__import__('os')", "[1]", "'1'", "1 # params",
                     "(30+1)*1024 + 10 = 559059", "1.", ".5", "1e-400", "- - -1", "2**0.5"]))
_expressions = st.recursive(_numbers, lambda inner: st.tuples(
    inner, st.sampled_from(["+", "-", "*", "/", "**", "^", "\u00d7", "\u00f7", " \\cdot ", " \\times "]), inner
).map(lambda t: f"({t[0]}{t[1]}{t[2]})"), max_leaves=10)
_keys = st.sampled_from(["dz/dw0", "\u2202z/\u2202w\u2080", "A", "params", "- W1", "* b2", ""]) | st.text(max_size=70)
_lines = st.one_of(
    st.builds("{} {} {}".format, _keys, st.sampled_from(["=", ":", "= =", ":="]), _expressions | st.text(max_size=40)),
    st.builds("{} {}{}".format, st.sampled_from(["#", "##", "######", "#######", " ##"]),
              st.sampled_from(["T1", "T12", "t3", "Q2", "P3a", "T", "T1:", "HW4"])
              | st.from_regex(r"[A-Za-z]{1,4}\d{0,3}", fullmatch=True),
              st.text(max_size=20)),
    st.text(max_size=80),
    st.integers(900, 5000).map(lambda n: "dz/dw0 = " + "9" * n),
)
answers_texts = st.one_of(st.lists(_lines, max_size=30).map("\n".join), st.text(max_size=500),
                          st.binary(max_size=300).map(lambda b: b.decode("utf-8", "replace")))
_TEMPLATE = (PROJECT / "reference/hw4/starter/answers.md").read_text()


def check_answers(text: str) -> None:
    for doc in (answers.parse(text), answers.parse(text, ["T1", "Q2", "P3A"])):
        assert isinstance(doc, answers.AnswersDoc)
        for section in doc.sections.values():
            assert isinstance(section.text, str)
            for raw in section.values.values():
                _number(raw)
    assert isinstance(answers.without_template(text, _TEMPLATE), str)
    for line in text.splitlines()[:40]:  # every line as a value, too
        _number(line)


def _number(raw: str) -> None:
    try:
        value = answers.parse_number(raw)
    except answers.NumberError as exc:
        assert str(exc)  # the reason is shown to the student
        return
    assert isinstance(value, Fraction)


# --- notebooks ------------------------------------------------------------------------------------

_png = st.binary(max_size=64).map(lambda b: __import__("base64").b64encode(b"\x89PNG\r\n\x1a\n" + b).decode())
_outputs = st.fixed_dictionaries(
    {"output_type": st.sampled_from(["stream", "execute_result", "display_data", "error", "weird"]) | json_values},
    optional={"name": st.sampled_from(["stdout", "stderr"]) | json_values,
              "text": st.text(max_size=50) | st.lists(st.text(max_size=20), max_size=3) | json_values,
              "data": st.dictionaries(st.sampled_from(["text/plain", "image/png", "text/html"]),
                                      st.text(max_size=30) | _png | json_values, max_size=3) | json_values,
              "traceback": st.lists(st.text(max_size=20), max_size=3) | json_values,
              "ename": json_values, "evalue": json_values, "metadata": json_values,
              "execution_count": st.none() | st.integers(-3, 10)})
_cells = st.fixed_dictionaries(
    {"cell_type": st.sampled_from(["code", "markdown", "raw"]) | json_values,
     "source": st.text(max_size=60) | st.lists(st.text(max_size=20), max_size=3) | json_values},
    optional={"outputs": st.lists(_outputs | json_values, max_size=4) | json_values,
              "metadata": st.dictionaries(st.sampled_from(["grader", "execution", "tags"]), json_values, max_size=2)
              | json_values,
              "execution_count": st.none() | st.integers(-3, 10) | json_values,
              "id": st.text(max_size=10) | json_values, "attachments": json_values})
_notebooks = st.fixed_dictionaries(
    {"cells": st.lists(_cells | json_values, max_size=5) | json_values},
    optional={"nbformat": st.sampled_from([4, 3, 2, 1, 5, "4"]) | json_values,
              "nbformat_minor": st.integers(-1, 10) | json_values,
              "metadata": st.fixed_dictionaries({}, optional={"kernelspec": json_values, "language_info": json_values})
              | json_values,
              "worksheets": st.lists(st.fixed_dictionaries({"cells": st.lists(_cells, max_size=3)}), max_size=2)
              | json_values})
_SAMPLE_NOTEBOOK = (PROJECT / "reference/hw4/starter/Simple_Neural_Network_Lab.ipynb").read_bytes()
notebook_files = st.one_of(
    _notebooks.map(lambda nb: json.dumps(nb).encode()),
    _mutated(_notebooks.map(lambda nb: json.dumps(nb).encode())),
    _mutated(st.just(_SAMPLE_NOTEBOOK[:4000] + _SAMPLE_NOTEBOOK[-200:])),
    json_values.map(lambda v: json.dumps(v).encode()), _deep_json, st.binary(max_size=200),
)


def check_notebook(data: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-nb-") as tmp:
        path = Path(tmp) / "student.ipynb"
        path.write_bytes(data)
        out = Path(tmp) / "out"
        out.mkdir()
        try:
            nb, notes = read_notebook(path)
        except ValueError as exc:
            assert "student.ipynb" in str(exc)  # the message names the file
            return
        # what the report makes of it, whatever the run's outcome (nbclient may hand back the
        # notebook unchanged when the kernel never started)
        for status in ("ok", "error", "timeout", "dead"):
            run = _summary(nb, status, "message", None, len(nb.cells), out, time.monotonic(), notes)
            assert isinstance(run, NotebookRun)
            report, artifacts = notebook_report(run)
            assert report is not None and all(isinstance(v, bytes) for v in artifacts.values())


# --- zips -----------------------------------------------------------------------------------------

_names = st.one_of(
    st.sampled_from(["cattern/neural_net.py", "answers.md", "hw4/cattern/neural_net.py", "../evil.py", "../../x",
                     "/abs.py", "C:/x.py", "C:\\x.py", "a\\..\\..\\b.py", "./a.py", "a/./b", "", ".", "..", "...",
                     "__MACOSX/._x", "a/.DS_Store", "x.pyc", "dir/", "a/", "a", "a/b", "\u00e9/\u00fc.py", "a" * 300,
                     "/".join(["d"] * 60) + "/f", "con", "a\x00b.py", "sub/../../up.py", "//double.py"]),
    st.text(min_size=1, max_size=30))
_contents = st.one_of(st.binary(max_size=300), st.integers(0, 3_000_000).map(lambda n: b"\0" * n))
_entries = st.tuples(_names, _contents, st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                                                         zipfile.ZIP_LZMA]),
                     st.sampled_from(["file", "file", "file", "dir", "symlink"]))


def _build_zip(entries: list[tuple[str, bytes, int, str]]) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are the point
        with zipfile.ZipFile(buf, "w") as zf:
            for name, content, compression, kind in entries:
                info = zipfile.ZipInfo(name.rstrip("/") + "/" if kind == "dir" else name)
                info.compress_type = compression
                if kind == "symlink":
                    info.external_attr = (stat.S_IFLNK | 0o777) << 16
                    content = b"../../../../etc/passwd"
                try:
                    zf.writestr(info, b"" if kind == "dir" else content)
                except (ValueError, OSError):
                    pass
    return buf.getvalue()


def _flag_encrypted(data: bytes) -> bytes:
    """Set the 'encrypted' bit in every central directory entry (zipfile cannot write encrypted files)."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at >= 0 and at + 10 <= len(out):
        out[at + 8] |= 1
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


def _lie_about_sizes(data: bytes) -> bytes:
    """Declare every entry one byte long in the central directory (a bomb that lies)."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at >= 0 and at + 28 <= len(out):
        out[at + 24:at + 28] = struct.pack("<I", 1)
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


_zips = st.lists(_entries, max_size=6).map(_build_zip)
zip_files = st.one_of(_zips, _zips.map(_flag_encrypted), _zips.map(_lie_about_sizes), _mutated(_zips),
                      st.binary(max_size=200))
# small caps, so that generated inputs reach them cheaply
_ZIP_CAPS = {"MAX_FILES": 5, "MAX_TOTAL_BYTES": 1_000_000, "MAX_FILE_BYTES": 600_000}


def check_zip(data: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-zip-") as tmp:
        base = Path(tmp)
        archive = base / "sub.zip"
        archive.write_bytes(data)
        into = base / "a/b/c/work"  # an entry that climbs out would land in a, b or c
        into.parent.mkdir(parents=True)
        with mock.patch.multiple(workspace, **_ZIP_CAPS):
            try:
                ws = workspace.prepare(archive, into, ("cattern/neural_net.py",))
            except workspace.SubmissionError as exc:
                assert str(exc)
                ws = None
        if ws is not None:
            assert ws.root.resolve().is_relative_to((into / "files").resolve())
            assert all(isinstance(note, str) for note in ws.notes)
        found = sorted(str(p.relative_to(base)) for p in base.rglob("*"))
        outside = [p for p in found if p not in ("sub.zip", "a", "a/b", "a/b/c") and not p.startswith("a/b/c/work")]
        assert not outside, outside
        links = [p for p in into.rglob("*") if p.is_symlink()]
        assert not links, links
        total = sum(p.stat().st_size for p in into.rglob("*") if p.is_file())
        assert total <= _ZIP_CAPS["MAX_TOTAL_BYTES"]


# --- .npz models ----------------------------------------------------------------------------------

_dtypes = st.one_of(hnp.scalar_dtypes(), hnp.unicode_string_dtypes(max_len=4), hnp.byte_string_dtypes(max_len=4),
                    hnp.complex_number_dtypes(), hnp.datetime64_dtypes(), hnp.timedelta64_dtypes(),
                    st.just(np.dtype([("a", "<f8"), ("b", "<i4")])))
_arrays = hnp.arrays(dtype=_dtypes, shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))


@st.composite
def _models(draw: st.DrawFn) -> dict[str, np.ndarray]:
    """A 784-H-10 model, sometimes with a wrong shape, a wrong dtype or non-finite values."""
    h = draw(st.integers(1, 3))
    shapes = {"W1": (784, h), "b1": (h,), "W2": (h, 10), "b2": (10,)}
    floats = st.floats(allow_nan=True, allow_infinity=True, width=32)
    model = {k: draw(hnp.arrays(np.float32, shape, elements=floats)) for k, shape in shapes.items()}
    if draw(st.booleans()):
        victim = draw(st.sampled_from(sorted(model)))
        model[victim] = draw(_arrays)
    if draw(st.booleans()):
        del model[draw(st.sampled_from(sorted(model)))]
    return model


def _savez(arrays: dict[str, np.ndarray], pickled: bool = False) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays) if not pickled else np.savez(buf, allow_pickle=True, **arrays)
    return buf.getvalue()


def _npy_claiming(shape: tuple[int, ...], dtype: str, payload: bytes) -> bytes:
    """An .npz whose W1.npy header claims `shape` but carries only `payload`."""
    head = {"descr": dtype, "fortran_order": False, "shape": shape}
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, head)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("W1.npy", npy.getvalue() + payload)
    return buf.getvalue()


_names_npz = st.sampled_from(["W1", "b1", "W2", "b2"]) | st.text(alphabet="abcXYZ_09./", min_size=1, max_size=8)
npz_files = st.one_of(
    _models().map(_savez),
    st.dictionaries(_names_npz, _arrays, max_size=4).map(_savez),
    _mutated(_models().map(_savez)),
    st.builds(lambda v: _savez({"W1": np.array([v, {"x": 1}], dtype=object)}, pickled=True), st.integers()),
    st.builds(_npy_claiming, st.lists(st.integers(0, 10**12), max_size=3).map(tuple),
              st.sampled_from(["<f8", "<i4", "|O", "<U5", "|b1"]), st.binary(max_size=64)),
    st.binary(max_size=300),
)


def _hw4_checks() -> Any:
    spec = importlib.util.spec_from_file_location("fuzz_hw4_checks", PROJECT / "rubrics/hw4/checks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


_CHECKS: list[Any] = []


def check_npz(data: bytes) -> None:
    if not _CHECKS:
        _CHECKS.append(_hw4_checks())
    checks = _CHECKS[0]
    loaded = checks._load_npz(data)
    if isinstance(loaded, str):
        assert loaded
        return
    assert isinstance(loaded, dict) and all(isinstance(v, np.ndarray) and not v.dtype.hasobject
                                            for v in loaded.values())
    params = checks._standard_params(loaded)
    if isinstance(params, str):
        assert params
        return
    assert set(params) == set(checks.PARAMS)
    h = params["W1"].shape[1]
    assert {k: v.shape for k, v in params.items()} == {"W1": (784, h), "b1": (h,), "W2": (h, 10), "b2": (10,)}
    assert all(v.dtype == np.float64 and np.isfinite(v).all() for v in params.values())


# --- wire frames ----------------------------------------------------------------------------------

_dtype_strings = st.sampled_from(sorted(wire.ALLOWED_DTYPES) + ["|O", "<U3", "<c16", "|V8", "<M8[s]", "f8", ""])
_specs = st.fixed_dictionaries(
    {"name": st.text(max_size=8) | json_values, "dtype": _dtype_strings | json_values,
     "shape": st.lists(st.integers(-2, 2**41), max_size=4) | json_values,
     "offset": st.integers(-5, 300) | json_values, "nbytes": st.integers(-5, 300) | json_values})
_headers = st.dictionaries(st.sampled_from(["status", "error", "batch", "output", "detail", "duration"]),
                           json_values, max_size=4) | json_values


@st.composite
def _frames(draw: st.DrawFn) -> bytes:
    meta = draw(st.one_of(st.fixed_dictionaries({"h": _headers, "arrays": st.lists(_specs, max_size=3)}),
                          json_values))
    head = json.dumps(meta).encode() if draw(st.booleans()) else draw(st.binary(max_size=100) | _deep_json)
    payload = draw(st.binary(max_size=300))
    magic = draw(st.sampled_from([wire.MAGIC, wire.MAGIC, b"GRW0", b"\0\0\0\0"]))
    head_len = draw(st.sampled_from([len(head), len(head) + 1, max(len(head) - 1, 0), 2**32 - 1]))
    payload_len = draw(st.sampled_from([len(payload), len(payload) + 3, 0, 2**63]))
    return wire._HEAD.pack(magic, head_len, payload_len) + head + payload


_valid_frames = st.builds(
    lambda h, arrays: wire.encode(h, arrays),
    st.dictionaries(st.text(max_size=5), _json_leaf, max_size=3),
    st.dictionaries(st.text(max_size=5), hnp.arrays(st.sampled_from([np.float64, np.int32, np.uint8, np.bool_,
                                                                     np.dtype(">f4")]),
                                                    hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)),
                    max_size=3))
wire_frames = st.one_of(_frames(), _valid_frames, _mutated(_valid_frames), st.binary(max_size=64))


def check_wire(frame: bytes) -> None:
    with tempfile.TemporaryFile() as f:
        f.write(frame)
        f.seek(0)
        reader = wire.FrameReader(f.fileno(), max_bytes=1 << 20)
        try:
            header, arrays = reader.read(deadline=time.monotonic() + 30)
        except (wire.WireError, EOFError):
            pass
        else:
            _plain(header, arrays)
    try:  # the fork server's reading of a child's result
        header, arrays = wire.decode(*zygote._split(frame))
        _plain(header, arrays)
        clean = zygote._sanitise(header)
    except wire.WireError as exc:
        assert str(exc)
    else:
        assert clean["status"] in ("ok", "error")
        json.dumps(clean)  # plain data only


def _plain(header: Any, arrays: dict[str, Any]) -> None:
    assert isinstance(header, dict)
    for value in arrays.values():
        assert type(value) is np.ndarray and value.dtype.str in wire.ALLOWED_DTYPES and value.dtype.isnative


# --- rubric TOML ----------------------------------------------------------------------------------

_RUBRIC_TEXTS = [(PROJECT / rel / "rubric.toml").read_text() for rel in ("examples/vec", "rubrics/hw4", "rubrics/pa6",
                                                                         "rubrics/ha1")]
_toml_values = st.one_of(
    st.integers(-2**70, 2**70).map(str), st.floats().map(lambda f: repr(f).lower()),
    st.sampled_from(["nan", "-inf", "+inf", "true", "false", "1979-05-27T07:32:00Z", "07:32:00", "0x1F", "1_000",
                     '""', "''", '"../../etc/passwd"', '"/etc/passwd"', '"T1"', "[]", "{}", '["a", 1]', "[[1], [2]]",
                     '{ a = 1 }', '"""multi\nline"""', '"\u0000"', '"\ud800"', "-0.0", "1e400"]),
    st.text(max_size=20).map(json.dumps),
)
_deep_toml = st.tuples(st.integers(1, 50_000), st.sampled_from(["[", "{a="])).map(
    lambda t: "x = " + t[1] * t[0] + "1" + ("]" if t[1] == "[" else "}") * t[0])


@st.composite
def _edited_rubric(draw: st.DrawFn) -> str:
    """A real rubric.toml with lines dropped, duplicated, swapped or given another value."""
    lines = draw(st.sampled_from(_RUBRIC_TEXTS)).splitlines()
    for _ in range(draw(st.integers(1, 8))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["value", "drop", "duplicate", "move", "key"]))
        if kind == "value" and "=" in lines[at]:
            lines[at] = lines[at].split("=", 1)[0] + "= " + draw(_toml_values)
        elif kind == "drop":
            del lines[at]
        elif kind == "duplicate":
            lines.insert(at, lines[at])
        elif kind == "move":
            lines.insert(draw(st.integers(0, len(lines))), lines.pop(at))
        else:
            lines.insert(at, f"{draw(st.from_regex(r'[a-z_]{1,12}', fullmatch=True))} = {draw(_toml_values)}")
    return "\n".join(lines)


rubric_texts = st.one_of(
    _edited_rubric(),
    _mutated(st.sampled_from(_RUBRIC_TEXTS).map(str.encode)).map(lambda b: b.decode("utf-8", "replace")),
    _deep_toml,
    st.text(max_size=300),
)
_RUBRIC_DIR: list[Path] = []


def _rubric_folder() -> Path:
    """One copy of the example rubric's folder (checks, probes, solution, starter) per process:
    an edited rubric.toml that still names them can load all the way."""
    if not _RUBRIC_DIR:
        import shutil

        folder = Path(tempfile.mkdtemp(prefix="fuzz-rubric-")) / "vec"
        shutil.copytree(PROJECT / "examples/vec", folder)
        _RUBRIC_DIR.append(folder)
    return _RUBRIC_DIR[0]


def check_rubric(text: str) -> None:
    from grader.judgement import rubric as rubric_mod

    folder = _rubric_folder()
    (folder / "rubric.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        loaded = rubric_mod.load(str(folder))
    except rubric_mod.RubricError as exc:
        assert str(exc).strip(), "a RubricError must say what is wrong"
        return
    assert isinstance(loaded, rubric_mod.Rubric) and loaded.tasks


TARGETS = [
    Target("answers", "answers.md: judgement/answers.py parse, parse_number", answers_texts, check_answers),
    Target("notebook", "notebooks: execution/notebook.py read_notebook, the run summary, notebook_report",
           notebook_files, check_notebook),
    Target("zip", "zips: execution/workspace.py prepare", zip_files, check_zip),
    Target("npz", ".npz models: rubrics/hw4/checks.py _load_npz, _standard_params", npz_files, check_npz),
    Target("wire", "wire frames: execution/wire.py FrameReader/decode, zygote _split/_sanitise", wire_frames,
           check_wire),
    Target("rubric", "rubric TOML: judgement/rubric.py load (sections.py tables, strict checks)", rubric_texts,
           check_rubric),
]

