"""The inputs of a batch: files and folders walked into documents, documents into pages.

A document is one input file: an image (one page), a TIFF (every page) or a PDF (every
page, rendered with pypdfium2: ``pip install tightbind[pdf]``).  Pages are read by
:func:`load_page` in whichever process or machine recognises them, from the path.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from tightbind.ocr._native import ffi
from tightbind.ocr.errors import ImageError, OcrError
from tightbind.ocr.pix import Pix, pix_read_pages

__all__ = ["DEFAULT_INCLUDE", "Document", "PdfSupportMissing", "describe", "list_inputs",
           "load_page", "page_count"]

#: File name patterns a folder walk picks up when no ``include`` is given.
DEFAULT_INCLUDE = ("*.png", "*.jpg", "*.jpeg", "*.tif", "*.tiff", "*.bmp", "*.pnm", "*.pbm",
                   "*.pgm", "*.ppm", "*.gif", "*.webp", "*.jp2", "*.pdf")
_CHUNK = 1 << 20


class PdfSupportMissing(OcrError, ImportError):
    """A PDF input needs pypdfium2, which is not installed."""


@dataclass(frozen=True)
class Document:
    """One input file: its ``path``, its ``name`` relative to the folder it was found in
    (the outputs mirror it), its ``kind`` ("image", "tiff" or "pdf") and ``sha256``."""

    path: str
    name: str
    kind: str
    sha256: str


def _kind(path: str, head: bytes) -> str:
    if head.startswith(b"%PDF"):
        return "pdf"
    if head[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"):
        return "tiff"
    return "pdf" if path.lower().endswith(".pdf") else "image"


def list_inputs(sources: Sequence[str | os.PathLike[str]],
                include: Sequence[str] | None = None,
                exclude: str | os.PathLike[str] | None = None) -> list[tuple[str, str]]:
    """The files of ``sources`` as (path, name) pairs: files named directly, and the
    files of folders (walked recursively, in sorted order) whose name matches one of
    ``include`` (default :data:`DEFAULT_INCLUDE`, case-insensitive).  ``name`` is the
    path relative to the folder given (a file's own name for a file): outputs mirror it.
    A folder walk does not enter ``exclude`` (the output folder, when inside an input).
    """
    skip = os.path.realpath(exclude) if exclude is not None else None
    patterns = [p.lower() for p in (include or DEFAULT_INCLUDE)]
    found = []
    for source in sources:
        source = os.fspath(source)
        if not os.path.isdir(source):
            found.append((source, os.path.basename(source)))
            continue
        for folder, subfolders, files in os.walk(source):
            subfolders[:] = sorted(name for name in subfolders
                                   if os.path.realpath(os.path.join(folder, name)) != skip)
            for file_name in sorted(files):
                path = os.path.join(folder, file_name)
                if any(fnmatch.fnmatchcase(file_name.lower(), p) for p in patterns) \
                        and os.path.isfile(path):
                    found.append((path, os.path.relpath(path, source)))
    return found


def describe(path: str, name: str) -> Document:
    """Read the file at ``path`` once for its kind and content hash (raises OSError)."""
    digest = hashlib.sha256()
    head = b""
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            if not head:
                head = chunk[:8]
            digest.update(chunk)
    return Document(path, name.replace(os.sep, "/"), _kind(path, head), digest.hexdigest())


def _pdfium():  # type: ignore[no-untyped-def]
    try:
        import pypdfium2
    except ImportError:
        raise PdfSupportMissing("PDF inputs need pypdfium2: pip install 'tightbind[pdf]'") \
            from None
    return pypdfium2


def _tiff_page_count(data: bytes) -> int | None:
    """Count a classic TIFF's pages by walking its IFD chain (None: let Leptonica count)."""
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or struct.unpack(order + "H", data[2:4])[0] != 42:
        return None
    offset = struct.unpack(order + "I", data[4:8])[0]
    count = 0
    seen = set()
    while offset and offset not in seen and offset + 2 <= len(data):
        seen.add(offset)
        entries = struct.unpack(order + "H", data[offset:offset + 2])[0]
        end = offset + 2 + 12 * entries
        if end + 4 > len(data):
            return None
        count += 1
        offset = struct.unpack(order + "I", data[end:end + 4])[0]
    return count or None


def page_count(document: Document) -> int:
    """How many pages ``document`` has.  Raises :class:`ImageError` for a TIFF or PDF
    that cannot be read, :class:`PdfSupportMissing` without pypdfium2."""
    if document.kind == "image":
        return 1
    if document.kind == "pdf":
        pdfium = _pdfium()
        try:
            pdf = pdfium.PdfDocument(document.path)
        except pdfium.PdfiumError as exc:
            raise ImageError(f"cannot open the PDF: {exc}") from None
        try:
            return len(pdf)
        finally:
            pdf.close()
    with open(document.path, "rb") as file:
        data = file.read()
    return _tiff_page_count(data) or len(pix_read_pages(data))


def load_page(path: str, kind: str, index: int, dpi: int = 300) -> Pix:
    """Page ``index`` (from 0) of the file at ``path`` as a Pix; a PDF page is rendered
    in grey at ``dpi``.  Raises ImageError, ImageFileNotFound or PdfSupportMissing."""
    if kind == "pdf":
        return _render_pdf_page(path, index, dpi)
    if kind == "tiff":
        pages = pix_read_pages(path)
        if index >= len(pages):
            raise ImageError(f"the TIFF has no page {index + 1}")
        return pages[index]
    return Pix.from_file(path)


def _render_pdf_page(path: str, index: int, dpi: int) -> Pix:
    pdfium = _pdfium()
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise ImageError(f"cannot open the PDF: {exc}") from None
    try:
        page = pdf[index]
        try:
            width, height = page.get_size()
            scale = dpi / 72
            if max(width, height) * scale > 32767:
                raise ImageError(f"PDF page {index + 1} is {width:.0f}x{height:.0f} points: "
                                 f"too large at {dpi} dpi")
            bitmap = page.render(scale=scale, grayscale=True)
            try:
                pix = Pix._from_raw(ffi.from_buffer(bitmap.buffer), bitmap.width, bitmap.height,
                                    bitmap.n_channels, bitmap.stride)
            finally:
                bitmap.close()
        finally:
            page.close()
    except pdfium.PdfiumError as exc:
        raise ImageError(f"cannot render PDF page {index + 1}: {exc}") from None
    finally:
        pdf.close()
    pix.resolution = (dpi, dpi)
    return pix
