"""Worker processes for ``ocr_many(isolate=True)``: each image is recognised in a child
process with an engine of its own, which is killed and replaced when the image overruns
its deadline (so an abandoned layout analysis uses no more CPU) or when it dies (so a
crash in a native library costs one image, not the program).

Children are new interpreters (``python -c``, not a fork, which would copy Tesseract's
and OpenMP's threads in an unknown state, nor multiprocessing's spawn, which re-imports
the caller's main module) and cost about a second each to start; images and results
travel through a socket pair (encoded bytes, paths, numpy arrays and Pillow images as
they are, a Pix as PNG).
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
from tightbind.ocr.deadline import GRACE, deadline_ms
from tightbind.ocr.errors import OcrError, RecognitionTimeout

__all__ = ["ProcessPool", "WorkerProcess"]

# Exceptions rebuilt from their class name and message in the parent.
_REBUILT = {name: getattr(errors, name) for name in errors.__all__
            if name != "LanguageNotFound"}


def serve(descriptor: int) -> None:  # pragma: no cover (a child; measured there)
    """The child: the engine's settings, then one image per message until None or the
    socket closes."""
    from tightbind.ocr.api import TessApi
    from tightbind.ocr.batch import PageResult
    from tightbind.ocr.constants import PageIteratorLevel
    from tightbind.ocr.pix import to_pix
    from tightbind.ocr.workers import limit_resolution

    connection = Connection(descriptor)
    engine = connection.recv()
    api = TessApi(engine["data_path"], engine["language"], psm=engine["psm"],
                  variables=engine["variables"])
    connection.send("ready")
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        index, image, timeout = message
        try:
            api.set_image_pix(limit_resolution(to_pix(image), engine.get("max_dpi")))
            # Tesseract's own deadline only: the parent kills this process if the layout
            # analysis overruns, instead of leaving it to run in a thread here.
            api._recognize(deadline_ms(timeout), timeout, time.monotonic(), bounded=False)
            reply: Any = ("ok", PageResult(index, api.get_utf8_text(),
                                           api.results(PageIteratorLevel.WORD),
                                           api.mean_text_confidence()))
        except Exception as exc:
            reply = ("error", type(exc).__name__, str(exc))
        connection.send(reply)


class WorkerProcess:
    """One child process serving :func:`ocr_many`; :meth:`run` one image at a time."""

    def __init__(self, engine: dict[str, Any]) -> None:
        self._engine = engine
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
        self._connection.send(self._engine)
        self._ready = False

    def wait_ready(self) -> None:
        """Wait until the child has loaded its engine (it starts doing so at once); an
        image's deadline counts from then.  OcrError when it died instead."""
        if self._ready:
            return
        try:
            self._ready = self._connection.recv() == "ready"
        except (EOFError, OSError):
            raise OcrError(f"a worker process died while loading its engine "
                           f"({self._replace()})") from None

    def _replace(self) -> str:
        """Kill the child (if alive) and start another; say how the old one ended."""
        process, self._process = self._process, None
        process.kill()
        ended = process.wait()
        self._connection.close()
        self._start()
        return f"exit status {ended}" if ended >= 0 else f"signal {-ended}"

    def run(self, index: int, image: Any, timeout: float | None) -> Any:
        """The PageResult of ``image``, or the exception the child raised for it;
        RecognitionTimeout after ``timeout`` + GRACE (the child is killed and replaced),
        OcrError when the child died."""
        from tightbind.ocr.pix import Pix

        if isinstance(image, Pix):
            image = image.to_png()
        elif isinstance(image, os.PathLike):
            image = os.fspath(image)
        self.wait_ready()
        try:
            self._connection.send((index, image, timeout))
            ready = self._connection.poll(None if timeout is None else timeout + GRACE)
            reply = self._connection.recv() if ready else None
        except (EOFError, OSError):
            raise OcrError(f"image {index}: the worker process died "
                           f"({self._replace()}); a new one takes the next image") from None
        if reply is None:
            self._replace()
            raise RecognitionTimeout(f"image {index} did not finish within {timeout} s; its "
                                     "worker process was killed and replaced")
        if reply[0] == "ok":
            return reply[1]
        _kind, name, message = reply
        raise _REBUILT.get(name, OcrError)(message)

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
    """``count`` :class:`WorkerProcess` started at once (they load while the first images
    are read), one per calling thread; the same ``run``/``close`` as
    ``batch.EnginePool``."""

    def __init__(self, engine: dict[str, Any], count: int) -> None:
        self._workers = [WorkerProcess(engine) for _ in range(count)]
        self._spare = list(self._workers)
        self._lock = threading.Lock()
        self._local = threading.local()

    def run(self, index: int, image: Any, timeout: float | None) -> Any:
        worker = getattr(self._local, "worker", None)
        if worker is None:
            with self._lock:
                worker = self._local.worker = self._spare.pop()
        return worker.run(index, image, timeout)

    def close(self) -> None:
        with self._lock:
            for worker in self._workers:
                worker.close()
