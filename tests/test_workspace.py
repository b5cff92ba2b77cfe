"""Preparing a submission: a private copy of a folder or a safely unpacked zip."""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from pathlib import Path

import pytest

from grader.execution import workspace
from grader.execution.workspace import SubmissionError, content_hash, discover, prepare, submission_id

EXPECTED = ("cattern/neural_net.py", "answers.md")


def write(base: Path, files: dict[str, str | bytes]) -> Path:
    for rel, data in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)
    return base


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry under folder (links included, not followed): kind and content hash."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(folder))
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            elif path.is_file():
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                out[rel] = "dir"
    return out


def listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def make_zip(path: Path, entries: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


@pytest.fixture
def student_folder(tmp_path: Path) -> Path:
    return write(tmp_path / "subs" / "alice", {
        "cattern/__init__.py": "",
        "cattern/neural_net.py": "class TwoLayerNet:\n    pass\n",
        "answers.md": "## T1\ndz/dw0 = -0.2\n",
        "cattern/__pycache__/neural_net.cpython-311.pyc": b"\0junk",
        "cattern/old.pyc": b"\0junk",
        ".DS_Store": b"\0mac",
        "cattern/.DS_Store": b"\0mac",
        "__MACOSX/cattern/._neural_net.py": b"\0mac",
        ".ipynb_checkpoints/x-checkpoint.ipynb": "{}",
        "notes/readme.txt": "hello",
    })


# --- folders ---------------------------------------------------------------------------------


def test_folder_copy_keeps_the_work_and_skips_junk(student_folder: Path, tmp_path: Path) -> None:
    ws = prepare(student_folder, tmp_path / "ws", EXPECTED)
    assert ws.root == tmp_path / "ws" / "files"
    assert listing(ws.root) == {"cattern/__init__.py", "cattern/neural_net.py", "answers.md", "notes/readme.txt"}
    assert (ws.root / "cattern/neural_net.py").read_text() == "class TwoLayerNet:\n    pass\n"
    assert ws.submission_id == "alice"
    assert ws.source == student_folder
    assert ws.find("cattern/neural_net.py") == ws.root / "cattern/neural_net.py"
    assert ws.find("best_net.npz") is None


def test_folder_copy_does_not_follow_symlinks_and_says_so(student_folder: Path, tmp_path: Path) -> None:
    os.symlink("/etc/passwd", student_folder / "cattern" / "passwd")
    outside = write(tmp_path / "outside", {"secret.txt": "top secret"})
    os.symlink(outside, student_folder / "linked_dir")
    ws = prepare(student_folder, tmp_path / "ws", EXPECTED)
    copied = listing(ws.root)
    assert "cattern/passwd" not in copied
    assert not (ws.root / "cattern" / "passwd").exists()
    assert not (ws.root / "cattern" / "passwd").is_symlink()
    assert not any(p.startswith("linked_dir") for p in copied)
    assert not (ws.root / "linked_dir").exists()
    assert "cattern/neural_net.py" in copied  # the regular files still come through
    assert any("cattern/passwd" in note for note in ws.notes)
    assert any("linked_dir" in note for note in ws.notes)
    for path in ws.root.rglob("*"):
        assert not path.is_symlink()
        if path.is_file():
            assert "root:" not in path.read_text(errors="replace")


def test_each_ignored_link_is_noted_once(student_folder: Path, tmp_path: Path) -> None:
    os.symlink("/etc/passwd", student_folder / "passwd")
    ws = prepare(student_folder, tmp_path / "ws", EXPECTED)
    assert len([n for n in ws.notes if "passwd" in n]) == 1, ws.notes


def test_a_clean_folder_gets_no_notes(tmp_path: Path) -> None:
    src = write(tmp_path / "bob", {"cattern/neural_net.py": "x = 1\n", "answers.md": ""})
    ws = prepare(src, tmp_path / "ws", EXPECTED)
    assert ws.notes == []


def test_the_original_folder_is_byte_identical_afterwards(student_folder: Path, tmp_path: Path) -> None:
    os.symlink("/etc/passwd", student_folder / "passwd")
    before = snapshot(student_folder)
    mtimes = {p: p.lstat().st_mtime_ns for p in student_folder.rglob("*")}
    ws = prepare(student_folder, tmp_path / "ws", EXPECTED)
    (ws.root / "cattern/neural_net.py").write_text("changed in the private copy")
    assert snapshot(student_folder) == before
    assert {p: p.lstat().st_mtime_ns for p in student_folder.rglob("*")} == mtimes
    assert (student_folder / "cattern/neural_net.py").read_text() == "class TwoLayerNet:\n    pass\n"


def test_folder_with_too_many_files_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = write(tmp_path / "big", {f"data/{i}.txt": "x" for i in range(6)})
    monkeypatch.setattr(workspace, "MAX_FILES", 5)
    with pytest.raises(SubmissionError, match="more than 5 files"):
        prepare(src, tmp_path / "ws", EXPECTED)
    monkeypatch.setattr(workspace, "MAX_FILES", 6)
    assert len(listing(prepare(src, tmp_path / "ws2", EXPECTED).root)) == 6


def test_folder_too_large_in_total_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = write(tmp_path / "big", {"a.bin": b"\0" * 600, "b.bin": b"\0" * 600})
    monkeypatch.setattr(workspace, "MAX_TOTAL_BYTES", 1000)
    with pytest.raises(SubmissionError, match="remove data sets"):
        prepare(src, tmp_path / "ws", EXPECTED)
    monkeypatch.setattr(workspace, "MAX_TOTAL_BYTES", 1200)
    assert listing(prepare(src, tmp_path / "ws2", EXPECTED).root) == {"a.bin", "b.bin"}


# --- wrapping folders ------------------------------------------------------------------------


def test_single_wrapping_folder_in_a_zip_is_unwrapped(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "carol.zip", {
        "hw4/cattern/neural_net.py": "x = 1\n",
        "hw4/answers.md": "## T1\n",
        "__MACOSX/hw4/._answers.md": b"\0",
    })
    ws = prepare(archive, tmp_path / "ws", EXPECTED)
    assert ws.root == tmp_path / "ws" / "files" / "hw4"
    assert ws.find("cattern/neural_net.py") is not None
    assert any("wrapping folder hw4/" in note for note in ws.notes)
    assert ws.submission_id == "carol"


def test_two_levels_of_wrapping_are_unwrapped(tmp_path: Path) -> None:
    src = write(tmp_path / "dave", {"submission/hw4/cattern/neural_net.py": "x = 1\n"})
    ws = prepare(src, tmp_path / "ws", EXPECTED)
    assert ws.find("cattern/neural_net.py") is not None
    assert ws.root.relative_to(tmp_path / "ws" / "files") == Path("submission/hw4")


def test_a_starter_layout_is_not_unwrapped(tmp_path: Path) -> None:
    # one folder at the top, but it is the starter's own package folder
    archive = make_zip(tmp_path / "erin.zip", {"cattern/neural_net.py": "x = 1\n"})
    ws = prepare(archive, tmp_path / "ws", EXPECTED)
    assert ws.root == tmp_path / "ws" / "files"
    assert not any("wrapping" in note for note in ws.notes)


def test_a_folder_next_to_other_files_is_not_unwrapped(tmp_path: Path) -> None:
    src = write(tmp_path / "fay", {"hw4/cattern/neural_net.py": "x = 1\n", "readme.txt": "see hw4/"})
    ws = prepare(src, tmp_path / "ws", EXPECTED)
    assert ws.root == tmp_path / "ws" / "files"
    assert ws.find("cattern/neural_net.py") is None
    assert ws.locate_elsewhere("cattern/neural_net.py") == ["hw4/cattern/neural_net.py"]


# --- zips ----------------------------------------------------------------------------------


def test_zip_is_unpacked_without_junk(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "gus.zip", {
        "cattern/neural_net.py": "x = 1\n",
        "answers.md": "## T1\n",
        "cattern/__pycache__/neural_net.cpython-311.pyc": b"\0",
        ".DS_Store": b"\0",
        "__MACOSX/._answers.md": b"\0",
        "./cattern/__init__.py": "",
    })
    ws = prepare(archive, tmp_path / "ws", EXPECTED)
    assert listing(ws.root) == {"cattern/neural_net.py", "answers.md", "cattern/__init__.py"}
    assert (ws.root / "cattern/neural_net.py").read_text() == "x = 1\n"


@pytest.mark.parametrize("evil", ["../evil.txt", "../../evil.txt", "cattern/../../evil.txt", "..\\..\\evil.txt"])
def test_zip_entries_climbing_out_are_refused(tmp_path: Path, evil: str) -> None:
    into = tmp_path / "box" / "ws"
    archive = make_zip(tmp_path / "hal.zip", {evil: "pwned", "cattern/neural_net.py": "x = 1\n"})
    ws = prepare(archive, into, EXPECTED)
    assert listing(ws.root) == {"cattern/neural_net.py"}
    assert [p.name for p in tmp_path.rglob("evil.txt")] == []
    assert {p.name for p in (tmp_path / "box").iterdir()} == {"ws"}
    assert any("refused archive entry" in note and "evil.txt" in note for note in ws.notes)


def test_zip_entry_with_an_absolute_path_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "abs_evil.txt"
    archive = make_zip(tmp_path / "ian.zip", {str(target): "pwned", "C:/evil2.txt": "pwned",
                                              "cattern/neural_net.py": "x = 1\n"})
    ws = prepare(archive, tmp_path / "ws", EXPECTED)
    assert not target.exists()
    assert listing(ws.root) == {"cattern/neural_net.py"}
    assert sum("refused archive entry" in note for note in ws.notes) == 2


def test_zip_symlink_entries_are_ignored(tmp_path: Path) -> None:
    archive = tmp_path / "jan.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        link = zipfile.ZipInfo("cattern/passwd")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("cattern/neural_net.py", "x = 1\n")
    ws = prepare(archive, tmp_path / "ws", EXPECTED)
    assert listing(ws.root) == {"cattern/neural_net.py"}
    assert not (ws.root / "cattern/passwd").exists() and not (ws.root / "cattern/passwd").is_symlink()
    assert any("symbolic link" in note and "cattern/passwd" in note for note in ws.notes)


def test_zip_bomb_entry_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workspace, "MAX_FILE_BYTES", 10_000)
    archive = make_zip(tmp_path / "kim.zip", {"cattern/neural_net.py": "x = 1\n", "data.bin": b"\0" * 50_000})
    assert archive.stat().st_size < 10_000  # it really is a small archive that inflates
    with pytest.raises(SubmissionError, match="data.bin unpacks to 50000 bytes"):
        prepare(archive, tmp_path / "ws", EXPECTED)


def test_zip_entry_under_the_limit_is_unpacked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workspace, "MAX_FILE_BYTES", 10_000)
    archive = make_zip(tmp_path / "kim.zip", {"data.bin": b"\0" * 9_000})
    ws = prepare(archive, tmp_path / "ws", EXPECTED)
    assert (ws.root / "data.bin").stat().st_size == 9_000


def test_zip_bomb_in_total_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workspace, "MAX_TOTAL_BYTES", 25_000)
    archive = make_zip(tmp_path / "lee.zip", {f"part{i}.bin": b"\0" * 9_000 for i in range(3)})
    with pytest.raises(SubmissionError, match="unpacks to more than"):
        prepare(archive, tmp_path / "ws", EXPECTED)
    monkeypatch.setattr(workspace, "MAX_TOTAL_BYTES", 27_000)
    assert len(listing(prepare(archive, tmp_path / "ws2", EXPECTED).root)) == 3


def test_zip_with_a_lying_size_header_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "max.zip", {"data.bin": b"\0" * 50_000})
    raw = bytearray(archive.read_bytes())
    declared = (50_000).to_bytes(4, "little")
    assert raw.count(declared) == 2  # local header and central directory
    archive.write_bytes(bytes(raw).replace(declared, (100).to_bytes(4, "little")))
    with zipfile.ZipFile(archive) as zf:
        assert zf.getinfo("data.bin").file_size == 100  # the lie is what the directory says
    with pytest.raises(SubmissionError, match="max.zip: cannot unpack data.bin|data.bin unpacks to more than"):
        prepare(archive, tmp_path / "ws", EXPECTED)


def test_too_many_zip_entries_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workspace, "MAX_FILES", 3)
    archive = make_zip(tmp_path / "ned.zip", {f"{i}.txt": "x" for i in range(4)})
    with pytest.raises(SubmissionError, match="holds 4 entries"):
        prepare(archive, tmp_path / "ws", EXPECTED)


@pytest.mark.parametrize("content", [b"this is not a zip at all", b"", b"PK\x03\x04truncated"])
def test_non_zip_dot_zip_is_a_clear_submission_error(tmp_path: Path, content: bytes) -> None:
    fake = tmp_path / "oscar.zip"
    fake.write_bytes(content)
    with pytest.raises(SubmissionError, match=r"oscar.zip is not a readable zip archive.*submit again"):
        prepare(fake, tmp_path / "ws", EXPECTED)


def test_the_original_zip_is_untouched(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "pat.zip", {"cattern/neural_net.py": "x = 1\n"})
    before = hashlib.sha256(archive.read_bytes()).hexdigest()
    prepare(archive, tmp_path / "ws", EXPECTED)
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == before


# --- discovery and identity ----------------------------------------------------------------


def test_discover_lists_folders_and_zips_only(tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    write(batch, {"alice/answers.md": "", "notes.txt": "", "grades.csv": "", ".hidden/answers.md": ""})
    make_zip(batch / "bob.zip", {"answers.md": ""})
    make_zip(batch / "CAROL.ZIP", {"answers.md": ""})
    (batch / "empty_dir").mkdir()
    assert [p.name for p in discover(batch)] == ["CAROL.ZIP", "alice", "bob.zip", "empty_dir"]


def test_submission_id(tmp_path: Path) -> None:
    folder = tmp_path / "alice.smith"
    folder.mkdir()
    archive = make_zip(tmp_path / "bob-jones.zip", {"a": ""})
    odd = tmp_path / "weird.zip"
    odd.mkdir()
    assert submission_id(folder) == "alice.smith"
    assert submission_id(archive) == "bob-jones"
    assert submission_id(odd) == "weird.zip"  # a folder that happens to end in .zip keeps its name


def test_content_hash_is_stable_and_changes_with_any_file(student_folder: Path, tmp_path: Path) -> None:
    first = content_hash(student_folder)
    assert first == content_hash(student_folder)
    assert len(first) == 64
    # the same content elsewhere hashes the same: the hash is about what was handed in
    copy = tmp_path / "copy"
    for rel, digest in snapshot(student_folder).items():
        if digest != "dir":
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            (copy / rel).write_bytes((student_folder / rel).read_bytes())
    assert content_hash(copy) == first
    (student_folder / "cattern/neural_net.py").write_text("class TwoLayerNet:\n    pass\n ")
    changed = content_hash(student_folder)
    assert changed != first
    (student_folder / "cattern/neural_net.py").write_text("class TwoLayerNet:\n    pass\n")
    assert content_hash(student_folder) == first
    (student_folder / "cattern/neural_net.py").rename(student_folder / "cattern/renamed.py")
    assert content_hash(student_folder) != first


def test_content_hash_of_a_zip_follows_its_bytes(tmp_path: Path) -> None:
    a = make_zip(tmp_path / "a.zip", {"answers.md": "1"})
    b = make_zip(tmp_path / "b.zip", {"answers.md": "1"})
    c = make_zip(tmp_path / "c.zip", {"answers.md": "2"})
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash(c)


def test_workspace_records_the_content_hash_of_its_source(student_folder: Path, tmp_path: Path) -> None:
    ws = prepare(student_folder, tmp_path / "ws", EXPECTED)
    assert ws.content_hash == content_hash(student_folder)


def test_locate_elsewhere_finds_a_misplaced_file(tmp_path: Path) -> None:
    src = write(tmp_path / "quinn", {"answers.md": "", "src/deep/neural_net.py": "x = 1\n", "neural_net.py": "y"})
    ws = prepare(src, tmp_path / "ws", EXPECTED)
    assert ws.find("cattern/neural_net.py") is None
    assert ws.locate_elsewhere("cattern/neural_net.py") == ["neural_net.py", "src/deep/neural_net.py"]
    assert ws.locate_elsewhere("best_net.npz") == []
