"""Batch OCR benchmark: pages per second per core on realistic 300-dpi A4 scans.

Pages are rendered here (two columns of DejaVu Sans text, a small skew, noise) with their
ground truth, or taken from TIGHTBIND_BENCH_BATCH_PAGES (a folder of images).  Tables:

1. Throughput at 2 workers: ``run_batch`` on local threads; ``run_batch`` on a Dask
   LocalCluster (2 worker processes of 1 thread; cluster start not timed); the usual
   pattern, a ``multiprocessing.Pool`` calling ``pytesseract.image_to_string`` with
   ``OMP_THREAD_LIMIT=1``; tesserocr with one ``PyTessBaseAPI`` per thread; and
   ``run_batch`` with a page deadline (worker processes).  Driver RSS at the first and
   last page of the threads run.
2. Tesseract's speed settings on one engine, with their word accuracy against the
   ground truth: ``invert_threshold=0``, PSM 4/6, pages downscaled to 200 dpi.

``tightbind bench batch --pages N`` sets the page count (default 6, --quick 2).
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import random
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tightbind.benchmarks._report import Table

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORKERS = 2
_WORDS = (
    "the of and to in is that for it as with was on be by this are from at or an which "
    "have not has but were their more can all been one its also two other into new some "
    "these only when first time may any such over after invoice archive record page letter "
    "number report council library 1923 4711 between during county station market railway "
    "harbour committee treasurer minutes meeting annual district ordinary general special "
    "evening")
_VOCABULARY = tuple(_WORDS.split())


def render_pages(folder: Path, count: int, seed: int = 7) -> list[tuple[Path, str]]:
    """``count`` A4 pages at 300 dpi (PNG) and the text drawn on each."""
    import numpy
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(seed)
    noise_rng = numpy.random.default_rng(seed)
    font = ImageFont.truetype(FONT, 38)
    width, height, margin, gap = 2480, 3508, 180, 120
    column_width = (width - 2 * margin - gap) // 2
    pages = []
    for number in range(count):
        image = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(image)
        words: list[str] = []
        for column in range(2):
            x0 = margin + column * (column_width + gap)
            y = margin
            while y < height - margin - 60:
                line: list[str] = []
                while True:
                    word = rng.choice(_VOCABULARY)
                    if font.getlength(" ".join([*line, word])) > column_width:
                        break
                    line.append(word)
                draw.text((x0, y), " ".join(line), font=font, fill=0)
                words.extend(line)
                y += 58
        image = image.rotate(rng.uniform(-0.8, 0.8), fillcolor=255,
                             resample=Image.Resampling.BICUBIC)
        pixels = numpy.asarray(image, dtype=numpy.int16)
        pixels = pixels + noise_rng.normal(0, 18, pixels.shape).astype(numpy.int16)
        image = Image.fromarray(numpy.clip(pixels, 0, 255).astype(numpy.uint8))
        path = folder / f"page-{number:04d}.png"
        image.save(path, dpi=(300, 300))
        pages.append((path, " ".join(words)))
    return pages


def accuracy(truth: str, text: str) -> float:
    """Word accuracy: matched words over ground-truth words."""
    expected, got = truth.split(), text.split()
    matcher = difflib.SequenceMatcher(a=expected, b=got, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / max(1, len(expected))


def _rss_mib() -> float:
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _pytesseract_page(path: str) -> str:
    import pytesseract

    return str(pytesseract.image_to_string(path))


def _tightbind_threads(paths: list[Path], out: Path, rss: list[float]) -> float:
    from tightbind.ocr.batch import run_batch

    started = time.perf_counter()
    run_batch(paths, out, workers=WORKERS, callback=lambda event: rss.append(_rss_mib()))
    return time.perf_counter() - started


def _tightbind_deadline(paths: list[Path], out: Path) -> float:
    from tightbind.ocr.batch import run_batch

    started = time.perf_counter()
    run_batch(paths, out, workers=WORKERS, page_timeout=600)
    return time.perf_counter() - started


def _tightbind_dask(paths: list[Path], out: Path) -> float | None:
    if importlib.util.find_spec("distributed") is None:
        return None
    import distributed

    from tightbind.ocr.batch import run_batch

    with distributed.LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        client.run(lambda: __import__("tightbind.ocr.workers"))  # warm imports, not engines
        started = time.perf_counter()
        run_batch(paths, out, client=client)
        return time.perf_counter() - started


def _pytesseract_pool(paths: list[Path]) -> float | None:
    if importlib.util.find_spec("pytesseract") is None:
        return None
    import multiprocessing

    os.environ["OMP_THREAD_LIMIT"] = "1"  # inherited by every tesseract process
    with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
        pool.map(_pytesseract_page, [str(paths[0])])  # start the pool
        started = time.perf_counter()
        pool.map(_pytesseract_page, [str(p) for p in paths], chunksize=1)
        return time.perf_counter() - started


def _tesserocr_threads(paths: list[Path]) -> float | None:
    if importlib.util.find_spec("tesserocr") is None:
        return None
    import tesserocr

    local = threading.local()
    apis: list[Any] = []

    def page(path: Path) -> str:
        api = getattr(local, "api", None)
        if api is None:
            api = local.api = tesserocr.PyTessBaseAPI(psm=tesserocr.PSM.AUTO)
            apis.append(api)
        api.SetImageFile(str(path))
        return str(api.GetUTF8Text())

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(page, paths[:WORKERS]))  # engines loaded before timing
        started = time.perf_counter()
        list(pool.map(page, paths))
        seconds = time.perf_counter() - started
    for api in apis:
        api.End()
    return seconds


def _settings(pages: list[tuple[Path, str]]) -> Table:
    from tightbind.ocr import Pix, TessApi

    table = Table("batch: Tesseract speed settings, one engine, same pages",
                  ["setting", "s/page", "speed-up", "word accuracy"])
    cases: list[tuple[str, dict[str, Any], float]] = [
        ("default (PSM 3)", {}, 1.0),
        ("invert_threshold=0", {"variables": {"invert_threshold": "0"}}, 1.0),
        ("tessedit_do_invert=0", {"variables": {"tessedit_do_invert": "0"}}, 1.0),
        ("PSM 4 (single column)", {"psm": 4}, 1.0),
        ("PSM 6 (single block)", {"psm": 6}, 1.0),
        ("downscaled to 200 dpi", {}, 2 / 3),
    ]
    baseline = None
    for name, kwargs, scale in cases:
        with TessApi(**kwargs) as api:
            times, scores = [], []
            for path, truth in pages:
                pix = Pix.from_file(path)
                if scale != 1.0:
                    pix = pix.to_gray().scale(scale)
                    pix.resolution = (200, 200)
                started = time.perf_counter()
                api.set_image_pix(pix)
                api.recognize()
                text = api.get_utf8_text()
                times.append(time.perf_counter() - started)
                scores.append(accuracy(truth, text))
        per_page = statistics.median(times)
        baseline = baseline or per_page
        table.rows.append([name, per_page, f"{baseline / per_page:.2f}x",
                           f"{statistics.mean(scores):.3f}"])
    return table


def run(quick: bool) -> list[Table]:
    count = int(os.environ.get("TIGHTBIND_BENCH_PAGES") or (2 if quick else 6))
    with tempfile.TemporaryDirectory(prefix="tightbind-bench-batch-") as folder_name:
        folder = Path(folder_name)
        given = os.environ.get("TIGHTBIND_BENCH_BATCH_PAGES")
        if given:
            pages = [(path, "") for path in sorted(Path(given).iterdir()) if path.is_file()]
        else:
            pages = render_pages(folder, count)
        paths = [path for path, _ in pages]
        rss: list[float] = []
        contenders = [
            ("tightbind run_batch, threads", lambda: _tightbind_threads(paths, folder / "t", rss)),
            ("tightbind run_batch, Dask LocalCluster", lambda: _tightbind_dask(
                paths, folder / "d")),
            ("multiprocessing.Pool + pytesseract", lambda: _pytesseract_pool(paths)),
            ("tesserocr, one API per thread", lambda: _tesserocr_threads(paths)),
            ("tightbind run_batch, page deadline (processes)",
             lambda: _tightbind_deadline(paths, folder / "p")),
        ]
        table = Table(f"batch: {len(paths)} A4 pages at 300 dpi, {WORKERS} workers",
                      ["contender", "seconds", "pages/s", "pages/s/core", "vs threads"])
        results: dict[str, float] = {}
        for name, measure in contenders:
            seconds = measure()
            if seconds is None:
                table.notes.append(f"{name}: not installed, left out")
                continue
            results[name] = seconds
        threads = results["tightbind run_batch, threads"]
        for name, seconds in results.items():
            rate = len(paths) / seconds
            table.rows.append([name, seconds, rate, rate / WORKERS,
                               f"{threads and seconds / threads:.2f}x"])
        if rss:
            table.notes.append(f"driver RSS: {rss[0]:.0f} MiB at the first page, "
                               f"{rss[-1]:.0f} MiB at page {len(rss)}")
        table.notes.append("vs threads: this contender's time over run_batch on threads "
                           "(above 1: slower)")
        for name in ("multiprocessing.Pool + pytesseract", "tesserocr, one API per thread",
                     "tightbind run_batch, Dask LocalCluster"):
            if name in results:
                table.headlines.append([f"pages/s, threads vs {name}",
                                        f"{len(paths) / threads:.2f}", name,
                                        f"{results[name] / threads:.2f}x"])
        tables = [table]
        if not given:
            tables.append(_settings(pages[:max(2, count // 3)]))
        return tables
