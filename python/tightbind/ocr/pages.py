"""One image through one engine: :class:`PageResult`, the result every image runner gives
(:func:`~tightbind.ocr.ocr_many`'s threads and worker processes alike).

It sits below the runners (``batch``, ``isolation``) so that they share it without
importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tightbind.ocr.api import Element, TessApi
from tightbind.ocr.constants import PageIteratorLevel
from tightbind.ocr.pix import to_pix
from tightbind.ocr.workers import limit_resolution

__all__ = ["PageResult", "recognise_image"]


@dataclass(frozen=True)
class PageResult:
    """What :func:`ocr_many` yields per image: its position in the input, its text, its
    words (with boxes and confidences) and the mean word confidence."""

    index: int
    text: str
    words: list[Element]
    mean_confidence: int


def recognise_image(api: TessApi, index: int, image: Any, timeout: float | None,
                    max_dpi: int | None, *, watched: bool = True) -> PageResult:
    """``image`` (anything :func:`to_pix` takes) recognised on ``api`` within ``timeout``
    (``watched=False``: Tesseract's own deadline alone, in a worker process that is killed
    from outside when it overruns), at most ``max_dpi``."""
    with api.lock:
        api.set_image_pix(limit_resolution(to_pix(image), max_dpi))
        api.recognize(timeout, watched=watched)
        return PageResult(index, api.get_utf8_text(), api.results(PageIteratorLevel.WORD),
                          api.mean_text_confidence())
