"""Documents written through Tesseract's renderers: searchable PDF, hOCR, TSV, ALTO, text.

:meth:`TessApi.process_pages <tightbind.ocr.TessApi.process_pages>` is the public entry;
:func:`write_document` does the work on an engine handle and a list of pages.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tightbind.ocr._native import c_string, ffi, lib
from tightbind.ocr.errors import ImageError, OcrError
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
    if isinstance(formats, str):
        formats = (formats,)
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
