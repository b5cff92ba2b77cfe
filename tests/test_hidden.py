"""Hidden inputs: reproducible from the secret, unpredictable without it."""

from __future__ import annotations

import stat

import numpy as np
import pytest

from grader.judgement.hidden import HiddenInputs, load_or_create_secret

SECRET = b"0123456789abcdef-test-secret"
BASE = (SECRET, "hw4", "alice")


def draw(secret: bytes, assignment: str, submission: str, *labels: str) -> np.ndarray:
    return HiddenInputs(secret, assignment, submission).rng(*labels).standard_normal(8)


def test_same_secret_assignment_submission_and_labels_reproduce_the_inputs() -> None:
    a = draw(*BASE, "T5", "case1")
    b = draw(*BASE, "T5", "case1")
    assert np.array_equal(a, b)
    assert HiddenInputs(*BASE).seed("T5", "case1") == HiddenInputs(*BASE).seed("T5", "case1")


@pytest.mark.parametrize(("args", "labels"), [
    ((b"another-secret-0123456789", "hw4", "alice"), ("T5", "case1")),
    ((SECRET, "hw5", "alice"), ("T5", "case1")),
    ((SECRET, "hw4", "bob"), ("T5", "case1")),
    (BASE, ("T6", "case1")),
    (BASE, ("T5", "case2")),
    (BASE, ("T5",)),
    (BASE, ("T5", "case1", "x")),
], ids=["secret", "assignment", "submission", "task", "label", "fewer-labels", "more-labels"])
def test_changing_any_part_changes_the_inputs(args: tuple, labels: tuple) -> None:
    reference = draw(*BASE, "T5", "case1")
    assert not np.array_equal(draw(*args, *labels), reference)
    assert HiddenInputs(*args).seed(*labels) != HiddenInputs(*BASE).seed("T5", "case1")


def test_field_boundaries_cannot_be_shifted() -> None:
    # ("hw4", "alice") and ("hw4a", "lice") must not collide, nor ("T5", "1") and ("T51",)
    assert HiddenInputs(SECRET, "hw4", "alice").seed("T5") != HiddenInputs(SECRET, "hw4a", "lice").seed("T5")
    assert HiddenInputs(*BASE).seed("T5", "1") != HiddenInputs(*BASE).seed("T51")


def test_seed_is_a_64_bit_integer() -> None:
    seed = HiddenInputs(*BASE).seed("T5")
    assert isinstance(seed, int)
    assert 0 <= seed < 2**64


def test_secret_file_is_created_private_on_first_use_and_reused(tmp_path) -> None:
    path = tmp_path / "state" / "secret.key"
    first = load_or_create_secret(path)
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert load_or_create_secret(path) == first
    assert load_or_create_secret(path) == path.read_bytes().strip()


def test_two_new_secrets_differ(tmp_path) -> None:
    assert load_or_create_secret(tmp_path / "a") != load_or_create_secret(tmp_path / "b")


def test_an_existing_secret_file_is_used_as_it_is(tmp_path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(b"a-course-wide-secret-of-enough-length\n")
    assert load_or_create_secret(path) == b"a-course-wide-secret-of-enough-length"


@pytest.mark.parametrize("content", [b"", b"short", b"0123456789abcde", b"\n\n  0123456789  \n"])
def test_a_too_short_secret_file_is_refused(tmp_path, content: bytes) -> None:
    path = tmp_path / "secret"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="fewer than 16 bytes"):
        load_or_create_secret(path)
    assert path.read_bytes() == content  # left for the TA to look at, never overwritten


def test_a_sixteen_byte_secret_is_enough(tmp_path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(b"0123456789abcdef")
    assert load_or_create_secret(path) == b"0123456789abcdef"
