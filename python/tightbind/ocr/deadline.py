"""Deadlines for OCR calls that take a ``timeout``.

Tesseract checks its deadline only between words.  Layout analysis, which comes first,
cannot be interrupted, and on a large or noisy page it runs for many seconds.  So a call
with a timeout runs the native work in a helper thread and waits at most ``timeout`` plus
:data:`GRACE`; if the work is still running then, the call raises
:class:`RecognitionTimeout` at once and *abandons* the work: the helper thread finishes
the layout stage alone (Tesseract's cancel flag stops it at its first check afterwards),
then frees the engine it ran on.  The :class:`TessApi` that started it continues with a
fresh engine of the same settings, loaded on its next call.  Every timeout-taking call
therefore returns within ``timeout`` + :data:`SLACK` whatever the page holds (time spent
waiting for that fresh engine counts); the CPU the abandoned layout stage still uses, for
as long as the layout takes, is the price.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from tightbind.ocr._native import ffi
from tightbind.ocr.errors import RecognitionTimeout

__all__ = ["GRACE", "SLACK", "Reload", "deadline_ms", "run_bounded"]

#: Seconds a native call may run past its timeout before it is abandoned (Tesseract's own
#: deadline check stops recognition between words well within this).
GRACE = 0.1
#: The documented bound: a call with ``timeout=t`` returns within ``t + SLACK`` seconds.
SLACK = 0.5


def deadline_ms(timeout: float | None) -> int:
    """``timeout`` (seconds, or None for none) as Tesseract's milliseconds (0 for none).

    The one check every timeout-taking call uses: ValueError unless ``timeout`` is None or
    a positive, finite number of seconds below 2**31 ms.
    """
    if timeout is None:
        return 0
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or not timeout > 0 or math.isinf(timeout):
        raise ValueError(f"timeout must be a positive number of seconds: {timeout!r}")
    milliseconds = max(1, math.ceil(timeout * 1000))
    if milliseconds >= 1 << 31:
        raise ValueError(f"timeout is too large: {timeout!r}")
    return milliseconds


def run_bounded(work: Callable[[], Any], timeout: float, *,
                abandoned: Callable[[], None]) -> tuple[bool, Any]:
    """Run ``work()`` (a native call that releases the GIL) in a helper thread and wait
    up to ``timeout + GRACE`` seconds.

    Returns ``(True, result)`` when it finished, else ``(False, None)`` at once, leaving
    the helper to finish; ``abandoned()`` then runs in the helper thread after ``work()``
    returns (to cancel nothing further and free what the work used).
    """
    lock = threading.Lock()
    finished = threading.Event()
    state: dict[str, Any] = {"given_up": False}

    def helper() -> None:
        result: Any = None
        try:
            result = work()
        finally:
            with lock:
                state["result"] = result
                given_up = state["given_up"]
                finished.set()
            if given_up:
                abandoned()

    thread = threading.Thread(target=helper, name="tightbind-ocr-deadline", daemon=True)
    thread.start()
    finished.wait(timeout + GRACE)
    with lock:
        if finished.is_set():
            return True, state["result"]
        state["given_up"] = True
    return False, None


class Reload:
    """A fresh engine loading in a background thread (``load()``) while its owner goes
    on; :meth:`wait` for it, or :meth:`discard` it (it is freed when it arrives)."""

    def __init__(self, load: Callable[[], Any]) -> None:
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._discarded = False
        self._handle: Any = None
        self._error: BaseException | None = None

        def loader() -> None:
            try:
                handle = load()
            except BaseException as exc:  # handed to wait()
                handle, self._error = None, exc
            with self._lock:
                self._handle = handle
                discarded = self._discarded
                self._done.set()
            if discarded and handle is not None:
                ffi.release(handle)

        threading.Thread(target=loader, name="tightbind-ocr-reload", daemon=True).start()

    def wait(self, deadline: float | None) -> Any:
        """The loaded engine; RecognitionTimeout when ``deadline`` (a time.monotonic()
        value) passes first, whatever load() raised if it failed."""
        left = None if deadline is None else max(0.0, deadline - time.monotonic()) + GRACE
        if not self._done.wait(left):
            raise RecognitionTimeout("the deadline passed while the engine replacing an "
                                     "abandoned one was still loading")
        if self._error is not None:
            raise self._error
        return self._handle

    def discard(self) -> None:
        with self._lock:
            self._discarded = True
            handle, self._handle = self._handle, None
        if handle is not None:
            ffi.release(handle)
