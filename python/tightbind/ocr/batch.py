"""``ocr_many``: recognise many images with one engine per worker thread."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from tightbind.ocr.api import Element, TessApi
from tightbind.ocr.constants import PageIteratorLevel
from tightbind.ocr.progress import Progress

__all__ = ["EnginePool", "PageResult", "ocr_many"]


class EnginePool:
    """One :class:`TessApi` per thread, loaded on the thread's first call and reused.

    The first engine is loaded by the constructor, so a missing language fails there,
    before any worker starts.  ``close()`` frees every engine.
    """

    def __init__(self, data_path: str | os.PathLike[str] | None, language: str, *,
                 psm: int | None = None, variables: dict[str, object] | None = None) -> None:
        self._args = (data_path, language)
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

    def close(self) -> None:
        with self._lock:
            for api in self._engines:
                api.close()


@dataclass(frozen=True)
class PageResult:
    """What :func:`ocr_many` yields per image: its position in the input, its text, its
    words (with boxes and confidences) and the mean word confidence."""

    index: int
    text: str
    words: list[Element]
    mean_confidence: int


def ocr_many(
    images: Iterable[Any],
    *,
    workers: int | None = None,
    language: str = "eng",
    data_path: str | os.PathLike[str] | None = None,
    psm: int | None = None,
    variables: dict[str, object] | None = None,
    timeout: float | None = None,
    progress: bool = False,
) -> Iterator[PageResult]:
    """Recognise ``images`` (paths, bytes, Pillow images, numpy arrays or Pix) and yield
    a :class:`PageResult` for each, in input order.

    ``workers`` threads (default: the number of CPUs) each load one engine once and
    reuse it for every image they take; at most ``2 * workers`` images are in flight,
    so a long iterable is consumed lazily.  ``progress=True`` shows progress on stderr
    (a tqdm bar on a terminal when tqdm is installed, else a plain line every 10 s).
    Bad arguments and a missing language raise here, at the call; the first failing
    image (ImageError, RecognitionTimeout...) raises from the iteration.
    """
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int: {workers!r}")
    engines = EnginePool(data_path, language, psm=psm, variables=variables)
    return _results(images, engines, workers, timeout, progress)


def _results(images: Iterable[Any], engines: EnginePool, workers: int,
             timeout: float | None, progress: bool) -> Iterator[PageResult]:
    engine = engines.engine

    def work(index: int, image: Any) -> PageResult:
        api = engine()
        api.set_image(image)
        api.recognize(timeout=timeout)
        return PageResult(index, api.get_utf8_text(), api.results(PageIteratorLevel.WORD),
                          api.mean_text_confidence())

    try:
        total = len(images)  # type: ignore[arg-type]
    except TypeError:
        total = None
    bar = Progress(total, enabled=progress)
    pending: deque[Future[PageResult]] = deque()
    try:
        with ThreadPoolExecutor(max_workers=workers,
                                thread_name_prefix="tightbind-ocr") as pool:
            try:
                for index, image in enumerate(images):
                    pending.append(pool.submit(work, index, image))
                    while len(pending) >= 2 * workers:
                        result = pending.popleft().result()
                        bar.update()
                        yield result
                while pending:
                    result = pending.popleft().result()
                    bar.update()
                    yield result
            finally:
                for future in pending:
                    future.cancel()
    finally:
        bar.close()
        engines.close()
