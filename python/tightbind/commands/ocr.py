"""``tightbind ocr FILES...``: recognise image files with Tesseract.

Without ``--out``, results go to stdout (or ``--format pdf`` files).  With ``--out DIR``,
a batch: files, folders, TIFFs and PDFs in, one output per document and format plus a
manifest out, resumable (see :func:`tightbind.ocr.batch.run_batch`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from typing import Any

HELP = "recognise text in image files (Tesseract through tightbind.ocr)"

FORMATS = ("txt", "tsv", "hocr", "json", "pdf")  # "text" is taken for "txt"
TSV_HEADER = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth"
              "\theight\tconf\ttext")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="image files (every page of a multi-page TIFF is read); with "
                        "--out also folders (walked recursively) and PDFs")
    parser.add_argument("-l", "--lang", default="eng",
                        help="Tesseract language(s), e.g. eng or eng+deu (default eng)")
    parser.add_argument("--psm", type=int, default=None,
                        help="page segmentation mode, 0-13 as for tesseract (default 3)")
    parser.add_argument("--format", default=None,
                        help="output: txt, tsv, hocr or json on stdout; pdf writes "
                        "FILE-STEM.pdf (searchable) into --output-dir (default txt).  With "
                        "--out: a comma-separated list of txt, hocr, tsv, alto, json, pdf "
                        "(default txt).  'text' is taken for txt")
    parser.add_argument("--output-dir", default=".",
                        help="folder for --format pdf (default: the current folder)")
    parser.add_argument("--variable", action="append", default=[], metavar="NAME=VALUE",
                        help="set a Tesseract variable (as tesseract -c NAME=VALUE), "
                        "repeatable; checked against the variable's kind and limits")
    parser.add_argument("--no-invert", action="store_true",
                        help="speed: skip Tesseract's retry of each line as white-on-black "
                        "text (tessedit_do_invert=0, or invert_threshold=0 from 5.4)")
    parser.add_argument("--max-dpi", type=int, default=None, metavar="DPI",
                        help="speed: scale pages above DPI down to it first (PDF pages are "
                        "rendered at it); e.g. 200 for 300-dpi scans of body text")
    parser.add_argument("-j", "--jobs", type=int, default=None,
                        help="files recognised in parallel, one engine each "
                        "(default: the number of CPUs)")
    batch = parser.add_argument_group(
        "batch mode", "--out DIR writes DIR/<input name>.<format> per document (names "
        "mirror the folders given), DIR/manifest.jsonl with one record per page, and skips "
        "documents already done there (same name, content and options); a failing page is "
        "recorded and the run goes on (exit status 1 when any failed)")
    batch.add_argument("--out", default=None, metavar="DIR",
                       help="batch mode: write outputs into DIR")
    batch.add_argument("--include", action="append", default=None, metavar="PATTERN",
                       help="file name pattern to pick in folders, repeatable "
                       "(default: common image types and *.pdf)")
    batch.add_argument("--dpi", type=int, default=300,
                       help="the most a PDF page is rendered at for recognition (its largest "
                       "image's resolution when lower; pages without images at DPI; "
                       "default 300)")
    batch.add_argument("--pdf-text", choices=("skip", "redo", "force"), default="skip",
                       help="PDF pages that already have text: skip (default: kept as they "
                       "are, recorded as skipped), redo (an earlier invisible OCR layer "
                       "replaced, visible text kept) or force (every page rasterised and "
                       "OCRed, as OCRmyPDF's --force-ocr: vector content becomes an image)")
    batch.add_argument("--rotate-pages", action="store_true",
                       help="turn pages that lie sideways or upside down (Tesseract's "
                       "orientation detection, at least 14 confident, as OCRmyPDF's "
                       "--rotate-pages): the searchable PDF's page gets a /Rotate")
    batch.add_argument("--page-timeout", type=float, default=None, metavar="SECONDS",
                       help="recognition deadline per page; pages then run in worker "
                       "processes, killed and replaced when a page hangs")
    batch.add_argument("--isolate", action=argparse.BooleanOptionalAction, default=None,
                       help="run pages in worker processes, one engine each, a process "
                       "killed and replaced when its page overruns --page-timeout (default: "
                       "only with --page-timeout; --no-isolate keeps that deadline on "
                       "threads)")
    batch.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run pages on a Dask cluster, e.g. tcp://HOST:8786 (workers "
                       "read inputs by path: use a shared filesystem)")
    batch.add_argument("--connect-timeout", type=float, default=30.0, metavar="SECONDS",
                       help="how long to try reaching --scheduler, at the start or when "
                       "it goes away mid-run (then exit 2; a re-run resumes) (default 30)")
    batch.add_argument("--max-input-size", type=int, default=1 << 30, metavar="BYTES",
                       help="refuse (with a record) input files larger than this; 0 for no "
                       "limit (default 1 GiB)")
    batch.add_argument("-q", "--quiet", action="store_true",
                       help="no progress and no summary line")
    parser.add_argument("--tessdata", default=None,
                        help="folder holding <lang>.traineddata (default: TESSDATA_PREFIX if "
                        "set, else the models that come with tightbind when they hold every "
                        "language asked for, else Tesseract's own folder)")


def _page_output(api: Any, fmt: str, name: str, page: int, size: tuple[int, int]) -> Any:
    """One recognised page in ``fmt``; for json, the batch's page object
    (:func:`tightbind.ocr.pages.page_json`) with the ``file`` it came from."""
    from tightbind.ocr.pages import page_json

    if fmt == "txt":
        return api.get_utf8_text()
    if fmt == "tsv":
        return api.get_tsv_text(page)
    if fmt == "hocr":
        return api.get_hocr_text(page)
    return {"file": name, **page_json(api, page, *size)}


def parse_variables(items: list[str]) -> dict[str, object]:
    """``NAME=VALUE`` strings as a dict, each checked by :mod:`tightbind.ocr.params`
    (ValueError naming the item without '=', VariableError for a bad name or value)."""
    from tightbind.ocr.params import check_variable

    variables: dict[str, object] = {}
    for item in items:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise ValueError(f"--variable takes NAME=VALUE, not {item!r}")
        check_variable(name.strip(), value)
        variables[name.strip()] = value
    return variables


def _message(exc: BaseException) -> str:
    """The error as this command's user reads it: a missing language's advice names
    ``--tessdata``, the option here, not Python's ``data_path=``."""
    from tightbind.ocr import LanguageNotFound

    return exc.describe("--tessdata") if isinstance(exc, LanguageNotFound) else str(exc)


def run_batch_mode(args: argparse.Namespace, variables: dict[str, object]) -> int:
    from tightbind.ocr import OcrError
    from tightbind.ocr.batch import run_batch

    client = None
    try:
        if args.scheduler:
            import logging

            from tightbind.ocr.cluster import connect


            try:
                client = connect(args.scheduler, args.connect_timeout)
                # Dask's client logs each failed reconnection with a traceback; the
                # command says in one sentence when the scheduler is lost.  (Set once
                # distributed is imported: its configuration sets its loggers' levels.)
                for name in ["distributed", *(name for name in logging.root.manager.loggerDict
                                              if name.startswith("distributed."))]:
                    logging.getLogger(name).setLevel(logging.CRITICAL)
            except ImportError:
                print("tightbind ocr: --scheduler needs Dask distributed: "
                      "pip install 'tightbind[dask]'", file=sys.stderr)
                return 2
        summary = run_batch(args.files, args.out, formats=(args.format or "txt").split(","),
                            include=args.include, dpi=args.dpi, language=args.lang,
                            data_path=args.tessdata, psm=args.psm, workers=args.jobs,
                            page_timeout=args.page_timeout, client=client,
                            progress=not args.quiet, variables=variables or None,
                            invert=not args.no_invert, max_dpi=args.max_dpi,
                            max_input_bytes=args.max_input_size or None,
                            connect_timeout=args.connect_timeout,
                            pdf_text=args.pdf_text, rotate_pages=args.rotate_pages,
                            isolate=args.isolate)
    except (OcrError, ValueError, OSError) as exc:
        print(f"tightbind ocr: {_message(exc)}", file=sys.stderr)
        return 2
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=args.connect_timeout)
    if not args.quiet or summary.failed:
        print(f"tightbind ocr: {summary.describe()}", file=sys.stderr)
    return 1 if summary.failed else 0


def run(args: argparse.Namespace) -> int:
    from tightbind.ocr import OcrError, pix_read_pages
    from tightbind.ocr.pages import EnginePool
    from tightbind.ocr.runner import Runner
    from tightbind.ocr.workers import check_max_dpi, limit_resolution, speed_variables

    if args.jobs is not None and args.jobs < 1:
        print("tightbind ocr: --jobs must be at least 1", file=sys.stderr)
        return 2
    try:
        variables = parse_variables(args.variable)
        check_max_dpi(args.max_dpi)
    except (OcrError, ValueError) as exc:
        print(f"tightbind ocr: {_message(exc)}", file=sys.stderr)
        return 2
    if args.out is not None:
        return run_batch_mode(args, variables)
    args.format = {None: "txt", "text": "txt"}.get(args.format, args.format)
    if args.format not in FORMATS:
        print(f"tightbind ocr: --format must be one of {', '.join(FORMATS)} "
              "(or give --out for batch formats)", file=sys.stderr)
        return 2
    if args.format == "pdf" and args.max_dpi is not None:
        print("tightbind ocr: --max-dpi does not apply to --format pdf without --out "
              "(use --out DIR --format pdf)", file=sys.stderr)
        return 2
    jobs = args.jobs or os.cpu_count() or 1
    try:
        engines = EnginePool(args.tessdata, args.lang, psm=args.psm,
                             variables=speed_variables(variables, not args.no_invert) or None)
    except (OcrError, ValueError) as exc:
        print(f"tightbind ocr: {_message(exc)}", file=sys.stderr)
        return 2

    def work(name: str) -> tuple[str, list[Any] | None, str | None]:
        try:
            api = engines.engine()
            if args.format == "pdf":
                stem = os.path.splitext(os.path.basename(name))[0]
                base = os.path.join(args.output_dir, stem)
                return name, api.process_pages(name, base, ("pdf",)), None
            outputs = []
            for index, page in enumerate(pix_read_pages(name)):
                page = limit_resolution(page, args.max_dpi)
                api.set_image_pix(page)
                api.recognize()
                outputs.append(_page_output(api, args.format, name, index,
                                            (page.width, page.height)))
            return name, outputs, None
        except (OcrError, OSError) as exc:
            return name, None, str(exc)

    status = 0
    json_pages: list[Any] = []
    # The runner's threads placement (tightbind.ocr.runner), one engine per thread.
    runner = Runner(work, min(jobs, len(args.files)), engines.close)
    try:
        futures = [runner.submit(name) for name in args.files]
        if args.format == "tsv":
            print(TSV_HEADER)
        for future in futures:
            name, outputs, error = future.result()
            if error is not None:
                print(f"tightbind ocr: {name}: {error}", file=sys.stderr)
                status = 1
                continue
            assert outputs is not None
            if args.format == "pdf":
                for path in outputs:
                    print(path)
            elif args.format == "json":
                json_pages.extend(outputs)
            else:
                for output in outputs:
                    if args.format == "txt" and len(args.files) > 1:
                        print(f"==> {name} <==")
                    sys.stdout.write(output)
            sys.stdout.flush()
    finally:
        runner.close()
    if args.format == "json":
        json.dump(json_pages, sys.stdout, ensure_ascii=False, indent=1)
        print()
    return status
