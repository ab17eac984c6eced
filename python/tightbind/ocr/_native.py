"""Load ``tightbind._ocr`` with OpenMP limited to one thread; ``check()``; native messages.

Debian's Tesseract is built with OpenMP.  libgomp reads ``OMP_THREAD_LIMIT`` once, when
it is loaded (which happens when ``tightbind._ocr`` is imported), and on a small machine
Tesseract's parallel loops then cost far more than they save (a page of phototest.tif
takes about 8x longer on 2 cores).  Unless the user has set ``OMP_THREAD_LIMIT``
themselves, it is set to ``1`` while the extension loads and removed again afterwards,
so child processes keep their own defaults.  Parallelism comes from running separate
engines in threads instead (cffi releases the GIL around every call).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from tightbind._native import Failures, checker, load
from tightbind.ocr.errors import (
    ImageError,
    InvalidArgument,
    NotRecognized,
    OcrError,
    OutOfMemory,
    RecognitionCancelled,
    RecognitionTimeout,
)

log = logging.getLogger("tightbind.ocr")

OMP_ENV = "OMP_THREAD_LIMIT"
OMP_DEFAULTED = OMP_ENV not in os.environ
"""True when tightbind set ``OMP_THREAD_LIMIT=1`` while Tesseract loaded."""

_module = load("ocr", default_env={OMP_ENV: "1"})
ffi = _module.ffi
lib = _module.lib

# What each status code raises, and the sentence after "<what>: ".
FAILURES: Failures = {
    lib.TB_E_NOMEM: (OutOfMemory, "out of memory"),
    lib.TB_E_ARG: (InvalidArgument, "invalid argument"),
    lib.TB_OCR_E_FAILED: (OcrError, "Tesseract or Leptonica reported a failure"),
    lib.TB_OCR_E_CANCELLED: (RecognitionCancelled, "cancelled by cancel()"),
    lib.TB_OCR_E_TIMEOUT: (RecognitionTimeout, "the deadline passed before it finished"),
    lib.TB_OCR_E_NO_RESULT: (NotRecognized, "there is no recognized page: call recognize()"),
    lib.TB_OCR_E_TOO_LARGE: (ImageError, "the image is larger than MAX_IMAGE_PIXELS allows "
                             "(set tightbind.ocr.MAX_IMAGE_PIXELS higher to read it)"),
    lib.TB_OCR_E_IMAGE: (ImageError, "the image data is damaged or truncated"),
    lib.TB_OCR_E_FORMAT: (ImageError, "not an image format tightbind reads (PNG, JPEG, TIFF, "
                          "BMP, PNM, GIF, WebP, JPEG 2000)"),
}
check = checker(FAILURES, unexpected=OcrError)

# Leptonica writes to stderr by default; catch its messages per thread instead.
lib.tb_ocr_capture_messages()

if OMP_DEFAULTED and lib.tb_ocr_openmp_thread_limit() > 1:
    log.warning(
        "OpenMP was loaded before tightbind.ocr, so Tesseract may use %d threads per "
        "page, which is slow on few cores; set OMP_THREAD_LIMIT=1 in the environment "
        "before starting Python", lib.tb_ocr_openmp_thread_limit())

_MESSAGE_CAPACITY = 4096
_local = threading.local()


def take_messages() -> str:
    """Return (and clear) the Leptonica messages this thread has produced so far."""
    buffer = getattr(_local, "buffer", None)
    if buffer is None:
        buffer = _local.buffer = ffi.new("char[]", _MESSAGE_CAPACITY)
    length = lib.tb_ocr_take_messages(buffer, _MESSAGE_CAPACITY)
    if not length:
        return ""
    return ffi.string(buffer, length).decode("utf-8", "replace").strip()


def log_messages(level: int = logging.INFO) -> str:
    """Drain this thread's Leptonica messages into the ``tightbind.ocr`` logger."""
    text = take_messages()
    for line in text.splitlines():
        if line.strip():
            log.log(level, "leptonica: %s", line.strip())
    return text


def openmp_thread_limit() -> int | None:
    """OpenMP's thread limit in this process, or None when no OpenMP runtime is loaded."""
    limit = lib.tb_ocr_openmp_thread_limit()
    return None if limit < 0 else int(limit)


def c_string(value: str | os.PathLike[str], what: str) -> bytes:
    """``value`` (str or path) as bytes for a ``char *`` argument; TypeError for other types
    and ValueError for a NUL character, which C would read as the end of the string."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if "\0" in value:
        raise ValueError(f"{what} contains a NUL character")
    return value.encode()


def take_text(ptr: Any, what: str) -> str:
    """Copy and free a string Tesseract allocated (TessDeleteText)."""
    if ptr == ffi.NULL:
        raise OcrError(f"Tesseract returned no {what}")
    try:
        return ffi.string(ptr).decode("utf-8", "replace")
    finally:
        lib.TessDeleteText(ptr)


def take_string_array(ptr: Any) -> list[str]:
    """Copy and free a NULL-terminated string array (TessDeleteTextArray)."""
    if ptr == ffi.NULL:
        return []
    try:
        out = []
        index = 0
        while ptr[index] != ffi.NULL:
            out.append(ffi.string(ptr[index]).decode("utf-8", "replace"))
            index += 1
        return out
    finally:
        lib.TessDeleteTextArray(ptr)
