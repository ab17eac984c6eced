"""OCR with Tesseract and Leptonica through tightbind's C shim.

``TessApi`` is one Tesseract engine: load it once, then for each image
``set_image(...)``, ``recognize()`` and read ``get_utf8_text()``, ``results()`` (words
with boxes and confidences, one C call per page), hOCR/TSV/ALTO/box/UNLV text or the
layout.  ``Pix`` wraps Leptonica images; ``ocr_many`` runs many images on a pool of
engines; ``TessApi.process_pages`` writes searchable PDFs and other renderings.

Importing this module loads Tesseract with OpenMP limited to one thread unless
``OMP_THREAD_LIMIT`` is already set (see :mod:`tightbind.ocr._native`): that is several
times faster on small machines, and threads with one engine each scale instead.
Tesseract's and Leptonica's diagnostics go to the ``tightbind.ocr`` logger (an engine
may send Tesseract's to its own ``debug_file``), never to stderr by default.  Every error
is a :class:`tightbind.OcrError`.

Hostile input: every image is checked whole before a decoder sees it
(:func:`tightbind.ocr.pix.check_image`: declared sizes against ``MAX_IMAGE_PIXELS``, which
is settable here, and truncation); parameters are checked against their kind and the
limits of the native code they reach (:mod:`tightbind.ocr.params`); calls with a
``timeout`` return within it plus 0.5 s (:mod:`tightbind.ocr.deadline`).
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

from tightbind.ocr import pix as _pix
from tightbind.ocr._native import OMP_DEFAULTED, openmp_thread_limit
from tightbind.ocr.api import (
    Element,
    OrientationScript,
    TessApi,
    TextDirection,
    to_pix,
)
from tightbind.ocr.batch import PageResult, ocr_many
from tightbind.ocr.constants import (
    OEM,
    PSM,
    RIL_BLOCK,
    RIL_PARA,
    RIL_SYMBOL,
    RIL_TEXTLINE,
    RIL_WORD,
    Orientation,
    PageIteratorLevel,
    PolyBlockType,
    TextlineOrder,
    WritingDirection,
)
from tightbind.ocr.errors import (
    ClosedError,
    ImageError,
    ImageFileNotFound,
    LanguageNotFound,
    NoImage,
    NotRecognized,
    OcrError,
    RecognitionCancelled,
    RecognitionTimeout,
    VariableError,
)
from tightbind.ocr.pix import Pix, pix_read, pix_read_pages

if TYPE_CHECKING:  # pragma: no cover
    #: Decoded images with more pixels are refused (see :mod:`tightbind.ocr.pix`); setting
    #: it here sets it for every reader.
    MAX_IMAGE_PIXELS: int


def process_pages(
    source: object,
    outputbase: str,
    formats: tuple[str, ...] = ("pdf", "hocr", "tsv", "alto", "txt"),
    *,
    language: str = "eng",
    data_path: str | None = None,
    psm: int | None = None,
    title: str = "",
    timeout: float | None = None,
) -> list[str]:
    """Recognise a document with a new engine and write ``outputbase.<ext>`` for each
    format (see :meth:`TessApi.process_pages`); returns the paths written."""
    with TessApi(data_path, language, psm=psm) as api:
        return api.process_pages(source, outputbase, formats,  # type: ignore[arg-type]
                                 title=title, timeout=timeout)


def version() -> str:
    """Tesseract's version string."""
    return TessApi.version()


__all__ = [
    "MAX_IMAGE_PIXELS", "OEM", "OMP_DEFAULTED", "PSM", "RIL_BLOCK", "RIL_PARA",
    "RIL_SYMBOL", "RIL_TEXTLINE", "RIL_WORD", "ClosedError", "Element", "ImageError",
    "ImageFileNotFound", "LanguageNotFound", "NoImage", "NotRecognized", "OcrError",
    "Orientation", "OrientationScript", "PageIteratorLevel", "PageResult", "Pix",
    "PolyBlockType", "RecognitionCancelled", "RecognitionTimeout", "TessApi",
    "TextDirection", "TextlineOrder", "VariableError", "WritingDirection", "ocr_many",
    "openmp_thread_limit", "pix_read", "pix_read_pages", "process_pages", "to_pix",
    "version",
]


class _OcrModule(types.ModuleType):
    """This package's module type: ``tightbind.ocr.MAX_IMAGE_PIXELS`` reads and sets the
    one value every image reader uses (``tightbind.ocr.pix.MAX_IMAGE_PIXELS``)."""

    @property
    def MAX_IMAGE_PIXELS(self) -> int:
        return _pix.MAX_IMAGE_PIXELS

    @MAX_IMAGE_PIXELS.setter
    def MAX_IMAGE_PIXELS(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"MAX_IMAGE_PIXELS must be an int, not {value!r}")
        if value < 1:
            raise ValueError(f"MAX_IMAGE_PIXELS must be at least 1, not {value}")
        _pix.MAX_IMAGE_PIXELS = value


sys.modules[__name__].__class__ = _OcrModule
