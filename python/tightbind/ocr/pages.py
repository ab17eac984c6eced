"""Pages through engines, below every runner (:mod:`tightbind.ocr.runner`, ``batch``,
``isolation``, ``workers``), so that they share it without importing each other:

- :class:`EnginePool`, the one engine pool: one :class:`TessApi` per thread;
- :class:`PageResult`, what every image placement gives (:func:`~tightbind.ocr.ocr_many`'s
  threads and worker processes alike), from :func:`recognise_image`;
- :func:`page_json`, the one JSON shape of a recognised page (``tightbind ocr --format
  json`` and the batch's json documents);
- :func:`limit_resolution`, the ``max_dpi`` speed setting.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from tightbind.ocr.api import Element, TessApi
from tightbind.ocr.constants import PageIteratorLevel
from tightbind.ocr.pix import Pix, to_pix

__all__ = ["EnginePool", "PageResult", "limit_resolution", "page_json", "recognise_image"]


def limit_resolution(pix: Pix, max_dpi: int | None) -> Pix:
    """``pix`` scaled down to ``max_dpi`` when its resolution is higher, else ``pix``
    itself (also when its resolution is unknown).  A 1-bit image is made grey first, so
    the smaller copy keeps the strokes' edges."""
    if max_dpi is None:
        return pix
    x_res, y_res = pix.resolution
    if x_res <= max_dpi and y_res <= max_dpi:
        return pix
    source = pix.to_gray() if pix.depth == 1 else pix
    scaled = source.scale(max_dpi / x_res if x_res > 0 else 1.0,
                          max_dpi / y_res if y_res > 0 else max_dpi / x_res)
    scaled.resolution = (max_dpi, max_dpi)
    return scaled


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


def page_json(api: TessApi, index: int, width: int, height: int) -> dict[str, Any]:
    """The recognised page on ``api`` as JSON data: ``page`` (from 1), ``width`` and
    ``height`` (pixels), ``mean_confidence``, ``text`` and ``words`` (each with its
    text, confidence, box (left, top, right, bottom) and block, paragraph, line and word
    numbers)."""
    words = [{"text": w.text, "confidence": round(w.confidence, 3), "box": list(w.box),
              "block_num": w.block_num, "par_num": w.par_num, "line_num": w.line_num,
              "word_num": w.word_num} for w in api.results()]
    return {"page": index + 1, "width": width, "height": height,
            "mean_confidence": api.mean_text_confidence(), "text": api.get_utf8_text(),
            "words": words}


class EnginePool:
    """One :class:`TessApi` per thread, loaded on the thread's first call and reused.

    The first engine is loaded by the constructor, so a missing language fails there,
    before any worker starts.  ``close()`` frees every engine.
    """

    def __init__(self, data_path: str | os.PathLike[str] | None, language: str, *,
                 psm: int | None = None, variables: dict[str, object] | None = None,
                 max_dpi: int | None = None) -> None:
        self._args = (data_path, language)
        self._max_dpi = max_dpi
        self._kwargs: dict[str, Any] = {"psm": psm, "variables": variables}
        first = TessApi(data_path, language, psm=psm, variables=variables)
        self._spare = [first]
        self._engines = [first]
        self._lock = threading.Lock()
        self._local = threading.local()

    def engine(self) -> TessApi:
        """This thread's engine."""
        api = getattr(self._local, "api", None)
        if api is None:
            with self._lock:
                api = self._spare.pop() if self._spare else None
            if api is None:
                api = TessApi(*self._args, **self._kwargs)
                with self._lock:
                    self._engines.append(api)
            self._local.api = api
        return api

    def run(self, index: int, image: Any, timeout: float | None) -> PageResult:
        """Recognise ``image`` with this thread's engine."""
        return recognise_image(self.engine(), index, image, timeout, self._max_dpi)

    def close(self) -> None:
        with self._lock:
            for api in self._engines:
                api.close()
