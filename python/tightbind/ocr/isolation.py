"""Worker processes: images (``ocr_many(isolate=True)``) and batch pages
(``run_batch(page_timeout=...)``) recognised in child processes with an engine each,
killed and replaced when one overruns its deadline (so an abandoned layout analysis uses
no more CPU) or when one dies (so a crash in a native library costs one page, not the
program).

Children are new interpreters (``python -c``, not a fork, which would copy Tesseract's
and OpenMP's threads in an unknown state, nor multiprocessing's spawn, which re-imports
the caller's main module) and cost about a second each to start, loading their engine
meanwhile; messages travel through a socket pair.  An image goes as it is (encoded
bytes, a path, a numpy array or Pillow image; a Pix as PNG) and comes back as a
``PageResult``; a batch page goes as a ``PageTask`` (its file's path) and comes back as a
``PageOutcome``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from tightbind.ocr import errors
from tightbind.ocr.deadline import GRACE
from tightbind.ocr.errors import OcrError, RecognitionTimeout
from tightbind.ocr.pages import recognise_image
from tightbind.ocr.workers import EngineOptions, PageOutcome, PageTask, PageTimeout

__all__ = ["ProcessPages", "ProcessPool", "WorkerDied", "WorkerProcess"]

# Exceptions rebuilt from their class name and message in the parent.
_REBUILT = {name: getattr(errors, name) for name in errors.__all__
            if name != "LanguageNotFound"}

#: Seconds a new worker may take to start and load its engine.
START_TIMEOUT = 120.0


class WorkerDied(OcrError):
    """A worker process ended while it held a page (or before it was ready)."""


def _options(engine: EngineOptions | dict[str, Any]) -> EngineOptions:
    if isinstance(engine, EngineOptions):
        return engine
    variables = engine.get("variables") or {}
    return EngineOptions(engine.get("language", "eng"), engine.get("data_path"),
                         engine.get("psm"),
                         tuple(sorted((str(k), str(v)) for k, v in variables.items())))


def _image_reply(api: Any, message: tuple[Any, ...]) -> Any:
    index, image, timeout, max_dpi = message
    try:
        # Tesseract's own deadline only: the parent kills this process if the layout
        # analysis overruns, instead of leaving it to run in a thread here.
        return ("ok", recognise_image(api, index, image, timeout, max_dpi, watched=False))
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc))


def serve(descriptor: int) -> None:  # pragma: no cover (a child; measured there)
    """The child: the engine's options, then one image or page per message until None
    or the socket closes."""
    from tightbind.ocr.workers import recognise_page

    connection = Connection(descriptor)
    options: EngineOptions = connection.recv()
    try:
        api = options.engine()
    except Exception as exc:
        connection.send(("error", type(exc).__name__, str(exc)))
        return
    connection.send("ready")
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        if isinstance(message, PageTask):
            connection.send(("ok", recognise_page(api, message)))  # never raises
        else:
            connection.send(_image_reply(api, message))


class WorkerProcess:
    """One child process with one engine; :meth:`run` an image, :meth:`run_page` a
    batch page, one at a time.  ``engine`` is an :class:`EngineOptions` (or a dict of
    its fields)."""

    def __init__(self, engine: EngineOptions | dict[str, Any],
                 start_timeout: float = START_TIMEOUT) -> None:
        self._options = _options(engine)
        self._start_timeout = start_timeout
        self._process: Any = None
        self._connection: Any = None
        self._ready = False
        self._start()

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def _start(self) -> None:
        ours, theirs = socket.socketpair()
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, sys.path))}
        self._process = subprocess.Popen(
            [sys.executable, "-c", "from tightbind.ocr.isolation import serve; "
             f"serve({theirs.fileno()})"], pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=environment)
        theirs.close()
        self._connection = Connection(ours.detach())
        self._connection.send(self._options)
        self._ready = False

    def wait_ready(self) -> None:
        """Wait until the child has loaded its engine (it starts doing so at once); a
        page's deadline counts from then.  The engine's own error (LanguageNotFound's
        message as OcrError) when it could not load, WorkerDied when the child died or
        did not start within ``start_timeout`` seconds (it is then replaced)."""
        if self._ready:
            return
        try:
            message = (self._connection.recv()
                       if self._connection.poll(self._start_timeout) else None)
        except (EOFError, OSError):
            raise WorkerDied(f"a worker process died while loading its engine "
                             f"({self._replace()})") from None
        if message == "ready":
            self._ready = True
            return
        if message is None:
            raise WorkerDied(f"a worker process did not start within {self._start_timeout:g}"
                             f" s ({self._replace()})")
        _kind, name, text = message
        self._stop()
        raise _REBUILT.get(name, OcrError)(f"a worker process could not load its engine: "
                                           f"{text}")

    def _stop(self) -> str:
        """Kill the child (if alive); say how it ended."""
        process, self._process = self._process, None
        process.kill()
        ended = process.wait()
        self._connection.close()
        return f"exit status {ended}" if ended >= 0 else f"signal {-ended}"

    def _replace(self) -> str:
        """Kill the child (if alive) and start another; say how the old one ended."""
        how = self._stop()
        self._start()
        return how

    def _request(self, message: Any, seconds: float | None, what: str) -> Any:
        """Send ``message`` and return the reply, or None when none came within
        ``seconds`` (the child is then killed and replaced); WorkerDied when the child
        died meanwhile (replaced too)."""
        if self._process is None:
            self._start()
        self.wait_ready()
        try:
            self._connection.send(message)
            if self._connection.poll(seconds):
                return self._connection.recv()
        except (EOFError, OSError):
            raise WorkerDied(f"{what}: the worker process died ({self._replace()}); a new "
                             f"one takes the next") from None
        self._replace()
        return None

    def run(self, index: int, image: Any, timeout: float | None,
            max_dpi: int | None = None) -> Any:
        """The PageResult of ``image``, or the exception the child raised for it;
        RecognitionTimeout after ``timeout`` + GRACE (the child is killed and replaced),
        WorkerDied (an OcrError) when the child died."""
        from tightbind.ocr.pix import Pix

        if isinstance(image, Pix):
            image = image.to_png()
        elif isinstance(image, os.PathLike):
            image = os.fspath(image)
        reply = self._request((index, image, timeout, max_dpi),
                              None if timeout is None else timeout + GRACE, f"image {index}")
        if reply is None:
            raise RecognitionTimeout(f"image {index} did not finish within {timeout} s; its "
                                     "worker process was killed and replaced")
        if reply[0] == "ok":
            return reply[1]
        _kind, name, message = reply
        raise _REBUILT.get(name, OcrError)(message)

    def run_page(self, task: PageTask, deadline: float | None) -> PageOutcome:
        """``task``'s outcome, never raised: a PageTimeout one when the page overran
        ``deadline`` seconds (the child is killed and replaced), a WorkerDied one when
        the child died."""
        started = time.monotonic()
        try:
            reply = self._request(task, deadline, f"page {task.index + 1}")
        except OcrError as exc:
            return PageOutcome(task.index, time.monotonic() - started,
                               error_class=type(exc).__name__, error_message=str(exc))
        if reply is None:
            return PageOutcome(task.index, time.monotonic() - started,
                               error_class=PageTimeout.__name__,
                               error_message=f"page {task.index + 1} did not finish within "
                               f"{deadline:g} s; its worker process was killed")
        outcome: PageOutcome = reply[1]
        return outcome

    def close(self) -> None:
        if self._process is None:
            return
        with contextlib.suppress(OSError):
            self._connection.send(None)
        try:
            self._process.wait(2)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._connection.close()
        self._process = None


class ProcessPool:
    """``count`` :class:`WorkerProcess` started at once (they load while the first
    pages are read), one per calling thread: ``run`` for ``ocr_many``, ``run_page`` for
    ``run_batch``; ``close`` ends them all."""

    def __init__(self, engine: EngineOptions | dict[str, Any], count: int, *,
                 max_dpi: int | None = None, start_timeout: float = START_TIMEOUT) -> None:
        self._max_dpi = max_dpi
        self._workers = [WorkerProcess(engine, start_timeout) for _ in range(count)]
        self._spare = list(self._workers)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._closed = False

    @property
    def pids(self) -> list[int | None]:
        return [worker.pid for worker in self._workers]

    def _worker(self) -> WorkerProcess:
        worker: WorkerProcess | None = getattr(self._local, "worker", None)
        if worker is None:
            with self._lock:
                if self._closed:
                    raise OcrError("the worker processes were closed")
                worker = self._local.worker = self._spare.pop()
        return worker

    def run(self, index: int, image: Any, timeout: float | None) -> Any:
        return self._worker().run(index, image, timeout, self._max_dpi)

    def run_page(self, task: PageTask, deadline: float | None) -> PageOutcome:
        return self._worker().run_page(task, deadline)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for worker in self._workers:
                worker.close()


class ProcessPages(ProcessPool):
    """Batch pages in ``workers`` worker processes: :meth:`run` sends a page to the
    calling thread's worker and waits at most ``deadline`` seconds; a worker that
    overruns (a page hanging inside native code) is killed and replaced and the page
    comes back as a ``PageTimeout``.  A missing language raises here, at the start."""

    def __init__(self, options: EngineOptions, workers: int, deadline: float | None,
                 start_timeout: float = START_TIMEOUT) -> None:
        super().__init__(options, workers, start_timeout=start_timeout)
        self._deadline = deadline
        try:
            self._workers[0].wait_ready()
        except BaseException:
            self.close()
            raise

    def run(self, task: PageTask) -> PageOutcome:  # type: ignore[override]
        return self.run_page(task, self._deadline)
