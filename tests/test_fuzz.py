"""Property-based fuzzing of every parser of untrusted input: the grader never crashes.

Each target (see `fuzz_targets.py`) runs a bounded, derandomized number of generated inputs
(profile `grader-ci`; `GRADER_FUZZ_EXAMPLES` raises the count), so CI is deterministic.
`benchmarks/bench_fuzz.py` runs thousands per target.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from . import fuzz_targets
from .fuzz_targets import CI_PROFILE, TARGETS, Target


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_the_parser_never_crashes(target: Target) -> None:
    @settings(settings.get_profile(CI_PROFILE))
    @given(target.strategy)
    def run(value: object) -> None:
        target.check(value)

    run()


# --- crashes the fuzzer found, each kept as its smallest input ------------------------------------


@pytest.mark.parametrize("odd", [np.array([""] * 10), np.zeros(10, dtype=[("a", "<f8"), ("b", "<i4")]),
                                 np.zeros(10, dtype=np.complex128), np.zeros(10, dtype="datetime64[s]")],
                         ids=["text", "record", "complex", "dates"])
def test_a_model_array_that_is_not_real_numbers_is_refused_with_a_reason(odd: np.ndarray) -> None:
    checks = fuzz_targets._hw4_checks()
    good = {"W1": np.zeros((784, 2)), "b1": np.zeros(2), "W2": np.zeros((2, 10)), "b2": np.zeros(10)}
    assert isinstance(checks._standard_params(good), dict)  # control: the same model with real numbers
    reason = checks._standard_params({**good, "b2": odd})
    assert isinstance(reason, str) and "b2 is " + str(odd.dtype) in reason


def test_a_notebook_nested_too_deeply_is_invalid_not_a_grader_crash(tmp_path) -> None:
    from grader.execution.notebook import read_notebook

    deep = tmp_path / "deep.ipynb"
    deep.write_bytes(b"[" * 100_000 + b"]" * 100_000)  # json recurses once per level
    with pytest.raises(ValueError, match="deep.ipynb is JSON nested too deeply"):
        read_notebook(deep)
    shallow = tmp_path / "shallow.ipynb"
    shallow.write_bytes(b"[" * 10 + b"]" * 10)  # control: the same shape, shallow, is refused for what it is
    with pytest.raises(ValueError, match="not a notebook"):
        read_notebook(shallow)


def test_an_encrypted_zip_is_refused_with_a_message(tmp_path) -> None:
    import zipfile

    from grader.execution.workspace import SubmissionError, prepare

    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as zf:
        zf.writestr("cattern/neural_net.py", "x = 1\n")
    assert prepare(plain, tmp_path / "a", ("cattern/neural_net.py",)).find("cattern/neural_net.py")  # control
    locked = tmp_path / "locked.zip"
    locked.write_bytes(fuzz_targets._flag_encrypted(plain.read_bytes()))  # what a password tool marks
    with pytest.raises(SubmissionError, match="neural_net.py is encrypted; zip the files again without a password"):
        prepare(locked, tmp_path / "b", ("cattern/neural_net.py",))


def test_a_frame_header_nested_too_deeply_is_a_wire_error() -> None:
    from grader.execution import wire

    with pytest.raises(wire.WireError, match="nested too deeply"):
        wire.decode(b"[" * 100_000 + b"]" * 100_000, b"")
    with pytest.raises(wire.WireError, match="wrong structure"):  # control: shallow, refused for its structure
        wire.decode(b'{"h": [[[]]], "arrays": []}', b"")


def test_a_duplicate_zip_entry_is_noted_and_the_last_copy_used(tmp_path) -> None:
    import warnings
    import zipfile

    from grader.execution.workspace import prepare

    archive = tmp_path / "dup.zip"
    with warnings.catch_warnings(), zipfile.ZipFile(archive, "w") as zf:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate it is asked to write
        zf.writestr("answers.md", "first\n")
        zf.writestr("cattern/neural_net.py", "x = 1\n")
        zf.writestr("answers.md", "second\n")
    ws = prepare(archive, tmp_path / "w", ("cattern/neural_net.py",))
    assert (ws.root / "answers.md").read_text() == "second\n"
    assert [n for n in ws.notes if "appears more than once" in n] == [
        "archive entry 'answers.md' appears more than once; the last copy was used"]
    assert not any("neural_net.py" in n for n in ws.notes)  # control: a single entry is not noted


def _utf8_flagged(data: bytes, header: bytes, name_at: int) -> bytes:
    """Mark the entry's name as UTF-8 (flag 0x800) in both headers and make the name in one of them invalid UTF-8."""
    raw = bytearray(data)
    for signature, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.find(signature)
        raw[at + flags + 1] |= 0x08
    at = raw.find(header)
    raw[at + name_at:at + name_at + 2] = b"\xff\xfe"
    return bytes(raw)


@pytest.mark.parametrize("where", ["central directory", "local header"])
def test_a_zip_entry_name_that_is_not_the_utf8_it_claims_is_refused_with_a_message(tmp_path, where: str) -> None:
    import zipfile

    from grader.execution.workspace import SubmissionError, prepare

    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as zf:
        zf.writestr("ab", "x")
    assert prepare(plain, tmp_path / "ok", ()).find("ab")  # control: the same archive, name intact
    header, name_at = (b"PK\x01\x02", 46) if where == "central directory" else (b"PK\x03\x04", 30)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(_utf8_flagged(plain.read_bytes(), header, name_at))
    with pytest.raises(SubmissionError, match="broken.zip"):
        prepare(broken, tmp_path / "w", ())


def test_a_rubric_nested_too_deeply_is_a_rubric_error_not_a_crash(tmp_path) -> None:
    from grader.judgement import rubric as rubric_mod

    folder = tmp_path / "deep"
    folder.mkdir()
    (folder / "rubric.toml").write_text("x = " + "[" * 50_000 + "]" * 50_000)  # tomllib recurses once per level
    with pytest.raises(rubric_mod.RubricError, match="nested too deeply"):
        rubric_mod.load(str(folder))
    (folder / "rubric.toml").write_text("x = " + "[" * 10 + "]" * 10)  # control: shallow, refused for what it is
    with pytest.raises(rubric_mod.RubricError, match="no \\[\\[tasks\\]\\]"):
        rubric_mod.load(str(folder))
