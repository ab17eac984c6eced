"""The one runner behind every way of recognising many pages.

:func:`~tightbind.ocr.ocr_many` (images in memory), :func:`~tightbind.ocr.batch.run_batch`
and ``tightbind ocr`` (with or without ``--out``) all hand their pages to a runner made by
:func:`make_runner` and take results back from it.  A runner has one shape, whatever its
placement:

- ``submit(task, name)`` returns a future; ``wait(futures)`` returns the finished ones
  (at least one); ``result(future)`` is a finished one's value (raising what the task
  raised, or, for the placement itself failing, the placement's own error);
  ``capacity`` is how many tasks may be in flight (two per worker, so inputs are read
  lazily); ``close()`` frees what the placement holds.

Three placements:

- **threads** (the default): ``workers`` threads, each with its own engine from one
  :class:`~tightbind.ocr.pages.EnginePool`, loaded on the thread's first page;
- **worker processes** (``isolate=True``): the same count of child processes
  (:mod:`tightbind.ocr.isolation`), each with its own engine; one whose page overruns its
  deadline is killed and replaced, one that crashes costs its page, not the program;
- **Dask** (``client=``): pages as tasks on a cluster
  (:class:`~tightbind.ocr.cluster.DaskRunner`); each worker thread keeps an engine from
  its process's pool.

Isolation is asked for one way, ``isolate=True``.  (``run_batch`` and ``tightbind ocr
--out`` keep their older rule too: a ``page_timeout`` without ``isolate=False`` means
worker processes, because only a process can be stopped inside Tesseract's layout
analysis.)  Every runner gives the same results: :class:`~tightbind.ocr.pages.PageResult`
for images, :class:`~tightbind.ocr.workers.PageOutcome` for batch pages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from tightbind.ocr.cluster import DaskRunner
from tightbind.ocr.isolation import ProcessPages
from tightbind.ocr.pages import EnginePool
from tightbind.ocr.workers import EngineOptions, hard_deadline, recognise_page

__all__ = ["Runner", "engine_pool", "make_runner"]


class Runner:
    """``work(task)`` on ``workers`` threads (the threads and worker-process placements:
    a process placement's ``work`` hands the task to the calling thread's process);
    ``closing()`` frees the engines or processes when the runner closes."""

    def __init__(self, work: Callable[..., Any], workers: int,
                 closing: Callable[[], None]) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tightbind-ocr")
        self._work = work
        self._closing = closing
        self.capacity = 2 * workers

    def submit(self, task: Any, name: str = "") -> Future[Any]:
        return self._pool.submit(self._work, task)

    def wait(self, futures: Iterable[Any]) -> set[Any]:
        return wait(futures, return_when=FIRST_COMPLETED).done

    def result(self, future: Future[Any]) -> Any:
        return future.result()

    def close(self, *, wait: bool = True) -> None:
        """Free the placement.  ``wait=False``: return at once, leaving work still
        running (past its deadline) to finish in the background; the engines are freed
        when it has."""
        self._pool.shutdown(wait=wait, cancel_futures=True)
        if wait:
            self._closing()
            return

        def cleanup() -> None:
            self._pool.shutdown(wait=True)
            self._closing()

        threading.Thread(target=cleanup, name="tightbind-ocr-cleanup", daemon=True).start()


def engine_pool(options: EngineOptions, max_dpi: int | None = None) -> EnginePool:
    """The threads placement's engines for ``options`` (the first loaded now, so that a
    missing language raises here)."""
    return EnginePool(options.data_path, options.language, psm=options.psm,
                      variables=dict(options.variables) or None, max_dpi=max_dpi)


def make_runner(options: EngineOptions, workers: int, *, isolate: bool = False,
                page_timeout: float | None = None, client: Any = None,
                connect_timeout: float = 30.0) -> Runner | DaskRunner:
    """The runner for batch pages (:class:`~tightbind.ocr.workers.PageTask` in,
    :class:`~tightbind.ocr.workers.PageOutcome` out) in the placement asked for: Dask
    with ``client``, worker processes with ``isolate`` (killed ``hard_deadline`` after a
    page's start when it overruns ``page_timeout``), else threads."""
    if client is not None:
        return DaskRunner(client, connect_timeout)
    if isolate:
        processes = ProcessPages(options, workers, hard_deadline(page_timeout)
                                 if page_timeout is not None else None)
        return Runner(processes.run, workers, processes.close)
    engines = engine_pool(options)
    return Runner(lambda task: recognise_page(engines.engine(), task), workers, engines.close)
