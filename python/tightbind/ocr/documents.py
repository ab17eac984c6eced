"""Documents written through Tesseract's renderers: searchable PDF, hOCR, TSV, ALTO, text.

:meth:`TessApi.process_pages <tightbind.ocr.TessApi.process_pages>` is the public entry;
:func:`write_document` does the work on an engine handle and a list of pages.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from tightbind.ocr._native import c_string, ffi, lib, log_messages
from tightbind.ocr.errors import ImageError, OcrError, RecognitionTimeout
from tightbind.ocr.pix import MAX_SIDE, Pix

__all__ = ["EXTENSIONS", "RENDERERS", "write_document"]

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


def write_document(handle: Any, pages: Sequence[Pix], outputbase: str | os.PathLike[str],
                   formats: Sequence[str], *, data_path: str, title: str = "",
                   timeout: float | None = None) -> list[str]:
    """Recognise ``pages`` with the engine ``handle`` and write ``outputbase.<ext>`` for
    each of ``formats``; return the paths written.

    Raises ValueError for an unknown format, :class:`ImageError` for no pages or a page
    too large for Tesseract, :class:`RecognitionTimeout` when a page overruns ``timeout``
    seconds and :class:`OcrError` when a renderer fails.  Files already begun may be left
    incomplete on error.
    """
    if isinstance(formats, str):
        formats = (formats,)
    unknown = [fmt for fmt in formats if fmt not in RENDERERS]
    if unknown or not formats:
        raise ValueError(f"unknown output formats {unknown!r}; choose from "
                         f"{', '.join(RENDERERS)}")
    timeout_ms = 0 if timeout is None else max(1, math.ceil(float(timeout) * 1000))
    base = c_string(outputbase, "outputbase")
    datadir = c_string(data_path, "data_path")
    title_bytes = c_string(title, "title")
    if not pages:
        raise ImageError("no pages to process")
    for pix in pages:
        if pix.width > MAX_SIDE or pix.height > MAX_SIDE:
            raise ImageError(f"page of {pix.width}x{pix.height} pixels is too large")
    folder = os.path.dirname(os.fspath(outputbase))
    if folder:
        os.makedirs(folder, exist_ok=True)
    wanted = list(dict.fromkeys(formats))
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
            for index, pix in enumerate(pages):
                started = time.monotonic()
                ok = lib.TessBaseAPIProcessPage(handle, pix._for_tesseract().ptr, index,
                                                title_bytes, ffi.NULL, timeout_ms, first)
                log_messages()
                if not ok and timeout is not None and time.monotonic() - started >= timeout:
                    raise RecognitionTimeout(
                        f"page {index + 1} did not finish within {timeout} s")
                if not ok:
                    raise OcrError(f"Tesseract could not process page {index + 1}")
            if not lib.TessResultRendererEndDocument(first):
                raise OcrError(f"cannot finish writing {os.fspath(outputbase)!r}")
        finally:
            lib.TessDeleteResultRenderer(owned[0])
    finally:
        for renderer in renderers:
            lib.TessDeleteResultRenderer(renderer)
    return [f"{os.fspath(outputbase)}.{EXTENSIONS[fmt]}" for fmt in wanted]
