"""Recognising one page of a batch, wherever it runs: a thread, a worker process that is
killed when its page overruns the deadline (:mod:`tightbind.ocr.isolation`), or a Dask
worker.

A page goes in as a small :class:`PageTask` (the file's path, never its pixels) and comes
back as a :class:`PageOutcome`: the page's part of each output format as bytes, or the
error that stopped it.  Nothing here writes into the output folder; the driver does.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tightbind.ocr._native import c_string, ffi, lib, log_messages
from tightbind.ocr.api import TessApi
from tightbind.ocr.errors import OcrError, RecognitionTimeout
from tightbind.ocr.inputs import load_page
from tightbind.ocr.pages import EnginePool, limit_resolution, page_json
from tightbind.ocr.params import catalogue
from tightbind.ocr.pdfpages import orient_page, prepare_page
from tightbind.ocr.pdftext import layer_words, layout_text_page

__all__ = ["EngineOptions", "PageOutcome", "PageTask", "PageTimeout", "check_max_dpi",
           "hard_deadline",
           "limit_resolution", "no_invert_variables", "recognise_page", "speed_variables"]

#: The formats a batch writes, and each one's file extension.
FORMAT_EXTENSIONS = {"txt": "txt", "hocr": "hocr", "tsv": "tsv", "alto": "xml",
                     "json": "json", "pdf": "pdf"}


def no_invert_variables() -> dict[str, str]:
    """The Tesseract variable that turns off its retry of every text line as inverted
    (white on black) text: ``tessedit_do_invert=0`` where the library has it (5.3),
    else ``invert_threshold=0`` (5.4 and later, which dropped the former)."""
    if "tessedit_do_invert" in catalogue():
        return {"tessedit_do_invert": "0"}
    return {"invert_threshold": "0"}


def speed_variables(variables: Mapping[str, object] | None, invert: bool) -> dict[str, object]:
    """``variables`` plus the inverted-text switch when ``invert`` is False (a value the
    caller gave for the same variable wins)."""
    merged: dict[str, object] = {} if invert else dict(no_invert_variables())
    merged.update(variables or {})
    return merged


def check_max_dpi(max_dpi: object) -> None:
    """ValueError unless ``max_dpi`` is None or an int from 50 to 2400."""
    if max_dpi is not None and (isinstance(max_dpi, bool) or not isinstance(max_dpi, int)
                                or not 50 <= max_dpi <= 2400):
        raise ValueError(f"max_dpi must be None or an int from 50 to 2400: {max_dpi!r}")


@dataclass(frozen=True)
class EngineOptions:
    """How every engine of a batch is made: language, tessdata folder, page segmentation
    mode and Tesseract variables (a tuple of (name, value) pairs)."""

    language: str = "eng"
    data_path: str | None = None
    psm: int | None = None
    variables: tuple[tuple[str, str], ...] = ()

    def engine(self) -> TessApi:
        return TessApi(self.data_path, self.language, psm=self.psm,
                       variables=dict(self.variables) or None)


@dataclass(frozen=True)
class PageTask:
    """Page ``index`` (from 0) of the ``kind`` file at ``path``, to be written in
    ``formats``; PDF pages rendered at ``dpi``; recognition stopped after ``timeout`` s;
    pages above ``max_dpi`` (their own resolution, or ``dpi`` for PDF pages) scaled
    down to it first."""

    path: str
    kind: str
    index: int
    formats: tuple[str, ...]
    dpi: int = 300
    timeout: float | None = None
    options: EngineOptions = field(default_factory=EngineOptions)
    max_dpi: int | None = None
    location: int | None = None  # a TIFF page's directory offset
    pdf_text: str = "skip"
    rotate_pages: bool = False


@dataclass(frozen=True)
class PageOutcome:
    """A page's parts (format -> bytes) and seconds, or its error class and message;
    ``dpi`` when a PDF page was rendered below the asked resolution to fit the pixel
    limit."""

    index: int
    seconds: float
    parts: dict[str, bytes] | None = None
    error_class: str | None = None
    error_message: str | None = None
    dpi: int | None = None
    notes: dict[str, object] | None = None

    @property
    def ok(self) -> bool:
        return self.parts is not None


def _pdf_page(api: TessApi, textonly: bool = False) -> bytes:
    """The recognised page as a one-page searchable PDF, through Tesseract's renderer
    (``textonly``: its invisible text layer alone, to graft over the original)."""
    datadir = c_string(api.data_path, "data_path")
    with tempfile.TemporaryDirectory(prefix="tightbind-page-") as folder:
        base = os.path.join(folder, "page")
        renderer = lib.TessPDFRendererCreate(c_string(base, "outputbase"), datadir,
                                             1 if textonly else 0)
        if renderer == ffi.NULL:
            raise OcrError("cannot create the pdf renderer")
        try:
            with api.native() as handle:
                ok = (lib.TessResultRendererBeginDocument(renderer, b"")
                      and lib.TessResultRendererAddImage(renderer, handle)
                      and lib.TessResultRendererEndDocument(renderer))
            log_messages()
        finally:
            lib.TessDeleteResultRenderer(renderer)
        if not ok:
            raise OcrError("Tesseract could not write the page's PDF")
        with open(base + ".pdf", "rb") as file:
            return file.read()


def recognise_page(api: TessApi, task: PageTask) -> PageOutcome:
    """Read, recognise and render one page with ``api``; every failure is returned as
    the outcome's error, never raised."""
    started = time.monotonic()
    try:
        notes: dict[str, object] | None = None
        rendered = None
        if task.kind == "pdf":  # at the page's own resolution; pages with text per pdf_text
            prepared = prepare_page(task.path, task.index, dpi=task.dpi,
                                    max_dpi=task.max_dpi, mode=task.pdf_text)
            notes = {"pdf": prepared.notes(task.pdf_text)}
            if prepared.dpi < prepared.planned:  # the pixel cap bit
                rendered = prepared.dpi
            if prepared.pix is None:
                return PageOutcome(task.index, time.monotonic() - started,
                                   prepared.skipped_parts(task.formats, task.index),
                                   dpi=rendered, notes=notes)
            pix = prepared.pix
        else:
            pix = limit_resolution(load_page(task.path, task.kind, task.index, task.dpi,
                                             task.location), task.max_dpi)
        if task.rotate_pages:
            pix, turned = orient_page(api, pix)
            notes = notes or {"pdf": {}}
            notes["pdf"]["rotate"] = turned  # type: ignore[index]
        api.set_image_pix(pix)
        if pix.resolution[0] <= 0:
            api.set_source_resolution(task.dpi)
        api.recognize(timeout=task.timeout)
        parts: dict[str, bytes] = {}
        for fmt in task.formats:
            if fmt == "txt":
                parts[fmt] = api.get_utf8_text().encode()
            elif fmt == "hocr":
                parts[fmt] = api.get_hocr_text(task.index).encode()
            elif fmt == "tsv":
                parts[fmt] = api.get_tsv_text(task.index).encode()
            elif fmt == "alto":
                parts[fmt] = api.get_alto_text(task.index).encode()
            elif fmt == "json":
                parts[fmt] = json.dumps(page_json(api, task.index, pix.width, pix.height),
                                        ensure_ascii=False).encode()
            elif fmt == "pdf":
                parts[fmt] = layout_text_page(_pdf_page(api, textonly=True),
                                              layer_words(api), pix.width, pix.height)
            else:
                raise ValueError(f"unknown output format {fmt!r}")
    except Exception as exc:  # a page's failure is recorded, never ends the run
        return PageOutcome(task.index, time.monotonic() - started,
                           error_class=type(exc).__name__, error_message=str(exc))
    return PageOutcome(task.index, time.monotonic() - started, parts, dpi=rendered,
                       notes=notes)


# ---- Dask workers: one engine per worker thread, loaded on its first page ----------------

_POOLS: dict[EngineOptions, EnginePool] = {}
_POOLS_LOCK = threading.Lock()


def thread_engine(options: EngineOptions) -> TessApi:
    """This thread's engine for ``options``, from this process's one :class:`EnginePool`
    for them (the Dask placement's engines; loaded once, kept for the thread's life)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(options)
        if pool is None:
            pool = _POOLS[options] = EnginePool(
                options.data_path, options.language, psm=options.psm,
                variables=dict(options.variables) or None)
    return pool.engine()


def dask_page(task: PageTask) -> PageOutcome:
    """The task a Dask worker runs for one page."""
    return recognise_page(thread_engine(task.options), task)


# ---- worker processes (tightbind.ocr.isolation) ------------------------------------------

class PageTimeout(RecognitionTimeout):
    """A page's worker process overran the page deadline and was killed."""


def hard_deadline(timeout: float) -> float:
    """The seconds after which a worker process is killed: the recognition deadline
    plus time to read and render the page (half the deadline, at least 2 s)."""
    return timeout + max(2.0, timeout / 2)


Runner = Callable[[PageTask], PageOutcome]
