"""The inputs of a batch: files and folders walked into documents, documents into pages.

A document is one input file: an image (one page), a TIFF (every page) or a PDF (every
page, rendered with pypdfium2: ``pip install tightbind[pdf]``).  Pages are read by
:func:`load_page` in whichever process or machine recognises them, from the path.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

from tightbind.ocr.errors import ImageError
from tightbind.ocr.pix import MAX_PAGES, Pix
from tightbind.ocr.sources import (
    PdfSupportMissing,
    pdf_page_count,
    read_tiff_page,
    render_pdf_page,
    tiff_directories,
)

__all__ = ["DEFAULT_INCLUDE", "Document", "PdfSupportMissing", "describe", "list_inputs",
           "load_page", "page_count", "page_locations"]

#: File name patterns a folder walk picks up when no ``include`` is given.
DEFAULT_INCLUDE = ("*.png", "*.jpg", "*.jpeg", "*.tif", "*.tiff", "*.bmp", "*.pnm", "*.pbm",
                   "*.pgm", "*.ppm", "*.gif", "*.webp", "*.jp2", "*.pdf")
_CHUNK = 1 << 20


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


def page_locations(document: Document) -> list[int]:
    """Where each page of ``document`` is: a TIFF's directory offsets (listed without
    decoding a page), else the page numbers from 0.  ImageError for a TIFF or PDF that
    cannot be read or has more than ``MAX_PAGES`` pages, PdfSupportMissing without
    pypdfium2."""
    if document.kind == "image":
        return [0]
    if document.kind == "tiff":
        return tiff_directories(document.path)
    count = pdf_page_count(document.path)
    if count > MAX_PAGES:
        raise ImageError(f"the PDF has {count:,} pages, more than MAX_PAGES ({MAX_PAGES:,})")
    return list(range(count))


def page_count(document: Document) -> int:
    """How many pages ``document`` has (raises as :func:`page_locations`)."""
    return len(page_locations(document))


def load_page(path: str, kind: str, index: int, dpi: int = 300,
              location: int | None = None) -> Pix:
    """Page ``index`` (from 0) of the file at ``path`` as a Pix: a TIFF's page read alone
    from its directory at ``location`` (found when not given), a PDF page rendered in
    grey at ``dpi`` or at the largest resolution below it that fits ``MAX_IMAGE_PIXELS``
    (the Pix's resolution says which).  Raises ImageError, ImageFileNotFound or
    PdfSupportMissing."""
    if kind == "pdf":
        return render_pdf_page(path, index, dpi).pix
    if kind == "tiff":
        if location is None:
            directories = tiff_directories(path)
            if index >= len(directories):
                raise ImageError(f"the TIFF has no page {index + 1}")
            location = directories[index]
        return read_tiff_page(path, location, index)
    return Pix.from_file(path)
