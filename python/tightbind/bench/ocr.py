"""``tightbind bench ocr``: what word boxes cost on top of recognition, and threads
against one.

Tables:
1. Words with boxes: what ``results(RIL_WORD)`` adds to ``recognize()`` on one page, in
   one engine, interleaved rounds (the repository's ``bench/ocr.py`` adds the same
   extraction in tesserocr and pytesseract as rows, and a table per page against them).
2. Threads: pages per second with one engine per thread, 1 vs 2 (or more) threads.

The page is TIGHTBIND_OCR_BENCH_IMAGE when set, else a page rendered with Pillow and
DejaVu Sans.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tightbind.bench._report import Table, interleaved

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def page_image(folder: Path) -> tuple[Path, str]:
    """The page to time and its label: TIGHTBIND_OCR_BENCH_IMAGE, else a rendered page
    written into ``folder``."""
    override = os.environ.get("TIGHTBIND_OCR_BENCH_IMAGE")
    if override:
        return Path(override), Path(override).name
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, 36)
    image = Image.new("L", (1240, 700), 255)
    draw = ImageDraw.Draw(image)
    lines = ["The quick brown fox jumps over the lazy dog 0123456789.",
             "Pack my box with five dozen liquor jugs; sphinx of black quartz,",
             "judge my vow. How vexingly quick daft zebras jump!"] * 3
    for row, line in enumerate(lines):
        draw.text((60, 60 + 64 * row), line, font=font, fill=0)
    path = folder / "page.png"
    image.save(path, dpi=(300, 300))
    return path, "rendered page (DejaVu Sans, 300 dpi)"


def words_table(path: Path, quick: bool,
                peers: dict[str, Callable[[], Any]] | None = None) -> Table:
    """``recognize`` against ``recognize + results(RIL_WORD)``, interleaved with the
    ``peers`` (name -> a call doing both in another package), then ``results`` alone."""
    from tightbind.ocr import RIL_WORD, TessApi, pix_read

    api = TessApi()
    pix = pix_read(path)
    rounds = 3 if quick else 9

    def recognize() -> None:
        api.set_image_pix(pix)
        api.recognize()

    def recognize_and_words() -> None:
        recognize()
        api.results(RIL_WORD)

    contenders = {"recognize": recognize, "recognize + results(RIL_WORD)": recognize_and_words,
                  **(peers or {})}
    times = interleaved(contenders, rounds=rounds, min_time=0.2)
    recognize_s = times["recognize"]
    api.set_image_pix(pix)
    api.recognize()
    words = len(api.results(RIL_WORD))
    extraction = interleaved({"results": lambda: api.results(RIL_WORD)}, rounds=rounds,
                             min_time=0.05)["results"]
    api.close()
    table = Table(f"OCR: words with boxes and confidences ({words} words, {path.name})",
                  ["what", "ms/page", "vs recognize"])
    for name, seconds in times.items():
        table.rows.append([name, seconds * 1000, f"{seconds / recognize_s:.3f}x"])
    table.rows.append(["results(RIL_WORD) alone", extraction * 1000,
                       f"{extraction / recognize_s:.3f}x"])
    table.notes.append("in this process (OpenMP at 1 thread for every engine here); "
                       "results() walks the page in one C call")
    for name, ms, ratio in table.rows:
        if name == "results(RIL_WORD) alone":
            table.headlines.append(["results(RIL_WORD) on top of recognize()",
                                    f"{ms:.2f} ms/page", "recognize()",
                                    f"{float(ratio.rstrip('x')) * 100:.1f}%"])
    return table


def threads_table(path: Path, quick: bool) -> Table:
    """Pages per second with one engine per thread, 1, 2 and every CPU's threads."""
    import threading

    from tightbind.ocr import TessApi, pix_read

    pix = pix_read(path)
    cores = os.cpu_count() or 1
    counts = sorted({1, 2, cores})
    per_thread = 3 if quick else 12
    rounds = 1 if quick else 5
    engines = [TessApi() for _ in range(max(counts))]
    for engine in engines:  # warm up every engine once
        engine.ocr(pix)

    def work(engine: TessApi, pages: int) -> None:
        for _ in range(pages):
            engine.set_image_pix(pix)
            engine.recognize()
            engine.results()

    rates: dict[int, list[float]] = {n: [] for n in counts}
    for _ in range(rounds):
        for workers in counts:
            threads = [threading.Thread(target=work, args=(engines[i], per_thread))
                       for i in range(workers)]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            rates[workers].append(workers * per_thread / (time.perf_counter() - start))
    for engine in engines:
        engine.close()
    table = Table(f"OCR: threads, one engine each ({path.name}, recognize + results)",
                  ["threads", "pages/s", "vs 1 thread"])
    one = statistics.median(rates[1])
    for workers in counts:
        rate = statistics.median(rates[workers])
        table.rows.append([workers, rate, f"{rate / one:.2f}x"])
    table.notes.append(f"{cores} CPUs, shared with other work; {per_thread} pages per thread, "
                       f"median of {rounds} interleaved runs; engines loaded beforehand "
                       "(ocr_many does the same, once per worker thread)")
    if len(table.rows) > 1:
        workers, rate, ratio = table.rows[-1]
        table.headlines.append([f"{workers} threads vs 1", f"{rate:.2f} pages/s",
                                "1 thread", ratio])
    return table


def versions() -> dict[str, str]:
    from tightbind.ocr import TessApi

    return {"Tesseract": TessApi.version()}


def run(quick: bool) -> list[Table]:
    """The OCR tables (see the module docstring)."""
    import tempfile

    import tightbind.ocr  # noqa: F401 - raises ImportError (skipped) when not built

    with tempfile.TemporaryDirectory() as folder:
        path, _ = page_image(Path(folder))
        return [words_table(path, quick), threads_table(path, quick)]
