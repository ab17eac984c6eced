"""``ocr_many``: recognise many images with one engine per worker thread."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from tightbind.ocr.api import Element, TessApi
from tightbind.ocr.constants import PageIteratorLevel
from tightbind.ocr.deadline import SLACK, deadline_ms
from tightbind.ocr.errors import RecognitionTimeout
from tightbind.ocr.progress import Progress
from tightbind.ocr.workers import ProcessPool

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

    def run(self, index: int, image: Any, timeout: float | None) -> PageResult:
        """Recognise ``image`` with this thread's engine."""
        api = self.engine()
        api.set_image(image)
        api.recognize(timeout=timeout)
        return PageResult(index, api.get_utf8_text(), api.results(PageIteratorLevel.WORD),
                          api.mean_text_confidence())

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
    isolate: bool = False,
) -> Iterator[PageResult]:
    """Recognise ``images`` (paths, bytes, Pillow images, numpy arrays or Pix) and yield
    a :class:`PageResult` for each, in input order.

    ``workers`` threads (default: the number of CPUs) each load one engine once and
    reuse it for every image they take; at most ``2 * workers`` images are in flight,
    so a long iterable is consumed lazily.  ``progress=True`` shows progress on stderr
    (a tqdm bar on a terminal when tqdm is installed, else a plain line every 10 s).
    Bad arguments and a missing language raise here, at the call; the first failing
    image (ImageError, RecognitionTimeout...) raises from the iteration.  With a
    ``timeout``, each result arrives within ``timeout`` + ``deadline.SLACK`` (0.5 s) of
    being asked for, or RecognitionTimeout is raised: work still running then is left to
    finish in the background (see :mod:`tightbind.ocr.deadline`), and the engines are
    freed when it has.

    ``isolate=True`` recognises each image in a worker process instead of a thread
    (:mod:`tightbind.ocr.workers`): one that overruns ``timeout`` is killed and replaced,
    so abandoned work uses no CPU, and one that crashes costs its image (OcrError), not
    the program.  Workers take about a second to start (all at once, at the call; a
    replacement before the next image; deadlines count from when a worker is ready).
    """
    deadline_ms(timeout)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int: {workers!r}")
    engines: EnginePool | ProcessPool
    if isolate:
        # Load one engine here so that a missing language or bad variable raises now.
        TessApi(data_path, language, psm=psm, variables=variables).close()
        engines = ProcessPool({"data_path": data_path, "language": language, "psm": psm,
                               "variables": variables}, workers)
    else:
        engines = EnginePool(data_path, language, psm=psm, variables=variables)
    return _results(images, engines, workers, timeout, progress)


def _results(images: Iterable[Any], engines: EnginePool | ProcessPool, workers: int,
             timeout: float | None, progress: bool) -> Iterator[PageResult]:
    def work(index: int, image: Any) -> PageResult:
        return engines.run(index, image, timeout)  # type: ignore[no-any-return]

    try:
        total = len(images)  # type: ignore[arg-type]
    except TypeError:
        total = None

    def next_result() -> PageResult:
        future = pending.popleft()
        try:
            result = future.result(timeout=None if timeout is None else timeout + SLACK)
        except FutureTimeout:
            if future.done():  # the work's own RecognitionTimeout (a TimeoutError too)
                raise
            raise RecognitionTimeout(f"image {index_of[future]} did not finish within "
                                     f"{timeout} s") from None
        bar.update()
        return result

    bar = Progress(total, enabled=progress)
    pending: deque[Future[PageResult]] = deque()
    index_of: dict[Future[PageResult], int] = {}
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tightbind-ocr")
    finished = False
    try:
        for index, image in enumerate(images):
            future = pool.submit(work, index, image)
            index_of[future] = index
            pending.append(future)
            while len(pending) >= 2 * workers:
                yield next_result()
        while pending:
            yield next_result()
        finished = True
    finally:
        bar.close()
        pool.shutdown(wait=finished, cancel_futures=True)
        if finished:
            engines.close()
        else:  # do not wait for work still running: free the engines once it ends
            def cleanup() -> None:
                pool.shutdown(wait=True)
                engines.close()

            threading.Thread(target=cleanup, name="tightbind-ocr-cleanup", daemon=True).start()
