"""A written report in the submission (PDF or Markdown), made ready for a TA to read in the HTML report.

A PDF is rasterised page by page with PDFium (pypdfium2) *inside the sandbox*: a PDF is
untrusted input to a large C parser, so it gets the same walls as student code (no network, no
grader files, a CPU, memory and file-size budget). The grader reads back only PNG files and a
page count. A Markdown or text report is only read here (capped); the presentation layer turns
Markdown into HTML with raw HTML disabled. A malformed, encrypted or huge PDF gets a clear
message and the rest of the submission is graded as usual.
"""

from __future__ import annotations

import enum
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from grader.execution.sandbox import SINGLE_THREAD_BLAS, SUBMISSION_MOUNT, UIDS, Sandbox

OUT_MOUNT = "/out"
MAX_TEXT_CHARS = 200_000
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_MAX_PNG_BYTES = 900 * 1024
_MAX_PDF_BYTES = 50 * 1024 * 1024
_CPU_S = 60
_MEMORY_MB = 1536


class DocumentStatus(enum.StrEnum):
    OK = "ok"
    INVALID = "invalid"  # not a readable PDF (malformed, encrypted, empty, too large)
    MISSING = "missing"
    FAILED = "failed"  # the grader could not render it: a grader failure


@dataclass(frozen=True)
class DocumentSpec:
    """A report the rubric shows to the TA (`[documents.<name>]` in rubric.toml)."""

    name: str
    paths: tuple[str, ...]  # where the submission may keep it, first found wins (report.pdf, report.md)
    max_pages: int = 16  # pages rendered; the TA is told how many more there are
    width_px: int = 820


@dataclass
class DocumentRun:
    spec: DocumentSpec
    status: DocumentStatus
    message: str
    path: str | None = None  # which of spec.paths was found
    kind: str = ""  # pdf, markdown or text
    page_count: int = 0
    pages: tuple[bytes, ...] = ()  # PNGs of the first max_pages pages
    text: str = ""  # a Markdown or text report, capped


def _kind(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return "pdf" if suffix == ".pdf" else "markdown" if suffix in (".md", ".markdown") else "text"


def render_document(spec: DocumentSpec, root: Path, *, sandbox: Sandbox, python: str, grader_src: str,
                    workdir: Path) -> DocumentRun:
    """Find the report in the submission copy `root` and render it. Never raises for a bad document."""
    found = next((p for p in spec.paths if (root / p).is_file() and not (root / p).is_symlink()), None)
    if found is None:
        return DocumentRun(spec, DocumentStatus.MISSING, f"no report: looked for {', '.join(spec.paths)}")
    kind = _kind(found)
    if kind != "pdf":
        raw = (root / found).read_bytes()[: MAX_TEXT_CHARS * 4]
        text = raw.decode("utf-8", errors="replace")
        clipped = len(text) > MAX_TEXT_CHARS
        message = f"{found}: {len(text.splitlines())} lines" + (" (cut at 200,000 characters)" if clipped else "")
        return DocumentRun(spec, DocumentStatus.OK, message, found, kind, text=text[:MAX_TEXT_CHARS])
    if (root / found).stat().st_size > _MAX_PDF_BYTES:
        return DocumentRun(spec, DocumentStatus.INVALID, f"{found} is larger than {_MAX_PDF_BYTES // 2**20} MB; "
                           "open the original", found, kind)
    return _render_pdf(spec, found, root, sandbox=sandbox, python=python, grader_src=grader_src, workdir=workdir)


def _render_pdf(spec: DocumentSpec, found: str, root: Path, *, sandbox: Sandbox, python: str, grader_src: str,
                workdir: Path) -> DocumentRun:
    out = workdir / "out"
    shutil.rmtree(workdir, ignore_errors=True)
    out.mkdir(parents=True)
    boot = (f"import sys; sys.path.insert(0, {grader_src!r}); from grader.execution import documents; "
            "documents.rasterise(*sys.argv[1:])")
    uid = UIDS.acquire() if sandbox.drops_uid else None
    try:
        pdf = f"{SUBMISSION_MOUNT}/{found}" if sandbox.isolates else str(root / found)
        target = OUT_MOUNT if sandbox.isolates else str(out)
        limits = ["prlimit", f"--cpu={_CPU_S}", f"--as={_MEMORY_MB * 2**20}", "--core=0", f"--fsize={8 * 2**20}"]
        argv = [*limits, "--", python, "-E", "-s", "-c", boot, pdf, target, str(spec.max_pages), str(spec.width_px)]
        env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", **SINGLE_THREAD_BLAS}
        if sandbox.isolates:
            if uid is not None:
                os.chown(out, uid, uid)
            argv = sandbox.wrap(argv, root=root, probes=None, grader_src=grader_src, uid=uid,
                                extra=((str(out), OUT_MOUNT, True),), env=env)
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=3 * _CPU_S, env=env,
                                  start_new_session=True)
        except subprocess.TimeoutExpired:
            return DocumentRun(spec, DocumentStatus.INVALID, f"{found}: rendering took longer than {3 * _CPU_S} s; "
                               "open the original", found, "pdf")
        except OSError as exc:
            return DocumentRun(spec, DocumentStatus.FAILED, f"GRADER FAILURE (not the student's fault): could not "
                               f"render {found}: {exc}", found, "pdf")
    finally:
        if uid is not None:
            UIDS.release(uid)
    return _collect(spec, found, out, done)


def _collect(spec: DocumentSpec, found: str, out: Path, done: subprocess.CompletedProcess[bytes]) -> DocumentRun:
    try:
        info = json.loads((out / "info.json").read_text()[:10_000])
    except (OSError, ValueError):
        info = {}
    if done.returncode != 0 or not isinstance(info, dict) or "page_count" not in info:
        why = str(info.get("error", "")) if isinstance(info, dict) else ""
        if not why:
            tail = done.stderr.decode(errors="replace").strip().splitlines()
            why = tail[-1][:300] if tail else f"the renderer ended with code {done.returncode}"
        return DocumentRun(spec, DocumentStatus.INVALID, f"{found} could not be read as a PDF ({why}); the TA "
                           "must open the original", found, "pdf")
    pages = []
    for index in range(min(int(info["page_count"]), spec.max_pages)):
        path = out / f"page-{index + 1:03d}.png"
        if not path.is_file() or path.stat().st_size > _MAX_PNG_BYTES:
            break
        data = path.read_bytes()
        if not data.startswith(_PNG_MAGIC):
            break
        pages.append(data)
    count = int(info["page_count"])
    message = f"{found}: {count} page{'s' if count != 1 else ''}"
    if len(pages) < count:
        message += f", the first {len(pages)} shown; open the original for the rest"
    return DocumentRun(spec, DocumentStatus.OK, message, found, "pdf", count, tuple(pages))


def rasterise(pdf: str, out: str, max_pages: str, width_px: str) -> None:
    """Inside the sandbox: write page-NNN.png for the first pages and info.json with the page count."""
    import pypdfium2 as pdfium

    target = Path(out)
    try:
        doc = pdfium.PdfDocument(pdf)
    except Exception as exc:  # noqa: BLE001 - pdfium's errors for a malformed file are the document's problem
        (target / "info.json").write_text(json.dumps({"error": f"{type(exc).__name__}: {exc}"[:300]}))
        sys.exit(1)
    count = len(doc)
    if count == 0:
        (target / "info.json").write_text(json.dumps({"error": "the PDF has no pages"}))
        sys.exit(1)
    for index in range(min(count, int(max_pages))):
        page = doc[index]
        width_pt = max(page.get_width(), 1.0)
        scale = min(int(width_px) / width_pt, 3.0)
        image = page.render(scale=scale).to_pil()
        image.save(target / f"page-{index + 1:03d}.png", format="PNG", optimize=True)
        page.close()
    (target / "info.json").write_text(json.dumps({"page_count": count}))
