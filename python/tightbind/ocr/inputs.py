"""The inputs of a batch: files and folders walked into documents, documents into pages.

A document is one input file: an image (one page), a TIFF (every page) or a PDF (every
page, rendered with pypdfium2: ``pip install tightbind[pdf]``).  Pages are read by
:func:`load_page` in whichever process or machine recognises them, from the path.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass

from tightbind.ocr.errors import ImageError, OcrError
from tightbind.ocr.pix import MAX_PAGES, Pix
from tightbind.ocr.sources import (
    PdfSupportMissing,
    pdf_page_count,
    read_tiff_page,
    render_pdf_page,
    tiff_directories,
)

__all__ = ["DEFAULT_INCLUDE", "DEFAULT_MAX_INPUT_BYTES", "Document", "InputRefused",
           "PdfSupportMissing", "check_names", "describe", "list_inputs", "load_page",
           "page_count", "page_locations", "printable"]

#: File name patterns a folder walk picks up when no ``include`` is given.
DEFAULT_INCLUDE = ("*.png", "*.jpg", "*.jpeg", "*.tif", "*.tiff", "*.bmp", "*.pnm", "*.pbm",
                   "*.pgm", "*.ppm", "*.gif", "*.webp", "*.jp2", "*.pdf")
_CHUNK = 1 << 20
#: The largest input file a batch reads, unless told otherwise (``max_input_bytes``).
DEFAULT_MAX_INPUT_BYTES = 1 << 30


class InputRefused(OcrError):
    """An input that a batch does not read: not a regular file, or too large."""


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
    entries of folders (walked recursively, in sorted order, symbolic links to folders
    not entered) whose name matches one of ``include`` (default :data:`DEFAULT_INCLUDE`,
    case-insensitive), whatever they are: :func:`describe` refuses what is not a regular
    file.  ``name`` is the path relative to the folder given (a file's own name for a
    file): outputs mirror it.  A folder walk does not enter ``exclude`` (the output
    folder, when inside an input).  A file reached twice is listed once.
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
                if any(fnmatch.fnmatchcase(file_name.lower(), p) for p in patterns):
                    found.append((path, os.path.relpath(path, source)))
    unique: dict[str, tuple[str, str]] = {}
    for path, name in found:
        unique.setdefault(os.path.realpath(path), (path, name))
    return list(unique.values())


def check_names(found: Sequence[tuple[str, str]]) -> None:
    """ValueError naming the inputs when two of ``found`` (path, name) would write the
    same outputs (the same name from different folders given)."""
    seen: dict[str, str] = {}
    clashes = []
    for path, name in found:
        key = os.path.normcase(name.replace(os.sep, "/"))
        if key in seen:
            clashes.append(f"{printable(seen[key])} and {printable(path)}")
        else:
            seen[key] = path
    if clashes:
        raise ValueError(f"inputs that would write the same outputs: {'; '.join(clashes[:5])}"
                         f"{' and more' if len(clashes) > 5 else ''}; give their folders "
                         "instead of the files (outputs then mirror the folders), or rename one")


def printable(name: str) -> str:
    """``name`` with any bytes that are not UTF-8 (kept as surrogates) shown as \\xNN."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def describe(path: str, name: str, max_bytes: int | None = DEFAULT_MAX_INPUT_BYTES) -> Document:
    """Read the regular file at ``path`` once for its kind and content hash.  Raises
    InputRefused for anything else (a FIFO, device or socket, opened without waiting)
    or a file over ``max_bytes``, and OSError."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:  # a socket cannot be opened at all (ENXIO): say what it is
        try:
            mode = os.stat(path).st_mode
        except OSError:
            mode = stat.S_IFREG
        if not stat.S_ISREG(mode):
            raise InputRefused(f"not a regular file ({_file_type(mode)}): only files are "
                               "read") from None
        raise
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise InputRefused(f"not a regular file ({_file_type(status.st_mode)}): only "
                               "files are read")
        if max_bytes is not None and status.st_size > max_bytes:
            raise InputRefused(f"the file has {status.st_size:,} bytes, more than the "
                               f"{max_bytes:,} allowed (max_input_bytes, --max-input-size)")
        file = open(descriptor, "rb")  # noqa: SIM115 (closed by the with below)
    except BaseException:
        os.close(descriptor)
        raise
    with file:
        digest = hashlib.sha256()
        head = b""
        while chunk := file.read(_CHUNK):
            if not head:
                head = chunk[:8]
            digest.update(chunk)
    return Document(path, name.replace(os.sep, "/"), _kind(path, head), digest.hexdigest())


def _file_type(mode: int) -> str:
    for test, what in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a folder")):
        if test(mode):
            return what
    return "not a file"


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
