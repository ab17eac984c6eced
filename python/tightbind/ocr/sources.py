"""Pages out of documents, safely: PDF pages through one PDFium renderer per process,
multi-page TIFFs one directory at a time.

PDFium is not thread-safe: two threads inside it at once corrupt its state (documents
that fail to open, pages that fail to load, a segfault).  Every call into pypdfium2 in
tightbind goes through :func:`pdfium`, which holds one process-wide lock, and the
renderer keeps the last document open so that the pages of a long PDF cost one open.
A page's size is read before it is rendered; a page whose pixels at the asked resolution
would exceed ``MAX_IMAGE_PIXELS`` (or Tesseract's 32,767 a side) is rendered at the
largest resolution that fits, and the page says so (``Rendered.dpi``).

A TIFF's directories are listed once (:func:`tiff_directories`, without decoding
anything); each page is then checked and decoded alone from its directory's offset, with
the file mapped rather than read, so a page costs the same wherever it is in the file and
a damaged page fails alone.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import mmap
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tightbind.ocr._native import ffi, lib, log_messages, take_messages
from tightbind.ocr.errors import ImageError, OcrError
from tightbind.ocr.pix import MAX_PAGES, MAX_SIDE, Pix, pixel_limit

__all__ = ["MIN_DPI", "PdfSupportMissing", "Rendered", "fitting_dpi", "pdf_page_count",
           "pdfium", "read_tiff_page", "render_pdf_page", "tiff_directories"]

#: The lowest resolution a PDF page is rendered at to fit the pixel limit; a page that
#: does not fit even then fails.
MIN_DPI = 10

_LOCK = threading.RLock()
_OPEN: list[Any] = []  # [(path, identity), document]: the renderer's open document


class PdfSupportMissing(OcrError, ImportError):
    """A PDF input needs pypdfium2, which is not installed."""


def _module() -> Any:
    try:
        import pypdfium2
    except ImportError:
        raise PdfSupportMissing("PDF inputs need pypdfium2: pip install 'tightbind[pdf]'") \
            from None
    if not _OPEN:  # close the kept document before pypdfium2's own exit handler runs
        atexit.unregister(close_renderer)
        atexit.register(close_renderer)
    return pypdfium2


@contextlib.contextmanager
def pdfium() -> Iterator[Any]:
    """Hold the process's PDFium lock and give the pypdfium2 module: every use of PDFium
    in tightbind happens inside this (PdfSupportMissing without pypdfium2)."""
    module = _module()
    with _LOCK:
        yield module


def _identity(path: str) -> tuple[int, int, int, int]:
    status = os.stat(path)
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


def _document(module: Any, path: str) -> Any:
    """The open document at ``path`` (call with the lock held): the one kept open when
    it is the same file, unchanged; else the kept one is closed and this one opened."""
    wanted = (path, _identity(path))
    if _OPEN and _OPEN[0] == wanted:
        return _OPEN[1]
    _close_kept()
    try:
        document = module.PdfDocument(path)
    except module.PdfiumError as exc:
        raise ImageError(f"cannot open the PDF: {exc}") from None
    _OPEN[:] = [wanted, document]
    return document


def _close_kept() -> None:
    if _OPEN:
        document = _OPEN[1]
        _OPEN.clear()
        document.close()


def close_renderer() -> None:
    """Close the document the renderer keeps open (it is also closed at exit)."""
    with _LOCK:
        _close_kept()


def pdf_page_count(path: str) -> int:
    """How many pages the PDF at ``path`` has (ImageError when it cannot be opened)."""
    with pdfium() as module:
        return len(_document(module, path))


def fitting_dpi(width_points: float, height_points: float, dpi: int,
                limit: int | None = None) -> int:
    """The largest resolution up to ``dpi`` at which a page of that many points has at
    most ``limit`` (default ``MAX_IMAGE_PIXELS``) pixels and at most ``MAX_SIDE`` a side;
    ImageError when even :data:`MIN_DPI` is too much (or the page has no size)."""
    limit = pixel_limit() if limit is None else limit
    if not (width_points > 0 and height_points > 0) or math.isinf(width_points * height_points):
        raise ImageError(f"the PDF page has no usable size ({width_points}x{height_points} "
                         "points)")

    def pixels(at: int) -> tuple[int, int]:
        return math.ceil(width_points * at / 72), math.ceil(height_points * at / 72)

    def fits(at: int) -> bool:
        width, height = pixels(at)
        return width * height <= limit and max(width, height) <= MAX_SIDE

    if fits(dpi):
        return dpi
    best = min(dpi, int(72 * math.sqrt(limit / (width_points * height_points))) + 1,
               int(72 * MAX_SIDE / max(width_points, height_points)) + 1)
    while best >= MIN_DPI and not fits(best):
        best -= 1
    if best < MIN_DPI:
        width, height = pixels(MIN_DPI)
        raise ImageError(f"the PDF page of {width_points:.0f}x{height_points:.0f} points is "
                         f"{width}x{height} pixels even at {MIN_DPI} dpi: more than "
                         f"MAX_IMAGE_PIXELS ({limit:,}) or {MAX_SIDE} a side")
    return best


@dataclass
class Rendered:
    """A rendered PDF page and the resolution it was rendered at (lower than asked when
    the page would not fit the pixel limit at the asked one)."""

    pix: Pix
    dpi: int


def render_pdf_page(path: str, index: int, dpi: int) -> Rendered:
    """Page ``index`` (from 0) of the PDF at ``path``, rendered in grey at ``dpi`` or at
    the largest resolution below it that fits the pixel limit (see :func:`fitting_dpi`).
    Raises ImageError, PdfSupportMissing, OSError."""
    with pdfium() as module:
        document = _document(module, path)
        if not 0 <= index < len(document):
            raise ImageError(f"the PDF has no page {index + 1}")
        try:
            page = document[index]
        except module.PdfiumError as exc:
            raise ImageError(f"cannot load PDF page {index + 1}: {exc}") from None
        try:
            width, height = page.get_size()
            fitted = fitting_dpi(width, height, dpi)
            try:
                bitmap = page.render(scale=fitted / 72, grayscale=True)
            except module.PdfiumError as exc:
                raise ImageError(f"cannot render PDF page {index + 1}: {exc}") from None
            try:
                pix = Pix._from_raw(ffi.from_buffer(bitmap.buffer), bitmap.width,
                                    bitmap.height, bitmap.n_channels, bitmap.stride)
            finally:
                bitmap.close()
        finally:
            page.close()
    pix.resolution = (fitted, fitted)
    return Rendered(pix, fitted)


# ---- TIFF: one directory at a time --------------------------------------------------------

def tiff_directories(path: str) -> list[int]:
    """The offsets of the directories (pages) of the TIFF at ``path``, walking the chain
    only (nothing is decoded; a directory that cannot be read ends the list and fails as
    its page).  ImageError for a file that is not a classic TIFF or has more than
    ``MAX_PAGES`` pages."""
    with _mapped(path) as data:
        capacity = 64
        while True:
            offsets = ffi.new("uint64_t[]", capacity)
            count = ffi.new("size_t *")
            log_messages()
            rc = lib.tb_ocr_tiff_directories(data, len(data), offsets, capacity, count)
            if rc != lib.TB_OCR_FULL:
                break
            capacity = min(int(count[0]), MAX_PAGES)
    if rc != lib.TB_OK:
        reason = take_messages().splitlines()
        raise ImageError(f"cannot read the TIFF: {reason[0] if reason else 'damaged data'}")
    return [int(offsets[i]) for i in range(count[0])]


def read_tiff_page(path: str, offset: int, index: int) -> Pix:
    """Check and decode the one page of the TIFF at ``path`` whose directory is at
    ``offset``: its size against ``MAX_IMAGE_PIXELS``, its strips inside the file.
    Raises ImageError (naming page ``index + 1``) or OSError."""
    limit = pixel_limit()
    with _mapped(path) as data:
        info = ffi.new("tb_ocr_image_info *")
        log_messages()
        rc = lib.tb_ocr_check_tiff_page(data, len(data), offset, index, limit, info)
        reason = take_messages().splitlines()
        if rc == lib.TB_OCR_E_TOO_LARGE:
            raise ImageError(f"page {index + 1} of the TIFF is {info.width}x{info.height} "
                             f"pixels, more than MAX_IMAGE_PIXELS ({limit:,}); set "
                             "tightbind.ocr.MAX_IMAGE_PIXELS higher to read it")
        if rc != lib.TB_OK:
            raise ImageError(f"cannot read page {index + 1} of the TIFF: "
                             f"{reason[0] if reason else 'damaged data'}")
        cursor = ffi.new("size_t *", offset)
        ptr = lib.pixReadMemFromMultipageTiff(data, len(data), cursor)
    detail = log_messages()
    if ptr == ffi.NULL:
        raise ImageError(f"cannot decode page {index + 1} of the TIFF"
                         + (f" ({detail.splitlines()[0]})" if detail else ""))
    return Pix._adopt(ptr)


@contextlib.contextmanager
def _mapped(path: str) -> Iterator[Any]:
    """The file at ``path`` mapped read-only, as a cffi buffer (empty files as b"")."""
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size == 0:
            yield b""
            return
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapping:
            buffer = ffi.from_buffer(mapping)
            try:
                yield buffer
            finally:
                ffi.release(buffer)
