"""Batch OCR benchmark: pages per second per core on realistic 300-dpi A4 scans.

Pages are rendered here (two columns of DejaVu Sans text, a small skew, Gaussian noise)
with their ground truth, or taken from TIGHTBIND_BENCH_BATCH_PAGES (a folder of images).
Every contender does the same thing: the same pages, English, PSM 3 (automatic page
segmentation, the ``tesseract`` command's default), OpenMP off (``OMP_THREAD_LIMIT=1``,
set before any Tesseract loads), each page's text written to its own ``.txt`` file.

1. Throughput at 2 workers, contenders interleaved (one run of each per round, the
   order rotated every round, medians reported): ``run_batch`` on local threads;
   ``run_batch`` on a Dask LocalCluster (2 worker processes of 1 thread); ``run_batch``
   with a page deadline (worker processes); and contenders of other packages the caller
   passes in (the repository's ``bench/batch.py``: the usual pattern, a
   ``multiprocessing.Pool`` calling ``pytesseract.image_to_string``, and tesserocr with
   one ``PyTessBaseAPI`` per thread).  Each contender's start-up
   (pool or cluster start, imports, engines loaded on two small pages) is timed apart
   and reported on its own; ``run_batch`` loads its engines (and, with a deadline, starts
   its worker processes) inside every call, so that is in its time.  CPU seconds per
   page count the process tree's user and system time (children included), which
   other jobs on a shared machine disturb far less than wall time.
2. The same on small pages (a few lines each), where a per-page start-up shows.
3. Tesseract's speed settings through ``run_batch``'s own page path, one engine,
   interleaved per page, with word and character error rates against the ground truth.
4. With ``--rss-pages N`` (or TIGHTBIND_BENCH_RSS_PAGES): driver RSS over N small pages
   through ``run_batch`` on threads, sampled every N/20 pages.

``tightbind bench batch --pages N`` sets the A4 page count (default 6, --quick 2; 0 runs
only the RSS check: ``--pages 0 --rss-pages 2000``); TIGHTBIND_BENCH_ROUNDS the rounds
(default 3, --quick 1).
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tightbind.bench._report import Table

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORKERS = 2
LANGUAGE = "eng"
PSM = 3
_WORDS = (
    "the of and to in is that for it as with was on be by this are from at or an which "
    "have not has but were their more can all been one its also two other into new some "
    "these only when first time may any such over after invoice archive record page letter "
    "number report council library 1923 4711 between during county station market railway "
    "harbour committee treasurer minutes meeting annual district ordinary general special "
    "evening")
_VOCABULARY = tuple(_WORDS.split())
#: (width, height, columns) in pixels at 300 dpi: an A4 page, and a strip of a few lines.
SIZES = {"a4": (2480, 3508, 2), "strip": (1240, 420, 1)}


def render_pages(folder: Path, count: int, seed: int = 7, size: str = "a4"
                 ) -> list[tuple[Path, str]]:
    """``count`` pages at 300 dpi (PNG, grey) and the text drawn on each: ``size`` "a4"
    (two columns) or "strip" (half an A4 width, a few lines)."""
    import numpy
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(seed)
    noise_rng = numpy.random.default_rng(seed)
    font = ImageFont.truetype(FONT, 38)
    width, height, columns = SIZES[size]
    margin, gap = (180, 120) if size == "a4" else (60, 0)
    column_width = (width - 2 * margin - (columns - 1) * gap) // columns
    pages = []
    for number in range(count):
        image = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(image)
        words: list[str] = []
        for column in range(columns):
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
        path = folder / f"{size}-{number:04d}.png"
        image.save(path, dpi=(300, 300))
        pages.append((path, " ".join(words)))
    return pages


def _edits(expected: list[str] | str, got: list[str] | str) -> int:
    """Substitutions, deletions and insertions turning ``expected`` into ``got``, counted
    over difflib's alignment (a replaced run counts its longer side)."""
    matcher = difflib.SequenceMatcher(a=expected, b=got, autojunk=False)
    return sum(max(a1 - a0, b1 - b0) for tag, a0, a1, b0, b1 in matcher.get_opcodes()
               if tag != "equal")


def error_rates(truth: str, text: str) -> tuple[float, float]:
    """(word error rate, character error rate) of ``text`` against ``truth``, both over
    whitespace-normalised text.  Characters are aligned within the word alignment: each
    replaced run of words is compared character by character."""
    expected, got = truth.split(), text.split()
    words = _edits(expected, got)
    characters = 0
    matcher = difflib.SequenceMatcher(a=expected, b=got, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "replace":
            characters += _edits(" ".join(expected[a0:a1]), " ".join(got[b0:b1]))
        elif tag != "equal":  # a whole run of words (and a space each) added or lost
            characters += sum(len(word) + 1 for word in (expected[a0:a1] or got[b0:b1]))
    return words / max(1, len(expected)), characters / max(1, len(" ".join(expected)))


def _rss_mib() -> float:
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _tree_cpu() -> float:
    """User and system CPU seconds of this process and every live descendant, each with
    its waited-for children (so a finished ``tesseract`` process counts in its parent)."""
    import psutil

    total = 0.0
    me = psutil.Process()
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def text_path(out: Path, path: str) -> str:
    """Where a contender writes the text of the page at ``path``."""
    return str(out / (Path(path).name + ".txt"))


# ---- contenders: start() once, run(paths, out) per round, close() ---------------------------

Done = Callable[[], None]


def _ignore() -> None:
    pass


class Contender:
    name = ""
    label = ""  # short, for the summary and the column of ratios when it is the reference

    def available(self) -> bool:
        return True

    def start(self, warm: list[Path]) -> None:
        """Get ready: pools, clusters, imports; ``warm`` (two small pages) run once."""
        with tempfile.TemporaryDirectory(prefix="tightbind-bench-warm-") as out:
            self.run(warm, Path(out), _ignore)

    def run(self, paths: list[Path], out: Path, done: Done) -> None:
        """Recognise ``paths``, each page's text into ``out``; ``done()`` once per page,
        as it finishes."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class _Threads(Contender):
    name = "tightbind run_batch, threads"
    label = "threads"

    def __init__(self, **options: Any) -> None:
        self.options = options

    def run(self, paths: list[Path], out: Path, done: Done) -> None:
        from tightbind.ocr.batch import run_batch

        summary = run_batch(paths, out, workers=WORKERS, language=LANGUAGE, psm=PSM,
                            callback=lambda event: done(), **self.options)
        assert summary.failed == 0, summary.failures


class _Deadline(_Threads):
    name = "tightbind run_batch, page deadline (processes)"

    def __init__(self) -> None:
        super().__init__(page_timeout=600)


class _Dask(Contender):
    name = "tightbind run_batch, Dask LocalCluster"

    def available(self) -> bool:
        return importlib.util.find_spec("distributed") is not None

    def start(self, warm: list[Path]) -> None:
        import distributed

        self.cluster = distributed.LocalCluster(
            n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=":0")
        self.client = distributed.Client(self.cluster)
        super().start(warm)  # loads each worker thread's engine (kept for later rounds)

    def run(self, paths: list[Path], out: Path, done: Done) -> None:
        from tightbind.ocr.batch import run_batch

        summary = run_batch(paths, out, client=self.client, language=LANGUAGE, psm=PSM,
                            callback=lambda event: done())
        assert summary.failed == 0, summary.failures

    def close(self) -> None:
        self.client.close()
        self.cluster.close()


def _texts(out: Path) -> dict[str, str]:
    return {path.name.rsplit(".", 1)[0]: path.read_text(encoding="utf-8")
            for path in out.rglob("*.txt")}


def _note_time(finished: list[float]) -> None:
    finished.append(time.perf_counter())


def _steady_rate(finished: list[float], begin: float) -> float:
    """Pages per second once every worker has finished its first page."""
    if len(finished) <= WORKERS:
        return len(finished) / (finished[-1] - begin)
    return (len(finished) - WORKERS) / (finished[-1] - finished[WORKERS - 1])


def _throughput(title: str, pages: list[tuple[Path, str]], warm: list[Path],
                contenders: list[Contender], rounds: int, folder: Path,
                reference: Contender | None = None) -> Table:
    """Every contender on ``pages``, interleaved; ratios against ``reference`` (another
    package's way, in the repository's bench), else against run_batch on threads."""
    paths = [path for path, _ in pages]
    truths = {path.name: truth for path, truth in pages}
    base = reference or _Threads()
    table = Table(title, ["contender", "s", "steady pages/s", "pages/s/core", "CPU s/page",
                          "start-up s", f"vs {base.label}", "WER"])
    started: list[Contender] = []
    startup: dict[str, float] = {}
    try:
        for contender in contenders:
            if not contender.available():
                table.notes.append(f"{contender.name}: not installed, left out")
                continue
            begin = time.perf_counter()
            contender.start(warm)
            startup[contender.name] = time.perf_counter() - begin
            started.append(contender)
        walls: dict[str, list[float]] = {c.name: [] for c in started}
        steady: dict[str, list[float]] = {c.name: [] for c in started}
        cpus: dict[str, list[float]] = {c.name: [] for c in started}
        loads: list[float] = []
        texts: dict[str, dict[str, str]] = {}
        for round_number in range(rounds):
            shift = round_number % len(started)
            for contender in started[shift:] + started[:shift]:
                out = folder / f"round-{round_number}" / str(started.index(contender))
                loads.append(os.getloadavg()[0])
                finished: list[float] = []
                cpu, begin = _tree_cpu(), time.perf_counter()
                contender.run(paths, out, functools.partial(_note_time, finished))
                walls[contender.name].append(time.perf_counter() - begin)
                steady[contender.name].append(_steady_rate(sorted(finished), begin))
                cpus[contender.name].append(_tree_cpu() - cpu)
                texts[contender.name] = _texts(out)
                if len(texts[contender.name]) != len(paths):
                    raise RuntimeError(f"{contender.name} wrote {len(texts[contender.name])} "
                                       f"texts for {len(paths)} pages")
    finally:
        for contender in started:
            contender.close()
    medians = {name: statistics.median(values) for name, values in walls.items()}
    rates = {name: statistics.median(values) for name, values in steady.items()}
    peer = rates.get(base.name)
    for contender in started:
        seconds = medians[contender.name]
        rate = rates[contender.name]
        wer = [error_rates(truths[name], text)[0]
               for name, text in texts[contender.name].items() if truths.get(name)]
        table.rows.append([contender.name, seconds, rate, rate / WORKERS,
                           statistics.median(cpus[contender.name]) / len(paths),
                           startup[contender.name],
                           f"{rate / peer:.2f}x" if peer else "",
                           f"{statistics.mean(wer):.3f}" if wer else ""])
    table.notes.append(f"{len(paths)} pages, {WORKERS} workers, {rounds} interleaved rounds "
                       f"(medians); 1-minute load average during the runs: median "
                       f"{statistics.median(loads):.2f}, range {min(loads):.2f}-"
                       f"{max(loads):.2f} on {os.cpu_count()} cores")
    table.notes.append(f"s: the whole call; steady pages/s: pages after the first {WORKERS} "
                       f"over the time from the {WORKERS}th page's end to the last's (start-"
                       f"up, engine loading and process starts left out); vs {base.label}: "
                       f"steady pages/s over {base.name}'s (above 1: faster); start-up s: "
                       "pools, cluster, imports and two small pages, before the rounds")
    threads = rates.get(_Threads.name)
    label = title.split(":")[0]
    if threads and peer and reference is not None:
        table.headlines.append([f"{label}: steady pages/s, threads vs {base.label}",
                                f"{threads:.2f}", base.name, f"{threads / peer:.2f}x"])
        cpu_threads = statistics.median(cpus[_Threads.name])
        cpu_peer = statistics.median(cpus[base.name])
        table.headlines.append([f"{label}: CPU s/page, {base.label} over threads",
                                f"{cpu_threads / len(paths):.2f}", base.name,
                                f"{cpu_peer / cpu_threads:.2f}x"])
    dask = rates.get(_Dask.name)
    if threads and dask:
        table.headlines.append([f"{label}: steady pages/s, Dask vs threads", f"{dask:.2f}",
                                _Threads.name, f"{dask / threads:.2f}x"])
    return table


# ---- speed settings ---------------------------------------------------------------------------

SETTINGS: list[tuple[str, dict[str, Any]]] = [
    ("default (PSM 3)", {}),
    ("invert=False", {"invert": False}),
    ("max_dpi=200", {"max_dpi": 200}),
    ("invert=False, max_dpi=200", {"invert": False, "max_dpi": 200}),
    ("max_dpi=150", {"max_dpi": 150}),
    ("PSM 4 (single column)", {"psm": 4}),
    ("PSM 6 (single block)", {"psm": 6}),
]


def _settings(pages: list[tuple[Path, str]]) -> Table:
    from tightbind.ocr.workers import EngineOptions, PageTask, recognise_page, speed_variables

    table = Table("batch: Tesseract's speed settings, run_batch's page path, one engine",
                  ["setting", "s/page", "speed-up", "WER", "CER"])
    engines = {}
    for name, kwargs in SETTINGS:
        variables = speed_variables(None, kwargs.get("invert", True))
        engines[name] = EngineOptions(LANGUAGE, None, kwargs.get("psm", PSM),
                                      tuple(sorted((k, str(v)) for k, v in variables.items()))
                                      ).engine()
    times: dict[str, list[float]] = {name: [] for name, _ in SETTINGS}
    errors: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in SETTINGS}
    try:
        for number, (path, truth) in enumerate(pages):
            shift = number % len(SETTINGS)
            for name, kwargs in SETTINGS[shift:] + SETTINGS[:shift]:
                task = PageTask(str(path), "image", 0, ("txt",),
                                max_dpi=kwargs.get("max_dpi"))
                begin = time.perf_counter()
                outcome = recognise_page(engines[name], task)
                times[name].append(time.perf_counter() - begin)
                assert outcome.parts is not None, outcome.error_message
                errors[name].append(error_rates(truth, outcome.parts["txt"].decode()))
    finally:
        for api in engines.values():
            api.close()
    baseline = statistics.median(times[SETTINGS[0][0]])
    for name, _ in SETTINGS:
        per_page = statistics.median(times[name])
        table.rows.append([name, per_page, f"{baseline / per_page:.2f}x",
                           f"{statistics.mean(e[0] for e in errors[name]):.4f}",
                           f"{statistics.mean(e[1] for e in errors[name]):.4f}"])
    table.notes.append(f"{len(pages)} A4 pages at 300 dpi, each through every setting in "
                       "a rotated order; median seconds per page (read, scale, recognise, "
                       "text); WER/CER: word/character error rate against the drawn text")
    table.notes.append("invert=False sets " + ", ".join(
        f"{k}={v}" for k, v in speed_variables(None, False).items()))
    return table


# ---- RSS over many pages ------------------------------------------------------------------------

def _rss(count: int, folder: Path) -> Table:
    from tightbind.ocr.batch import run_batch

    sources = folder / "rss-sources"
    sources.mkdir()
    distinct = render_pages(sources, 20, seed=11, size="strip")
    pages = folder / "rss-pages"
    pages.mkdir()
    for number in range(count):  # distinct names (so distinct documents), 20 images
        (pages / f"{number:05d}.png").symlink_to(distinct[number % len(distinct)][0])
    every = max(1, count // 20)
    samples: list[tuple[int, float]] = [(0, _rss_mib())]
    done = [0]

    def sample(event: dict[str, Any]) -> None:
        done[0] += 1
        if done[0] % every == 0:
            samples.append((done[0], _rss_mib()))

    begin = time.perf_counter()
    summary = run_batch(pages, folder / "rss-out", workers=WORKERS, language=LANGUAGE,
                        psm=PSM, callback=sample)
    seconds = time.perf_counter() - begin
    table = Table(f"batch: driver RSS over {count} small pages, run_batch on threads",
                  ["after page", "RSS MiB"])
    table.rows.extend([[done, rss] for done, rss in samples])
    first = samples[1][1] if len(samples) > 1 else samples[0][1]
    last = samples[-1][1]
    table.notes.append(f"{summary.pages} pages ({summary.failed} failed) in {seconds:.0f} s; "
                       f"RSS {first:.0f} MiB after page {samples[1][0] if len(samples) > 1 else 0}"
                       f", {last:.0f} MiB after page {samples[-1][0]} "
                       f"({last - first:+.1f} MiB, {100 * (last - first) / first:+.1f}%), "
                       f"peak {max(rss for _, rss in samples):.0f} MiB")
    table.headlines.append([f"RSS growth over {count} pages", f"{last - first:+.1f} MiB",
                            "after the first sample", f"{last / first:.3f}x"])
    return table


def run(quick: bool, peers: Sequence[Callable[[], Contender]] = ()) -> list[Table]:
    """The batch tables; ``peers`` make contenders of other packages (each table gets
    fresh ones), compared in the throughput tables; the first is the reference."""
    pages_setting = os.environ.get("TIGHTBIND_BENCH_PAGES")
    count = int(pages_setting) if pages_setting else (2 if quick else 6)
    rounds = int(os.environ.get("TIGHTBIND_BENCH_ROUNDS") or (1 if quick else 3))
    rss_pages = int(os.environ.get("TIGHTBIND_BENCH_RSS_PAGES") or 0)
    os.environ["OMP_THREAD_LIMIT"] = "1"  # for the tesseract processes and Dask workers
    with tempfile.TemporaryDirectory(prefix="tightbind-bench-batch-") as folder_name:
        folder = Path(folder_name)
        if count == 0:  # --pages 0: only the RSS check
            return [_rss(rss_pages, folder)] if rss_pages else []
        given = os.environ.get("TIGHTBIND_BENCH_BATCH_PAGES")
        if given:
            pages = [(path, "") for path in sorted(Path(given).iterdir()) if path.is_file()]
        else:
            pages = render_pages(folder, count)
        strips = render_pages(folder, 8 if quick else 40, seed=3, size="strip")
        warm = [path for path, _ in strips[:WORKERS]]

        def throughput(title: str, pages: list[tuple[Path, str]], out: Path) -> Table:
            others = [make() for make in peers]
            return _throughput(title, pages, warm, [_Threads(), _Dask(), _Deadline(), *others],
                               rounds, out, reference=others[0] if others else None)

        tables = [throughput(f"batch: {len(pages)} A4 pages at 300 dpi", pages, folder / "a4"),
                  throughput(f"batch small pages: {len(strips)} strips of a few lines", strips,
                             folder / "strips")]
        if not given:
            tables.append(_settings(pages[:max(2, min(len(pages), 4))]))
        if rss_pages:
            tables.append(_rss(rss_pages, folder))
        return tables

