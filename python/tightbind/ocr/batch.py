"""Many pages: ``ocr_many`` (images in, results out, in memory) and ``run_batch`` (files,
folders and PDFs in, documents and a manifest out, resumable), both driving their pages
through the one runner of :mod:`tightbind.ocr.runner` (threads, worker processes or a
Dask cluster)."""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from tightbind.ocr.api import TessApi
from tightbind.ocr.cluster import DaskRunner, SchedulerLost
from tightbind.ocr.deadline import SLACK, deadline_ms
from tightbind.ocr.documents import canonical_formats
from tightbind.ocr.errors import ImageError, OcrError, RecognitionTimeout
from tightbind.ocr.inputs import (
    DEFAULT_MAX_INPUT_BYTES,
    check_names,
    describe,
    list_inputs,
    page_locations,
)
from tightbind.ocr.isolation import ProcessPool
from tightbind.ocr.pages import EnginePool, PageResult
from tightbind.ocr.pdfgraft import require_pdf_writers
from tightbind.ocr.pdfpages import PDF_TEXT_MODES
from tightbind.ocr.progress import Progress
from tightbind.ocr.runner import Runner, make_runner
from tightbind.ocr.store import OutputStore, document_key
from tightbind.ocr.workers import (
    FORMAT_EXTENSIONS,
    EngineOptions,
    PageOutcome,
    PageTask,
    check_max_dpi,
    speed_variables,
)

__all__ = ["BATCH_FORMATS", "BatchSummary", "EnginePool", "PageResult", "ocr_many",
           "run_batch"]

_UNSET: Any = object()  # ocr_many's deprecated timeout= when not given


def ocr_many(
    images: Iterable[Any],
    *,
    workers: int | None = None,
    language: str = "eng",
    data_path: str | os.PathLike[str] | None = None,
    psm: int | None = None,
    variables: dict[str, object] | None = None,
    page_timeout: float | None = None,
    progress: bool = False,
    isolate: bool = False,
    invert: bool = True,
    max_dpi: int | None = None,
    timeout: Any = _UNSET,
) -> Iterator[PageResult]:
    """Recognise ``images`` (paths, bytes, Pillow images, numpy arrays or Pix) and yield
    a :class:`PageResult` for each, in input order.

    ``workers`` threads (default: the number of CPUs) each load one engine once and
    reuse it for every image they take; at most ``2 * workers`` images are in flight,
    so a long iterable is consumed lazily.  ``progress=True`` shows progress on stderr
    (a tqdm bar on a terminal when tqdm is installed, else a plain line every 10 s).
    Bad arguments and a missing language raise here, at the call; the first failing
    image (ImageError, RecognitionTimeout...) raises from the iteration.  With a
    ``page_timeout`` (seconds; ``timeout=``, its old name, still works with a
    DeprecationWarning), each result arrives within it + ``deadline.SLACK`` (0.5 s) of
    being asked for, or RecognitionTimeout is raised: work still running then is left to
    finish in the background (see :mod:`tightbind.ocr.deadline`), and the engines are
    freed when it has.

    ``isolate=True`` recognises each image in a worker process instead of a thread
    (:mod:`tightbind.ocr.isolation`): one that overruns ``page_timeout`` is killed and
    replaced, so abandoned work uses no CPU, and one that crashes costs its image
    (OcrError), not the program.  Workers take about a second to start (all at once, at the call; a
    replacement before the next image; deadlines count from when a worker is ready).

    Speed settings (the docs' benchmarks page, "Batch OCR throughput", has what they buy
    and cost on the benchmark's pages): ``invert=False`` turns off Tesseract's retry of
    each text line as white-on-black text (loses inverted text); ``max_dpi=N`` scales
    images whose resolution is above N dpi down to N first (small print suffers first).
    """
    if timeout is not _UNSET:
        warnings.warn("ocr_many(timeout=) is now page_timeout=, as in run_batch",
                      DeprecationWarning, stacklevel=2)
        if page_timeout is not None:
            raise TypeError("give page_timeout= only (timeout= is its old name)")
        page_timeout = timeout
    deadline_ms(page_timeout)
    check_max_dpi(max_dpi)
    variables = speed_variables(variables, invert) or None
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int: {workers!r}")
    engines: EnginePool | ProcessPool
    if isolate:
        # Load one engine here so that a missing language or bad variable raises now.
        TessApi(data_path, language, psm=psm, variables=variables).close()
        engines = ProcessPool(EngineOptions(
            language, None if data_path is None else os.fspath(data_path), psm,
            tuple(sorted((str(k), str(v)) for k, v in (variables or {}).items()))),
            workers, max_dpi=max_dpi)
    else:
        engines = EnginePool(data_path, language, psm=psm, variables=variables,
                             max_dpi=max_dpi)
    return _results(images, engines, workers, page_timeout, progress)


def _results(images: Iterable[Any], engines: EnginePool | ProcessPool, workers: int,
             timeout: float | None, progress: bool) -> Iterator[PageResult]:
    def work(item: tuple[int, Any]) -> PageResult:
        return engines.run(*item, timeout)  # type: ignore[no-any-return]

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
    runner = Runner(work, workers, engines.close)
    finished = False
    try:
        for index, image in enumerate(images):
            future = runner.submit((index, image))
            index_of[future] = index
            pending.append(future)
            while len(pending) >= runner.capacity:
                yield next_result()
        while pending:
            yield next_result()
        finished = True
    finally:
        bar.close()
        # Unfinished (a deadline passed, the caller stopped): do not wait for work still
        # running; the engines are freed once it ends.
        runner.close(wait=finished)


# ---- run_batch: documents in, outputs and a manifest out, nothing lost ------------------

#: What a batch can write per document.
BATCH_FORMATS = tuple(FORMAT_EXTENSIONS)


@dataclass
class BatchSummary:
    """What :func:`run_batch` did: documents and pages recognised in this run, pages
    that failed (see ``manifest``), documents skipped as already done, and seconds."""

    output_dir: str
    manifest: str
    documents: int = 0
    pages: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def all_done(self) -> bool:
        """True when nothing was left to do: every document was already finished."""
        return self.documents == 0 and self.skipped > 0

    def describe(self) -> str:
        """One or two sentences for a person."""
        if self.all_done:
            return (f"all done: {self.skipped} documents already in {self.output_dir}, "
                    "nothing left to do")
        text = (f"{self.pages} pages of {self.documents} documents in {self.seconds:.1f} s"
                f" ({self.skipped} documents already done)")
        if self.failed:
            text += (f"; {self.failed} pages FAILED: their records in {self.manifest} "
                     "have status \"failed\" and the error")
        return text


def _fingerprint(formats: Sequence[str], dpi: int, options: EngineOptions,
                 max_dpi: int | None, pdf_text: str = "skip",
                 rotate_pages: bool = False) -> str:
    settings: dict[str, Any] = {"formats": list(formats), "dpi": dpi, "graft": 1}
    if max_dpi is not None:  # absent when unset, so earlier runs' outputs still count
        settings["max_dpi"] = max_dpi
    if pdf_text != "skip" or rotate_pages:
        settings["pdf_text"], settings["rotate_pages"] = pdf_text, rotate_pages
    described = json.dumps({**settings, "language": options.language,
                            "psm": options.psm, "variables": list(options.variables),
                            "tesseract": TessApi.version()})
    return hashlib.sha256(described.encode()).hexdigest()


def _outcome_of(runner: Runner | DaskRunner, future: Any, index: int) -> PageOutcome:
    try:
        outcome: PageOutcome = runner.result(future)
    except SchedulerLost:  # the cluster, not the page: nothing is recorded
        raise
    except Exception as exc:  # a worker lost for good (the page keeps killing it)
        return PageOutcome(index, 0.0, error_class=type(exc).__name__, error_message=str(exc))
    return outcome


def run_batch(
    inputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    formats: Sequence[str] = ("txt",),
    include: Sequence[str] | None = None,
    dpi: int = 300,
    language: str = "eng",
    data_path: str | os.PathLike[str] | None = None,
    psm: int | None = None,
    variables: dict[str, object] | None = None,
    workers: int | None = None,
    page_timeout: float | None = None,
    client: Any = None,
    progress: bool = False,
    callback: Callable[[dict[str, Any]], None] | None = None,
    invert: bool = True,
    max_dpi: int | None = None,
    max_input_bytes: int | None = DEFAULT_MAX_INPUT_BYTES,
    connect_timeout: float = 30.0,
    pdf_text: str = "skip",
    rotate_pages: bool = False,
    isolate: bool | None = None,
) -> BatchSummary:
    """Recognise every page of ``inputs`` (files; folders, recursively, their files
    matching ``include``; multi-page TIFFs; PDFs rendered at ``dpi``) and write each
    document's ``formats`` (txt (or "text"), hocr, tsv, alto, json, pdf) under ``out_dir``,
    mirroring the inputs' names, plus ``out_dir/manifest.jsonl`` (one record per page).

    A failing page is recorded and the run goes on.  Documents already done in
    ``out_dir`` (same name, content and options) are skipped, and pages done by a run
    that was killed are kept.  Pages run on ``workers`` threads (default: the CPUs) with
    one engine each; with ``isolate=True`` on as many worker processes, each killed and
    replaced when its page overruns ``page_timeout`` (seconds; ``isolate`` defaults to
    whether a ``page_timeout`` is given: ``isolate=False`` keeps a deadline on threads);
    with ``client`` (a ``distributed.Client``) as Dask tasks, the workers reading inputs
    by path (:mod:`tightbind.ocr.runner`).  At most two pages per worker are in flight.
    ``progress`` shows progress on stderr; ``callback(record)`` is called in this thread
    once per page with its input, page, status, seconds and error.  Returns a
    :class:`BatchSummary`; raises ValueError for a bad argument and OcrError
    (LanguageNotFound...) when no engine can be made.

    Speed settings, as for :func:`ocr_many`: ``invert=False`` (no inverted-text retry)
    and ``max_dpi`` (pages above it scaled down to it; PDF pages rendered at
    ``min(dpi, max_dpi)``).  Both are part of the options a re-run compares.

    Inputs are refused one by one, each with a record: anything but a regular file (a
    FIFO, device or socket is never opened to wait), and files over ``max_input_bytes``
    (default 1 GiB; None for no limit).  Two inputs that would write the same outputs
    (the same name from different folders) are a ValueError before anything runs.  Output
    names too long for the filesystem are shortened with a stable hash.  With ``client``,
    a scheduler out of reach for ``connect_timeout`` seconds mid-run raises
    :class:`~tightbind.ocr.cluster.SchedulerLost` (the pages finished are kept: the next
    run resumes); FolderBusy when another live run holds ``out_dir``.

    The searchable PDF (format "pdf") of a PDF input is the original file with an
    invisible text layer grafted onto each recognised page (:mod:`tightbind.ocr.pdfgraft`);
    a PDF page is rendered for recognition at its largest image's resolution (at most
    ``dpi``).  ``pdf_text`` says what happens to PDF pages that already have text: "skip"
    (kept as they are, their own text in txt and json), "redo" (an earlier invisible OCR
    layer replaced) or "force" (rasterised and OCRed).  ``rotate_pages`` turns pages
    lying sideways or upside down (Tesseract's orientation detection).
    """
    started = time.monotonic()
    sources = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    formats = canonical_formats(formats)
    unknown = [fmt for fmt in formats if fmt not in FORMAT_EXTENSIONS]
    if unknown or not formats:
        raise ValueError(f"unknown output formats {unknown!r}; choose from "
                         f"{', '.join(FORMAT_EXTENSIONS)}")
    if "pdf" in formats:
        require_pdf_writers()
    if not isinstance(dpi, int) or not 10 <= dpi <= 2400:
        raise ValueError(f"dpi must be an int from 10 to 2400: {dpi!r}")
    if page_timeout is not None and not (isinstance(page_timeout, (int, float))
                                         and 0 < page_timeout < 1e6):
        raise ValueError(f"page_timeout must be a positive number of seconds: {page_timeout!r}")
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int: {workers!r}")
    check_max_dpi(max_dpi)
    if pdf_text not in PDF_TEXT_MODES:
        raise ValueError(f"pdf_text must be one of {', '.join(PDF_TEXT_MODES)}: {pdf_text!r}")
    variables = speed_variables(variables, invert)
    options = EngineOptions(language, None if data_path is None else os.fspath(data_path), psm,
                            tuple(sorted((str(k), str(v)) for k, v in variables.items())))
    if max_input_bytes is not None and (isinstance(max_input_bytes, bool) or not isinstance(
            max_input_bytes, int) or max_input_bytes < 1):
        raise ValueError(f"max_input_bytes must be None or a positive int: {max_input_bytes!r}")
    found = list_inputs(sources, include, exclude=out_dir)
    check_names(found)
    store = OutputStore(out_dir, formats)
    summary = BatchSummary(store.root, store.manifest_path)
    fingerprint = _fingerprint(formats, dpi, options, max_dpi, pdf_text, rotate_pages)
    if isolate is None:  # the older rule: a page deadline means worker processes
        isolate = page_timeout is not None
    runner = make_runner(options, workers, isolate=isolate, page_timeout=page_timeout,
                         client=client, connect_timeout=connect_timeout)
    bar = Progress(len(found), enabled=progress)
    try:
        _drive(found, store, runner, bar, summary, callback, fingerprint,
               formats, dpi, page_timeout, options, max_dpi, max_input_bytes,
               (pdf_text, rotate_pages))
    finally:
        runner.close()
        bar.close()
        store.close()
    summary.seconds = time.monotonic() - started
    return summary


def _drive(found: list[tuple[str, str]], store: OutputStore, runner: Runner | DaskRunner,
           bar: Progress, summary: BatchSummary,
           callback: Callable[[dict[str, Any]], None] | None, fingerprint: str,
           formats: tuple[str, ...], dpi: int, page_timeout: float | None,
           options: EngineOptions, max_dpi: int | None, max_bytes: int | None,
           pdf: tuple[str, bool] = ("skip", False)) -> None:
    open_documents: dict[str, list[Any]] = {}  # key -> [document, pages, pages left]
    in_flight: dict[Any, tuple[str, int]] = {}

    def record(records: list[dict[str, Any]]) -> None:
        for entry in records:  # a document's final word (its assembly may fail too)
            if entry["status"] != "ok":
                summary.failed += 1
                if len(summary.failures) < 1000:
                    summary.failures.append(entry)

    def collect() -> None:
        for future in runner.wait(in_flight):
            key, index = in_flight.pop(future)
            outcome = _outcome_of(runner, future, index)
            store.save_page(key, outcome)
            document, pages, _, kept = entry = open_documents[key]
            entry[2] -= 1
            summary.pages += 1
            bar.update(failed=not outcome.ok)
            if callback is not None:
                event: dict[str, Any] = {"input": document.name, "page": index + 1,
                                         "status": "ok" if outcome.ok else "failed",
                                         "seconds": outcome.seconds}
                if not outcome.ok:
                    event["error"] = {"class": outcome.error_class,
                                      "message": outcome.error_message}
                callback(event)
            if entry[2] == 0:
                del open_documents[key]
                record(store.finish(document, key, pages, kept))

    for path, name in found:
        try:
            document = describe(path, name, max_bytes)
        except (OSError, OcrError) as exc:
            _fail_whole(store.fail_document(None, None, name, exc), summary, bar, record)
            continue
        key = document_key(document, fingerprint)
        earlier = store.finished(key)
        if earlier is not None and not earlier["failed"]:
            summary.skipped += 1
            bar.grow(-1)
            continue
        summary.documents += 1
        try:
            locations = page_locations(document)
            pages = len(locations)
            if pages < 1:
                raise ImageError("the document has no pages")
        except Exception as exc:  # an unreadable TIFF or PDF is recorded like a page
            _fail_whole(store.fail_document(document, key, name, exc), summary, bar, record)
            continue
        done = store.finished_pages(key, pages)
        kept = done if earlier is not None else set()  # in the manifest already
        bar.grow(pages - 1 - len(done))
        open_documents[key] = [document, pages, pages - len(done), kept]
        if len(done) == pages:
            del open_documents[key]
            record(store.finish(document, key, pages, kept))
            continue
        for index in range(pages):
            if index in done:
                continue
            while len(in_flight) >= runner.capacity:
                collect()
            task = PageTask(document.path, document.kind, index, formats, dpi, page_timeout,
                            options, max_dpi, locations[index] if document.kind == "tiff"
                            else None, *pdf)
            in_flight[runner.submit(task, f"tightbind-page-{key}-{index}")] = (key, index)
    while in_flight:
        collect()


def _fail_whole(records: list[dict[str, Any]], summary: BatchSummary, bar: Progress,
                record: Callable[[list[dict[str, Any]]], None]) -> None:
    summary.pages += 1
    bar.update(failed=True)
    record(records)
