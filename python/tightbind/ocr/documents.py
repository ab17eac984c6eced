"""Documents written through Tesseract's renderers: searchable PDF, hOCR, TSV, ALTO, text.

:meth:`TessApi.process_pages <tightbind.ocr.TessApi.process_pages>` is the public entry;
:func:`process_document` recognises its pages (each within its deadline) and
:func:`write_document` drives the renderers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from tightbind.ocr._native import c_string, ffi, lib, log_messages
from tightbind.ocr.deadline import deadline_ms
from tightbind.ocr.errors import ImageError, OcrError
from tightbind.ocr.pix import MAX_SIDE, Pix, iter_pages, to_pix

if TYPE_CHECKING:  # pragma: no cover
    from tightbind.ocr.api import TessApi

__all__ = ["EXTENSIONS", "RENDERERS", "canonical_formats", "process_document",
           "write_document"]

#: Output format -> renderer constructor (output base, tessdata folder).
RENDERERS: dict[str, Callable[[bytes, bytes], Any]] = {
    "txt": lambda base, datadir: lib.TessTextRendererCreate(base),
    "hocr": lambda base, datadir: lib.TessHOcrRendererCreate(base),
    "tsv": lambda base, datadir: lib.TessTsvRendererCreate(base),
    "alto": lambda base, datadir: lib.TessAltoRendererCreate(base),
    "pdf": lambda base, datadir: lib.TessPDFRendererCreate(base, datadir, 0),
    "box": lambda base, datadir: lib.TessBoxTextRendererCreate(base),
    "unlv": lambda base, datadir: lib.TessUnlvRendererCreate(base),
}
#: Output format -> file extension the renderer writes.
EXTENSIONS: dict[str, str] = {
    "txt": "txt", "hocr": "hocr", "tsv": "tsv", "alto": "xml", "pdf": "pdf", "box": "box",
    "unlv": "unlv"}


def canonical_formats(formats: str | Sequence[str]) -> tuple[str, ...]:
    """``formats`` (a sequence, or one comma-separated string) in their canonical names,
    each once, in order: plain text is "txt" everywhere, and "text" is taken for it."""
    if isinstance(formats, str):
        formats = formats.split(",")
    return tuple(dict.fromkeys("txt" if fmt == "text" else fmt for fmt in formats))


def process_document(api: TessApi, source: str | os.PathLike[str] | Iterable[Any],
                     outputbase: str | os.PathLike[str], formats: Sequence[str], *,
                     title: str, timeout: float | None) -> list[str]:
    """TessApi.process_pages: decode the pages one at a time, recognise each on ``api``'s
    engine (within ``timeout``, counted from the end of the page before, as recognize()
    keeps it) and write them through the renderers."""
    deadline_ms(timeout)  # ValueError for a bad timeout before any page is decoded
    if isinstance(source, (str, os.PathLike)):
        pages: Iterable[Pix] = iter_pages(source)
    else:
        pages = (to_pix(image) for image in source)
    clock = [time.monotonic()]  # when the page being processed began (the first: the call)

    def process(pix: Pix, index: int, title_bytes: bytes, renderer: Any) -> None:
        handle = api.native_handle
        if timeout is None:
            ok = lib.TessBaseAPIProcessPage(handle, pix.ptr, index, title_bytes,
                                            ffi.NULL, 0, renderer)
            log_messages()
            if not ok:
                raise OcrError(f"Tesseract could not process page {index + 1}")
            return
        lib.TessBaseAPISetInputName(handle, title_bytes)
        lib.TessBaseAPISetImage2(handle, pix.ptr)
        api.recognize_native(timeout, clock[0],
                             f"process_pages(timeout={timeout}), page {index + 1}")
        if not lib.TessResultRendererAddImage(renderer, handle):
            raise OcrError(f"Tesseract could not render page {index + 1}")
        clock[0] = time.monotonic()

    with api.native(None if timeout is None else clock[0] + timeout, keeps_image=False):
        return write_document(pages, outputbase, formats, data_path=api.data_path,
                              title=title, process=process)


def write_document(pages: Iterable[Pix], outputbase: str | os.PathLike[str],
                   formats: Sequence[str], *, data_path: str, title: str = "",
                   process: Callable[[Pix, int, bytes, Any], None]) -> list[str]:
    """Write ``outputbase.<ext>`` for each of ``formats`` from ``pages`` (taken one at a
    time), calling ``process(pix, index, title, renderer)`` to recognise each page and
    add it to the renderer chain; return the paths written.

    Raises ValueError for an unknown format, :class:`ImageError` for no pages or a page
    too large for Tesseract, whatever ``process`` raises, and :class:`OcrError` when a
    renderer fails.  Files already begun may be left incomplete on error.
    """
    formats = canonical_formats(formats)
    unknown = [fmt for fmt in formats if fmt not in RENDERERS]
    if unknown or not formats:
        raise ValueError(f"unknown output formats {unknown!r}; choose from "
                         f"{', '.join(RENDERERS)}")
    base = c_string(outputbase, "outputbase")
    datadir = c_string(data_path, "data_path")
    title_bytes = c_string(title, "title")
    folder = os.path.dirname(os.fspath(outputbase))
    if folder:
        os.makedirs(folder, exist_ok=True)
    wanted = list(formats)
    renderers = []
    try:
        for fmt in wanted:
            renderer = RENDERERS[fmt](base, datadir)
            if renderer == ffi.NULL:
                raise OcrError(f"cannot create the {fmt} renderer")
            renderers.append(renderer)
        first = renderers[0]
        for renderer in renderers[1:]:
            lib.TessResultRendererInsert(first, renderer)
        owned = renderers
        renderers = []  # the first now owns the chain
        try:
            if not lib.TessResultRendererBeginDocument(first, title_bytes):
                raise OcrError(f"cannot start writing {os.fspath(outputbase)!r}")
            count = 0
            for index, pix in enumerate(pages):
                if pix.width > MAX_SIDE or pix.height > MAX_SIDE:
                    raise ImageError(f"page {index + 1} of {pix.width}x{pix.height} pixels "
                                     f"is too large for Tesseract (at most {MAX_SIDE} a side)")
                process(pix._for_tesseract(), index, title_bytes, first)
                count += 1
            if not count:
                raise ImageError("no pages to process")
            if not lib.TessResultRendererEndDocument(first):
                raise OcrError(f"cannot finish writing {os.fspath(outputbase)!r}")
        finally:
            lib.TessDeleteResultRenderer(owned[0])
    finally:
        for renderer in renderers:
            lib.TessDeleteResultRenderer(renderer)
    return [f"{os.fspath(outputbase)}.{EXTENSIONS[fmt]}" for fmt in wanted]
